"""Hypothesis: whole exchanges between two layers over a link with a random loss pattern.

Whatever is lost, the request reaches the server TU at most once, the client TU sees at most one
final response (INVITE: one per distinct retransmission of a 2xx is allowed in Accepted) or a
timeout, and both layers end empty once time runs past the longest timer.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from softswitch.sip.transaction import (
    RequestReceived,
    ResponseReceived,
    TransactionLayer,
    TransactionTimeout,
)

from .helpers import SERVER, Network, of_type, request, response


@settings(max_examples=60, deadline=None)
@given(
    loss=st.lists(st.booleans(), max_size=14),
    method=st.sampled_from(["INVITE", "OPTIONS"]),
    status=st.sampled_from([200, 486]),
    delay=st.floats(0.0, 3.0),
)
def test_exchange_survives_any_loss_pattern(loss, method, status, delay):
    net = Network(TransactionLayer(), TransactionLayer(), loss_pattern=loss)
    req = request(method)
    tid, out = net.client.send_request(req, SERVER, now=0.0)
    net.feed(out, 0.0, from_client=True)
    answered_at: float | None = None
    now = 0.0
    for _ in range(2000):
        received = of_type(net.server_events, RequestReceived)
        candidates = [d for d in (net.client.next_deadline(), net.server.next_deadline()) if d]
        if received and answered_at is None:
            answer_time = max(now, delay)
            if not candidates or answer_time <= min(candidates):
                now = answer_time
                answered_at = now
                server_id = received[0].transaction_id
                net.feed(
                    net.server.send_response(server_id, response(req, status), now), now, False
                )
                continue
        if not candidates:
            break
        now = min(candidates)
        net.advance(now)
    assert len(net.client) == 0 and len(net.server) == 0
    assert len(of_type(net.server_events, RequestReceived)) <= 1
    finals = [e for e in of_type(net.client_events, ResponseReceived) if e.response.status >= 200]
    timeouts = of_type(net.client_events, TransactionTimeout)
    assert all(e.transaction_id == tid for e in finals)
    if method == "OPTIONS" or status != 200:
        assert len(finals) <= 1  # retransmitted finals are absorbed (ACK resent for INVITE)
    assert bool(finals) != bool([t for t in timeouts if t.transaction_id == tid])
    if not any(loss):
        assert finals and finals[0].response.status == status
