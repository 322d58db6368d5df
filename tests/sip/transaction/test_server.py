"""INVITE and non-INVITE server transactions over UDP and TCP, driven through the layer."""

from __future__ import annotations

import pytest

from softswitch.sip import Response, TransactionError
from softswitch.sip.destination import Destination
from softswitch.sip.transaction import (
    AckReceived,
    InviteServerState,
    NonInviteServerState,
    RequestReceived,
    StrayAck,
    TransactionLayer,
    TransactionTerminated,
    TransactionTimeout,
    TransportFailure,
)

from .helpers import CLIENT, parsed, request, response, run_timers, transmits

TCP_SOURCE = Destination("10.0.0.1", 40000, "TCP", connection_id=3)


def receive(method: str = "INVITE", source: Destination = CLIENT, **kwargs):
    layer = TransactionLayer()
    req = request(method, **kwargs)
    out = layer.receive_request(req, source, now=0.0)
    [event] = out
    assert isinstance(event, RequestReceived)
    assert event.request is req and event.source == source
    return layer, req, event.transaction_id


def transmit_times(events) -> list[float]:
    return [t for t, o in events if type(o).__name__ == "Transmit"]


# -- INVITE server -----------------------------------------------------------------------------
def test_invite_server_sends_100_trying_when_the_tu_is_silent_for_200_ms():
    layer, req, tid = receive()
    assert layer.next_deadline() == pytest.approx(0.2)
    assert layer.handle_timers(0.19) == []
    out = layer.handle_timers(0.2)
    [trying] = parsed(out)
    assert isinstance(trying, Response) and trying.status == 100
    assert trying.to.tag is None
    assert trying.call_id == req.call_id
    assert transmits(out)[0].destination == CLIENT
    assert layer.get(tid).state is InviteServerState.PROCEEDING
    assert layer.next_deadline() is None  # the TU must answer; nothing else runs


def test_invite_server_sends_no_100_when_the_tu_answered_in_time():
    layer, req, tid = receive()
    out = layer.send_response(tid, response(req, 180), now=0.1)
    assert [m.status for m in parsed(out)] == [180]
    assert layer.handle_timers(1.0) == []


def test_invite_retransmission_is_absorbed_and_answered_with_the_last_provisional():
    layer, req, tid = receive()
    assert layer.receive_request(req, CLIENT, now=0.1) == []  # nothing sent yet, nothing up
    ringing = response(req, 180)
    sent = transmits(layer.send_response(tid, ringing, now=0.3))
    again = layer.receive_request(req, CLIENT, now=0.5)
    assert [t.data for t in again] == [sent[0].data]
    assert len(layer) == 1


def test_invite_non_2xx_retransmits_on_timer_g_until_ack_then_timer_i():
    layer, req, tid = receive()
    busy = response(req, 486)
    first = transmits(layer.send_response(tid, busy, now=1.0))
    assert layer.get(tid).state is InviteServerState.COMPLETED
    events = run_timers(layer, until=9.0)
    # G doubles from T1 up to T2: +0.5, +1.5, +3.5, +7.5
    assert transmit_times(events) == [1.5, 2.5, 4.5, 8.5]
    assert {o.data for _, o in events} == {first[0].data}
    # A retransmitted INVITE is answered with the final response too.
    assert [t.data for t in layer.receive_request(req, CLIENT, now=9.1)] == [first[0].data]
    ack = request("ACK", to_tag="to1")
    assert layer.receive_request(ack, CLIENT, now=9.2) == []  # absorbed, not for the TU
    assert layer.get(tid).state is InviteServerState.CONFIRMED
    assert layer.receive_request(ack, CLIENT, now=9.3) == []
    assert layer.receive_request(req, CLIENT, now=9.4) == []
    events = run_timers(layer, until=20.0)
    assert events == [(pytest.approx(14.2), TransactionTerminated(tid))]  # Timer I = T4


def test_invite_non_2xx_times_out_on_timer_h_without_ack():
    layer, req, tid = receive()
    layer.send_response(tid, response(req, 500), now=1.0)
    events = run_timers(layer, until=100.0)
    assert transmit_times(events)[-1] < 33.0
    assert [(t, o) for t, o in events if not hasattr(o, "data")] == [
        (33.0, TransactionTimeout(tid)),
        (33.0, TransactionTerminated(tid)),
    ]


def test_invite_2xx_enters_accepted_absorbs_retransmissions_passes_ack_until_timer_l():
    layer, req, tid = receive()
    ok = response(req, 200)
    sent = transmits(layer.send_response(tid, ok, now=1.0))
    assert layer.get(tid).state is InviteServerState.ACCEPTED
    assert layer.receive_request(req, CLIENT, now=1.5) == []  # RFC 6026: absorbed, no resend
    assert run_timers(layer, until=30.0) == []  # the TU retransmits 2xx, not the transaction
    # The TU's own 2xx retransmission goes through; other responses are refused.
    assert [t.data for t in transmits(layer.send_response(tid, ok, now=2.0))] == [sent[0].data]
    with pytest.raises(TransactionError, match="SEND_FAILURE.*ACCEPTED"):
        layer.send_response(tid, response(req, 486), now=2.0)
    with pytest.raises(TransactionError, match="SEND_PROVISIONAL"):
        layer.send_response(tid, response(req, 180), now=2.0)
    ack = request("ACK", to_tag="to1")  # same branch: matches the transaction
    assert layer.receive_request(ack, CLIENT, now=2.5) == [AckReceived(tid, ack)]
    other = request("ACK", to_tag="to1", branch="z9hG4bK-new")  # new branch: 2xx ACK per 13.2.2.4
    assert layer.receive_request(other, CLIENT, now=2.6) == [StrayAck(other, CLIENT)]
    assert run_timers(layer, until=40.0) == [(33.0, TransactionTerminated(tid))]
    assert layer.receive_request(ack, CLIENT, now=41.0) == [StrayAck(ack, CLIENT)]


