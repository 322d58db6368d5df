"""Two layers over a fake lossy link: retransmission makes transactions survive packet loss."""

from __future__ import annotations

from softswitch.sip import Request, Response
from softswitch.sip.transaction import (
    AckReceived,
    InviteServerState,
    RequestReceived,
    ResponseReceived,
    TransactionLayer,
    TransactionTimeout,
)

from .helpers import SERVER, Network, of_type, request, response


def network(loss: list[bool]) -> Network:
    return Network(TransactionLayer(), TransactionLayer(), loss_pattern=loss)


def methods(net: Network) -> list[str]:
    return [m.method if isinstance(m, Request) else str(m.status) for m in net.delivered]


def test_invite_survives_loss_of_the_first_two_transmissions():
    net = network([True, True])
    invite = request("INVITE")
    _, out = net.client.send_request(invite, SERVER, now=0.0)
    net.feed(out, 0.0, from_client=True)
    net.advance(1.4)
    assert of_type(net.server_events, RequestReceived) == []
    net.advance(3.6)  # third transmission (Timer A at 1.5) gets through
    [received] = of_type(net.server_events, RequestReceived)
    assert received.request.method == "INVITE"
    assert methods(net)[:2] == ["INVITE", "100"]  # 100 Trying stops Timer A


def test_non_invite_request_and_response_loss_is_repaired_by_timer_e():
    # lost: OPTIONS, then (after retransmission) the 200; the next retransmission fetches it.
    net = network([True, False, True])
    options = request("OPTIONS")
    _tid, out = net.client.send_request(options, SERVER, now=0.0)
    net.feed(out, 0.0, from_client=True)
    net.advance(0.6)
    [received] = of_type(net.server_events, RequestReceived)
    out = net.server.send_response(received.transaction_id, response(received.request, 200), 0.6)
    net.feed(out, 0.6, from_client=False)
    net.advance(5.0)
    responses = of_type(net.client_events, ResponseReceived)
    assert [r.response.status for r in responses] == [200]
    assert len(of_type(net.server_events, RequestReceived)) == 1  # retransmissions absorbed
    assert methods(net) == ["OPTIONS", "OPTIONS", "200"]


def test_lost_ack_is_repaired_by_timer_g_and_a_resent_ack():
    net = network([False, False, True])  # INVITE, 486 arrive; the ACK is lost
    invite = request("INVITE")
    _tid, out = net.client.send_request(invite, SERVER, now=0.0)
    net.feed(out, 0.0, from_client=True)
    [received] = of_type(net.server_events, RequestReceived)
    out = net.server.send_response(received.transaction_id, response(invite, 486), now=0.1)
    net.feed(out, 0.1, from_client=False)
    assert net.server.get(received.transaction_id).state is InviteServerState.COMPLETED
    net.advance(0.7)  # Timer G resends 486; the client ACKs again
    assert net.server.get(received.transaction_id).state is InviteServerState.CONFIRMED
    assert methods(net) == ["INVITE", "486", "486", "ACK"]
    assert [r.response.status for r in of_type(net.client_events, ResponseReceived)] == [486]
    net.advance(100.0)
    assert len(net.client) == 0 and len(net.server) == 0
    assert of_type(net.client_events + net.server_events, TransactionTimeout) == []


def test_lost_2xx_is_the_tus_to_retransmit_and_acks_reach_the_server_tu():
    net = network([False, True])  # the 200 is lost
    invite = request("INVITE")
    _, out = net.client.send_request(invite, SERVER, now=0.0)
    net.feed(out, 0.0, from_client=True)
    [received] = of_type(net.server_events, RequestReceived)
    ok = response(invite, 200)
    net.feed(net.server.send_response(received.transaction_id, ok, now=0.1), 0.1, False)
    net.advance(0.6)  # the client retransmits the INVITE; the server absorbs it silently
    assert methods(net) == ["INVITE", "INVITE"]
    net.feed(net.server.send_response(received.transaction_id, ok, now=0.6), 0.6, False)
    assert [r.response.status for r in of_type(net.client_events, ResponseReceived)] == [200]
    # The client TU ACKs with the INVITE's branch; the server passes it up (RFC 6026).
    ack = request("ACK", to_tag="to1")
    result = net.server.receive_request(ack, SERVER, now=0.7)
    assert result == [AckReceived(received.transaction_id, ack)]
    assert isinstance(net.delivered[-1], Response)
