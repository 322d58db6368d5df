"""Qualify decisions with a fake clock: what is due, what proves a phone reachable."""

from __future__ import annotations

from softswitch.sip import Headers, Response
from softswitch.store import Binding
from softswitch.switch.location import destination_of
from softswitch.switch.qualify import is_due, options_for, proves_reachable

BINDING = Binding(
    aor="1001", contact="sip:1001@10.0.0.5:5062", expires_at=5000.0, call_id="c", cseq=1,
    source_host="203.0.113.9", source_port=40000, transport="UDP", last_seen=1000.0,
    path=("<sip:edge.example;lr>",),
)


def test_a_binding_heard_from_recently_is_not_probed() -> None:
    assert not is_due(BINDING, now=1029.0, interval=30.0)
    assert is_due(BINDING, now=1030.0, interval=30.0)


def test_only_a_response_from_the_network_proves_reachability() -> None:
    assert proves_reachable(Response(404, headers=Headers.from_pairs([("Via", "SIP/2.0/UDP x")])))
    assert not proves_reachable(Response(408, "Request Timeout"))


def test_options_go_to_the_nat_source_through_the_path() -> None:
    request = options_for(BINDING, ("192.0.2.1", 5060), "softswitch/test")
    assert str(request.uri) == "sip:1001@10.0.0.5:5062"
    assert request.headers.get_all("route") == ["<sip:edge.example;lr>"]
    assert request.top_via.branch is not None and request.top_via.branch.startswith("z9hG4bK")
    assert "rport" in request.top_via.params
    assert destination_of(BINDING) == ("203.0.113.9", 40000, "UDP", None)
