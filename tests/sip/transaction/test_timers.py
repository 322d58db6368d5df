"""Timer values (RFC 3261 table 4, RFC 6026) and the layer's optional pre-parsed Via."""

from __future__ import annotations

import pytest

from softswitch.sip.destination import Destination
from softswitch.sip.transaction import RequestReceived, TimerSettings, TransactionLayer

from .helpers import CLIENT, SERVER, request, response, run_timers


def test_unreliable_timers_follow_rfc_3261_table_4():
    t = TimerSettings().derive(reliable=False)
    assert (t.T1, t.T2) == (0.5, 4.0)
    assert (t.A, t.E, t.G) == (0.5, 0.5, 0.5)
    assert (t.B, t.F, t.H, t.J, t.L, t.M) == (32.0,) * 6
    assert t.D == 32.0 and (t.I, t.K) == (5.0, 5.0)
    assert t.trying == 0.2 and t.cancel_guard == 32.0


def test_reliable_transports_skip_retransmissions_and_waits():
    t = TimerSettings().derive(reliable=True)
    assert (t.A, t.E, t.G) == (None, None, None)
    assert (t.D, t.I, t.J, t.K) == (0.0, 0.0, 0.0, 0.0)
    assert (t.B, t.F, t.H) == (32.0, 32.0, 32.0)  # timeouts still apply


def test_settings_scale_with_t1_and_t4():
    t = TimerSettings(t1=0.25, t2=2.0, t4=3.0).derive(reliable=False)
    assert (t.B, t.F, t.H, t.J) == (16.0, 16.0, 16.0, 16.0)
    assert (t.I, t.K, t.T2) == (3.0, 3.0, 2.0)


@pytest.mark.parametrize(
    "kwargs", [{"t1": 0}, {"t1": 5.0, "t2": 4.0}, {"t4": 0}, {"c": 0}, {"d": -1}]
)
def test_settings_refuse_nonsense(kwargs):
    with pytest.raises(ValueError):
        TimerSettings(**kwargs)


@pytest.mark.parametrize("transport", ["TCP", "TLS", "WS"])
def test_every_stream_transport_counts_as_reliable(transport):
    layer = TransactionLayer()
    layer.send_request(request("OPTIONS"), Destination("10.0.0.2", 5061, transport), now=0.0)
    assert layer.next_deadline() == 32.0  # only Timer F: no Timer E


def test_a_pre_parsed_via_gives_the_same_routing():
    layer = TransactionLayer()
    req = request("OPTIONS")
    [event] = layer.receive_request(req, CLIENT, now=0.0, via=req.top_via)
    assert isinstance(event, RequestReceived)
    layer.send_response(event.transaction_id, response(req, 200), now=0.0)
    assert len(layer.receive_request(req, CLIENT, now=0.1, via=req.top_via)) == 1  # resent
    client = TransactionLayer()
    tid, _ = client.send_request(req, SERVER, now=0.0)
    ok = response(req, 200)
    assert client.receive_response(ok, now=0.1, via=ok.top_via)[0].transaction_id == tid
    assert run_timers(client, until=10.0)[-1][1].transaction_id == tid
