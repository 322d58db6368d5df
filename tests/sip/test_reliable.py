"""RFC 3262 bookkeeping on a fake clock: RSeq, retransmission, PRACK matching, give-up."""

from __future__ import annotations

import pytest

from softswitch.sip import RemoteProtocolError, Request, Response
from softswitch.sip.dialog import Dialog
from softswitch.sip.reliable import RackMismatch, ReliableProvisionals, prack_for, requires_100rel

from .dialog_helpers import BOB_CONTACT, as_response, early_pair, invite


def _prack(rack: str) -> Request:
    pair = early_pair()
    return pair.alice.create_request("PRACK", headers=[("RAck", rack)])


def _reliable_183(uas: Dialog, inv: Request, rseq: int) -> Response:
    return as_response(uas.make_response(inv, 183, headers=[
        ("Require", "100rel"), ("RSeq", str(rseq))]))


def test_reliable_18x_is_resent_at_doubling_intervals_until_pracked() -> None:
    inv = invite()
    state = ReliableProvisionals(inv, t1=0.5)
    headers = dict(state.headers())
    assert headers["Require"] == "100rel"
    rseq = int(headers["RSeq"])
    assert 1 <= rseq < 2**31
    response = Response(183)
    state.sent(response, now=10.0)
    assert state.busy and state.next_deadline() == 10.5
    assert state.due(10.4) is None
    assert state.due(10.5) is response and state.next_deadline() == 11.5
    assert state.due(11.5) is response and state.next_deadline() == 13.5
    with pytest.raises(RackMismatch):
        state.prack(_prack(f"{rseq + 1} 1 INVITE"))  # not the one outstanding
    with pytest.raises(RackMismatch):
        state.prack(_prack(f"{rseq} 2 INVITE"))  # another INVITE's
    state.prack(_prack(f"{rseq} 1 INVITE"))
    assert not state.busy and state.next_deadline() is None
    with pytest.raises(RackMismatch):
        state.prack(_prack(f"{rseq} 1 INVITE"))  # twice: nothing outstanding any more
    assert dict(state.headers())["RSeq"] == str(rseq + 1)


def test_unacknowledged_18x_gives_up_after_64_t1_and_a_final_response_stops_it() -> None:
    state = ReliableProvisionals(invite(), t1=0.5)
    state.sent(Response(180), now=0.0)
    with pytest.raises(TimeoutError):
        state.due(32.0)
    assert not state.busy
    state.sent(Response(180), now=40.0)
    state.final_sent()
    assert state.due(100.0) is None


def test_malformed_rack_is_a_400() -> None:
    state = ReliableProvisionals(invite())
    state.sent(Response(180), now=0.0)
    with pytest.raises(RemoteProtocolError) as error:
        state.prack(_prack("one 1 INVITE"))
    assert error.value.status == 400


def test_uac_pracks_each_new_reliable_18x_once_in_order() -> None:
    inv = invite()
    uas = Dialog.as_uas(inv, "btag", BOB_CONTACT)
    first = _reliable_183(uas, inv, 7)
    assert requires_100rel(first)
    assert prack_for(first, None) == (7, "7 1 INVITE")
    assert prack_for(first, 7) is None  # a retransmission
    assert prack_for(_reliable_183(uas, inv, 9), 7) is None  # out of order
    assert prack_for(_reliable_183(uas, inv, 8), 7) == (8, "8 1 INVITE")
    plain = as_response(uas.make_response(inv, 180))
    assert not requires_100rel(plain) and prack_for(plain, None) is None
