"""Layer duties: the CANCEL helper (9.1), the deadline heap, forgetting terminated ones."""

from __future__ import annotations

import pytest

from softswitch.sip import Request, TransactionError
from softswitch.sip.transaction import (
    InviteClientState,
    ResponseReceived,
    TransactionLayer,
    TransactionTerminated,
    TransactionTimeout,
    build_cancel,
)

from .helpers import CLIENT, SERVER, parsed, request, response, run_timers, transmits


def calling(**kwargs):
    layer = TransactionLayer()
    invite = request("INVITE", routes=["<sip:proxy.example.com;lr>"], **kwargs)
    tid, _ = layer.send_request(invite, SERVER, now=0.0)
    return layer, invite, tid


def test_build_cancel_copies_the_invite_per_9_1():
    invite = request("INVITE", routes=["<sip:proxy.example.com;lr>"], cseq=7)
    cancel = build_cancel(invite)
    assert cancel.method == "CANCEL" and str(cancel.uri) == str(invite.uri)
    assert cancel.headers.get_list("via") == invite.headers.get_list("via")[:1]
    for name in ("from", "to", "call-id"):
        assert cancel.headers.get(name) == invite.headers.get(name)
    assert (cancel.cseq.number, cancel.cseq.method) == (7, "CANCEL")
    assert cancel.headers.get_all("route") == invite.headers.get_all("route")


def test_cancel_in_proceeding_sends_cancel_to_the_invite_destination():
    layer, invite, tid = calling()
    layer.receive_response(response(invite, 180), now=0.1)
    cancel_id, out = layer.cancel(tid, now=1.0)
    [sent] = transmits(out)
    [cancel] = parsed(out)
    assert isinstance(cancel, Request) and cancel.method == "CANCEL"
    assert sent.destination == SERVER and sent.transaction_id == cancel_id
    assert layer.get(cancel_id) is not None and len(layer) == 2
    # Cancelling again is idempotent while the CANCEL runs.
    assert layer.cancel(tid, now=1.1) == (cancel_id, [])


def test_cancel_in_calling_waits_for_a_provisional():
    layer, invite, tid = calling()
    assert layer.cancel(tid, now=0.1) == (None, [])
    assert layer.get(tid).cancel_pending
    ringing = response(invite, 180)
    out = layer.receive_response(ringing, now=0.3)
    assert out[0] == ResponseReceived(tid, ringing)
    [cancel] = parsed(out)
    assert cancel.method == "CANCEL"
    assert not layer.get(tid).cancel_pending


def test_cancel_after_a_final_response_does_nothing():
    layer, invite, tid = calling()
    layer.receive_response(response(invite, 486), now=0.1)
    assert layer.cancel(tid, now=0.2) == (None, [])
    assert len(layer) == 1


def test_cancelled_invite_without_final_gives_up_after_64_t1():
    layer, invite, tid = calling()
    layer.receive_response(response(invite, 180), now=0.1)
    _cancel_id, _ = layer.cancel(tid, now=10.0)
    layer.receive_response(response(build_cancel(invite), 200), now=10.1)
    events = [(t, o) for t, o in run_timers(layer, until=100.0) if o.transaction_id == tid]
    assert events == [(42.0, TransactionTimeout(tid)), (42.0, TransactionTerminated(tid))]


def test_cancel_needs_an_invite_client_transaction():
    layer = TransactionLayer()
    tid, _ = layer.send_request(request("OPTIONS"), SERVER, now=0.0)
    with pytest.raises(TransactionError, match="No INVITE client transaction"):
        layer.cancel(tid, now=0.1)
    with pytest.raises(TransactionError):
        layer.cancel(999, now=0.1)


def test_send_response_needs_a_server_transaction():
    layer = TransactionLayer()
    invite = request()
    tid, _ = layer.send_request(invite, SERVER, now=0.0)
    with pytest.raises(TransactionError, match="No server transaction"):
        layer.send_response(tid, response(invite, 200), now=0.1)


def test_deadline_heap_orders_many_transactions_and_skips_stale_entries():
    layer = TransactionLayer()
    ids = []
    for n in range(300):
        tid, _ = layer.send_request(request("OPTIONS", branch=f"z9hG4bK-{n}"), SERVER, now=n * 0.01)
        ids.append(tid)
    assert layer.next_deadline() == pytest.approx(0.5)
    # Completing half of them moves their deadline to Timer K; their old entries go stale.
    for n in range(0, 300, 2):
        layer.receive_response(response(request("OPTIONS", branch=f"z9hG4bK-{n}"), 200), 0.45)
    assert layer.next_deadline() == pytest.approx(0.51)  # the first odd one's Timer E
    assert len(layer) == 300
    events = run_timers(layer, until=200.0)
    terminated = [o.transaction_id for _, o in events if isinstance(o, TransactionTerminated)]
    assert sorted(terminated) == sorted(ids)
    timeouts = {o.transaction_id for _, o in events if isinstance(o, TransactionTimeout)}
    assert timeouts == set(ids[1::2])
    assert len(layer) == 0 and layer.next_deadline() is None


def test_handle_timers_before_any_deadline_does_nothing():
    layer, _invite, tid = calling()
    assert layer.handle_timers(0.4) == []
    assert layer.get(tid).state is InviteClientState.CALLING
    assert len(transmits(layer.handle_timers(0.5))) == 1


def test_terminated_server_transactions_are_forgotten_and_keys_freed():
    layer = TransactionLayer()
    req = request("OPTIONS")
    [event] = layer.receive_request(req, CLIENT, now=0.0)
    layer.send_response(event.transaction_id, response(req, 200), now=0.0)
    assert len(layer) == 1
    run_timers(layer, until=40.0)
    assert len(layer) == 0 and layer.get(event.transaction_id) is None


def test_absorb_retransmission_resends_the_last_response_without_the_request():
    layer = TransactionLayer()
    register = request("REGISTER", via_host="Phone.Example.com")
    [received] = layer.receive_request(register, CLIENT, now=0.0)
    key = ("z9hG4bK-abc1", "phone.example.com", 5060, "REGISTER")
    assert layer.absorb_retransmission(key, now=0.1) == []  # Trying: absorbed silently
    layer.send_response(received.transaction_id, response(register, 401), now=0.2)
    [again] = parsed(layer.absorb_retransmission(key, now=0.3))
    assert again.status == 401
    assert layer.absorb_retransmission(("z9hG4bK-other", "phone.example.com", 5060, "REGISTER"),
                                       now=0.3) is None
