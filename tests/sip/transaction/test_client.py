"""INVITE and non-INVITE client transactions over UDP and TCP, driven through the layer."""

from __future__ import annotations

import pytest

from softswitch.sip import Request, Response
from softswitch.sip.destination import Destination
from softswitch.sip.transaction import (
    InviteClientState,
    NonInviteClientState,
    ResponseReceived,
    StrayResponse,
    TimerSettings,
    TransactionLayer,
    TransactionTerminated,
    TransactionTimeout,
    TransportFailure,
)

from .helpers import SERVER, of_type, parsed, request, response, run_timers, transmits, wire

TCP = Destination("10.0.0.2", 5060, "TCP", connection_id=7)


def start(method: str = "INVITE", destination: Destination = SERVER, **kwargs):
    layer = TransactionLayer()
    req = request(method, **kwargs)
    tid, out = layer.send_request(req, destination, now=0.0)
    return layer, req, tid, out


def transmit_times(events) -> list[float]:
    return [t for t, o in events if type(o).__name__ == "Transmit"]


# -- INVITE client -----------------------------------------------------------------------------
def test_invite_is_sent_once_serialized_to_the_destination():
    layer, req, tid, out = start()
    [sent] = transmits(out)
    assert sent.destination == SERVER
    assert sent.transaction_id == tid
    assert sent.data == req.serialize()
    assert layer.get(tid).state is InviteClientState.CALLING
    assert len(layer) == 1


def test_invite_retransmits_on_timer_a_until_timer_b():
    layer, req, tid, _out = start()
    events = run_timers(layer, until=100.0)
    # Timer A doubles from T1 without a cap: 0.5, 1.5, 3.5, 7.5, 15.5, 31.5; Timer B at 32.
    assert transmit_times(events) == [0.5, 1.5, 3.5, 7.5, 15.5, 31.5]
    assert all(o.data == req.serialize() for _, o in events if hasattr(o, "data"))
    tail = [(t, o) for t, o in events if not hasattr(o, "data")]
    assert tail == [(32.0, TransactionTimeout(tid)), (32.0, TransactionTerminated(tid))]
    assert len(layer) == 0
    assert layer.next_deadline() is None


def test_invite_timers_follow_configured_t1():
    layer = TransactionLayer(TimerSettings(t1=0.1))
    layer.send_request(request(), SERVER, now=10.0)
    events = run_timers(layer, until=100.0)
    assert transmit_times(events) == pytest.approx([10.1, 10.3, 10.7, 11.5, 13.1, 16.3])
    assert events[-1][0] == pytest.approx(10.0 + 64 * 0.1)


def test_invite_provisional_stops_retransmissions_and_timer_b():
    layer, req, tid, _ = start()
    ringing = response(req, 180)
    out = layer.receive_response(ringing, now=0.2)
    assert out == [ResponseReceived(tid, ringing)]
    assert layer.get(tid).state is InviteClientState.PROCEEDING
    # Nothing is retransmitted, and Timer B no longer applies; Timer C (180 s) bounds the wait.
    assert layer.next_deadline() == pytest.approx(180.2)
    assert run_timers(layer, until=100.0) == []
    events = run_timers(layer, until=200.0)
    assert [o for _, o in events] == [TransactionTimeout(tid), TransactionTerminated(tid)]


def test_invite_non_2xx_is_acked_per_17_1_1_3():
    layer, req, tid, _ = start(routes=["<sip:p1.example.com;lr>", "<sip:p2.example.com;lr>"])
    busy = wire(response(req, 486, to_tag="uas-tag"))
    out = layer.receive_response(busy, now=1.0)
    [ack] = parsed(out)
    assert of_type(out, ResponseReceived) == [ResponseReceived(tid, busy)]
    assert transmits(out)[0].destination == SERVER
    assert isinstance(ack, Request) and ack.method == "ACK"
    assert str(ack.uri) == str(req.uri)
    assert ack.call_id == req.call_id
    assert ack.headers.get("from") == req.headers.get("from")
    assert ack.to.tag == "uas-tag"
    assert (ack.cseq.number, ack.cseq.method) == (1, "ACK")
    assert ack.headers.get_list("via") == req.headers.get_list("via")[:1]
    assert ack.headers.get_all("route") == req.headers.get_all("route")
    assert ack.body == b""
    assert layer.get(tid).state is InviteClientState.COMPLETED


def test_invite_completed_resends_ack_for_each_final_retransmission_then_timer_d():
    layer, req, tid, _ = start()
    busy = response(req, 486)
    first = transmits(layer.receive_response(busy, now=1.0))
    again = layer.receive_response(busy, now=2.0)
    assert [t.data for t in transmits(again)] == [first[0].data]
    assert of_type(again, ResponseReceived) == []  # absorbed, not passed up twice
    assert layer.next_deadline() == pytest.approx(33.0)  # Timer D = 32 s over UDP
    events = run_timers(layer, until=40.0)
    assert [o for _, o in events] == [TransactionTerminated(tid)]
    assert of_type(layer.receive_response(busy, now=41.0), StrayResponse)