def test_invite_server_refuses_responses_after_the_final():
    layer, req, tid = receive()
    layer.send_response(tid, response(req, 404), now=0.1)
    for status in (180, 200, 486):
        with pytest.raises(TransactionError, match="COMPLETED"):
            layer.send_response(tid, response(req, status), now=0.2)
    assert layer.get(tid).state is InviteServerState.COMPLETED


def test_invite_server_over_tcp_answers_on_the_connection_without_timer_g():
    layer, req, tid = receive(source=TCP_SOURCE, transport="TCP")
    out = layer.send_response(tid, response(req, 486), now=0.1)
    assert transmits(out)[0].destination == TCP_SOURCE
    events = run_timers(layer, until=20.0)
    assert events == []  # no Timer G; Timer H still waits for the ACK
    assert layer.next_deadline() == pytest.approx(32.1)
    ack = request("ACK", to_tag="to1", transport="TCP")
    assert layer.receive_request(ack, TCP_SOURCE, now=21.0) == [TransactionTerminated(tid)]


def test_invite_server_over_tcp_times_out_on_timer_h():
    layer, req, tid = receive(source=TCP_SOURCE, transport="TCP")
    layer.send_response(tid, response(req, 486), now=0.0)
    assert [o for _, o in run_timers(layer, until=40.0)] == [
        TransactionTimeout(tid),
        TransactionTerminated(tid),
    ]


def test_invite_server_transport_error():
    layer, req, tid = receive()
    assert layer.transport_error(tid, now=0.1) == [
        TransportFailure(tid),
        TransactionTerminated(tid),
    ]
    with pytest.raises(TransactionError, match="No server transaction"):
        layer.send_response(tid, response(req, 200), now=0.2)


# -- non-INVITE server ---------------------------------------------------------------------------
def test_non_invite_trying_discards_retransmissions():
    layer, req, tid = receive("OPTIONS")
    assert layer.next_deadline() is None  # no 100 Trying for non-INVITE (17.2.2)
    assert layer.receive_request(req, CLIENT, now=0.5) == []
    assert layer.get(tid).state is NonInviteServerState.TRYING


def test_non_invite_proceeding_resends_the_last_provisional():
    layer, req, tid = receive("REGISTER")
    sent = transmits(layer.send_response(tid, response(req, 100), now=0.1))
    assert layer.get(tid).state is NonInviteServerState.PROCEEDING
    assert [t.data for t in layer.receive_request(req, CLIENT, now=0.5)] == [sent[0].data]


def test_non_invite_completed_resends_the_final_until_timer_j():
    layer, req, tid = receive("OPTIONS")
    sent = transmits(layer.send_response(tid, response(req, 200), now=1.0))
    assert layer.get(tid).state is NonInviteServerState.COMPLETED
    assert [t.data for t in layer.receive_request(req, CLIENT, now=2.0)] == [sent[0].data]
    with pytest.raises(TransactionError, match="SEND_FINAL.*COMPLETED"):
        layer.send_response(tid, response(req, 500), now=2.0)
    assert run_timers(layer, until=40.0) == [(33.0, TransactionTerminated(tid))]  # J = 64*T1
    assert len(layer) == 0
    # After Timer J the same request is new again.
    assert isinstance(layer.receive_request(req, CLIENT, now=41.0)[0], RequestReceived)


def test_non_invite_over_tcp_terminates_with_the_final_response():
    layer, req, tid = receive("BYE", source=TCP_SOURCE, transport="TCP")
    out = layer.send_response(tid, response(req, 200), now=0.1)
    assert transmits(out)[0].destination == TCP_SOURCE
    assert out[-1] == TransactionTerminated(tid)
    assert len(layer) == 0


def test_responses_follow_rport_and_via_port_over_udp():
    layer = TransactionLayer()
    source = Destination("192.0.2.9", 34567, "UDP")
    plain = request("OPTIONS", branch="z9hG4bK-p", via_port=5070)
    [event] = layer.receive_request(plain, source, now=0.0)
    out = layer.send_response(event.transaction_id, response(plain, 200), now=0.0)
    assert transmits(out)[0].destination == Destination("192.0.2.9", 5070, "UDP")
    nat = request("OPTIONS", branch="z9hG4bK-n")
    nat.headers.set("Via", "SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK-n;rport=34567")
    [event] = layer.receive_request(nat, source, now=0.0)
    out = layer.send_response(event.transaction_id, response(nat, 200), now=0.0)
    assert transmits(out)[0].destination == source