def test_invite_2xx_enters_accepted_and_passes_every_2xx_up_until_timer_m():
    layer, req, tid, _ = start()
    ok = response(req, 200)
    assert layer.receive_response(ok, now=1.0) == [ResponseReceived(tid, ok)]
    assert layer.get(tid).state is InviteClientState.ACCEPTED
    # The TU ACKs 2xx itself: the transaction sends nothing, but retransmissions reach the TU.
    assert layer.receive_response(ok, now=1.5) == [ResponseReceived(tid, ok)]
    assert layer.receive_response(response(req, 180), now=1.6) == []
    assert layer.next_deadline() == pytest.approx(33.0)  # Timer M = 64*T1
    assert [o for _, o in run_timers(layer, until=40.0)] == [TransactionTerminated(tid)]
    assert layer.receive_response(ok, now=41.0) == [StrayResponse(ok)]


def test_invite_over_tcp_never_retransmits_but_still_times_out():
    layer, _req, tid, out = start(destination=TCP, transport="TCP")
    assert transmits(out)[0].destination == TCP
    events = run_timers(layer, until=100.0)
    assert [(t, o) for t, o in events] == [
        (32.0, TransactionTimeout(tid)),
        (32.0, TransactionTerminated(tid)),
    ]


def test_invite_over_tcp_terminates_right_after_acking_a_failure():
    layer, req, _tid, _ = start(destination=TCP, transport="TCP")
    out = layer.receive_response(response(req, 603), now=1.0)
    assert [type(o).__name__ for o in out] == [
        "Transmit",
        "ResponseReceived",
        "TransactionTerminated",
    ]
    assert len(layer) == 0


def test_invite_transport_error_informs_the_tu_and_terminates():
    layer, _req, tid, _ = start()
    assert layer.transport_error(tid, now=0.1) == [
        TransportFailure(tid),
        TransactionTerminated(tid),
    ]
    assert len(layer) == 0
    assert layer.transport_error(tid, now=0.2) == []


# -- non-INVITE client -------------------------------------------------------------------------
def test_non_invite_retransmits_with_backoff_capped_at_t2_until_timer_f():
    layer, _req, tid, _ = start("OPTIONS")
    events = run_timers(layer, until=100.0)
    assert transmit_times(events) == [0.5, 1.5, 3.5, 7.5, 11.5, 15.5, 19.5, 23.5, 27.5, 31.5]
    assert [o for t, o in events if t == 32.0] == [
        TransactionTimeout(tid),
        TransactionTerminated(tid),
    ]


def test_non_invite_proceeding_retransmits_every_t2():
    layer, req, tid, _ = start("REGISTER")
    trying = response(req, 100)
    assert layer.receive_response(trying, now=0.2) == [ResponseReceived(tid, trying)]
    assert layer.get(tid).state is NonInviteClientState.PROCEEDING
    events = run_timers(layer, until=20.0)
    assert transmit_times(events) == [0.5, 4.5, 8.5, 12.5, 16.5]


def test_non_invite_final_completes_absorbs_retransmissions_then_timer_k():
    layer, req, tid, _ = start("OPTIONS")
    ok = response(req, 200)
    assert layer.receive_response(ok, now=0.7) == [ResponseReceived(tid, ok)]
    assert layer.get(tid).state is NonInviteClientState.COMPLETED
    assert layer.receive_response(ok, now=1.0) == []
    assert layer.receive_response(response(req, 100), now=1.0) == []
    assert layer.next_deadline() == pytest.approx(5.7)  # Timer K = T4
    assert [o for _, o in run_timers(layer, until=10.0)] == [TransactionTerminated(tid)]


def test_non_invite_over_tcp_terminates_with_the_final_response():
    layer, req, tid, _ = start("BYE", destination=TCP, transport="TCP")
    assert run_timers(layer, until=31.0) == []
    ok = response(req, 200)
    assert layer.receive_response(ok, now=2.0) == [
        ResponseReceived(tid, ok),
        TransactionTerminated(tid),
    ]
    assert len(layer) == 0


def test_non_invite_over_tcp_times_out_on_timer_f():
    layer, _req, tid, _ = start("BYE", destination=TCP, transport="TCP")
    assert [o for _, o in run_timers(layer, until=40.0)] == [
        TransactionTimeout(tid),
        TransactionTerminated(tid),
    ]


# -- TU errors -----------------------------------------------------------------------------------
def test_ack_has_no_client_transaction():
    from softswitch.sip import TransactionError

    with pytest.raises(TransactionError, match="ACK"):
        TransactionLayer().send_request(request("ACK"), SERVER, now=0.0)


def test_request_without_magic_cookie_branch_is_refused():
    from softswitch.sip import LocalProtocolError

    with pytest.raises(LocalProtocolError, match="z9hG4bK"):
        TransactionLayer().send_request(request(branch="1234"), SERVER, now=0.0)
    with pytest.raises(LocalProtocolError, match="z9hG4bK"):
        TransactionLayer().send_request(request(branch=None), SERVER, now=0.0)


def test_request_with_mismatched_cseq_method_is_refused():
    from softswitch.sip import LocalProtocolError

    with pytest.raises(LocalProtocolError, match="CSeq"):
        TransactionLayer().send_request(request(cseq_method="BYE"), SERVER, now=0.0)


def test_duplicate_branch_and_method_is_refused():
    from softswitch.sip import TransactionError

    layer = TransactionLayer()
    layer.send_request(request(), SERVER, now=0.0)
    with pytest.raises(TransactionError, match="exists"):
        layer.send_request(request(), SERVER, now=0.0)


def test_response_with_unparseable_via_is_dropped():
    layer, _req, _tid, _ = start()
    broken = Response(200)
    broken.headers.add("Via", "garbage")
    broken.headers.add("CSeq", "1 INVITE")
    assert layer.receive_response(broken, now=0.1) == []
