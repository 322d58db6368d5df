"""The torture corpus (RFC 4475's cases, recreated) through the receive path a transport uses.

Every `torture/<name>.sip` file is one message; `torture/manifest.toml` says what must happen to
it. The same corpus seeds the atheris fuzzer (tests/fuzz/).
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from softswitch.metrics import SwitchMetrics
from softswitch.sip import Request, Response, SipURI, parse_message
from softswitch.sip.destination import Destination
from softswitch.sip.inbound import InboundFilter, Reply
from tests.sip.receive import (
    LOCAL_SENT_BY,
    MAX_DATAGRAM,
    SUPPORTED,
    Outcome,
    receive,
    same_fields,
)

CORPUS = Path(__file__).parent / "torture"
MANIFEST: dict[str, dict[str, Any]] = tomllib.loads((CORPUS / "manifest.toml").read_text())


def load(name: str) -> bytes:
    return (CORPUS / f"{name}.sip").read_bytes()


def run(name: str) -> Outcome:
    return receive(load(name), max_size=MANIFEST[name].get("max_size", MAX_DATAGRAM))


def accepted_request(name: str) -> Request:
    outcome = run(name)
    assert outcome.kind == "accept", outcome.reason
    assert isinstance(outcome.message, Request)
    return outcome.message


def test_manifest_and_corpus_list_the_same_cases() -> None:
    assert {p.stem for p in CORPUS.glob("*.sip")} == set(MANIFEST)
    for name, case in MANIFEST.items():
        assert case["outcome"] in ("accept", "reply", "drop"), name
        assert ("status" in case) == (case["outcome"] == "reply"), name


@pytest.mark.parametrize("name", sorted(MANIFEST))
def test_case_has_its_expected_outcome(name: str) -> None:
    case = MANIFEST[name]
    outcome = run(name)
    assert outcome.kind == case["outcome"], outcome.reason
    if outcome.kind == "reply":
        assert outcome.status == case["status"]
        for word in case.get("reason", []):
            assert word.lower() in outcome.reason.lower(), outcome.reason
        assert_reply_answers_the_request(outcome, load(name), case)
    if outcome.kind == "accept":
        assert_reserialized_message_is_equivalent(outcome)


def assert_reply_answers_the_request(outcome: Outcome, data: bytes, case: dict[str, Any]) -> None:
    """The reply is a well-formed response that a client transaction would match."""
    reply = parse_message(outcome.wire)
    assert isinstance(reply, Response)
    assert reply.status == case["status"]
    assert reply.reason == outcome.reason
    sent = data.split(b"\r\n\r\n", 1)[0].decode("utf-8", "surrogateescape").split("\r\n")
    top_via = next(line for line in sent if line.lower().startswith(("via:", "v:")))
    assert reply.headers.get("via") == top_via.split(":", 1)[1].strip().split(",")[0].strip()
    assert ";tag=" in (reply.headers.get("to") or "")  # text check: To itself may be the error
    if "unsupported" in case:
        listed = [tag.strip() for tag in reply.headers.get_list("unsupported")]
        assert listed == case["unsupported"]


def assert_reserialized_message_is_equivalent(outcome: Outcome) -> None:
    again = parse_message(outcome.wire)
    original = outcome.message
    assert type(again) is type(original)
    assert same_fields(again.headers, original.headers)  # type: ignore[union-attr]
    assert again.body == original.body  # type: ignore[union-attr]
    assert again.serialize() == outcome.wire


@pytest.mark.parametrize("name", sorted(MANIFEST))
def test_inbound_filter_agrees_with_the_manifest(name: str) -> None:
    """The transports' real filter reaches the same verdict as the mirror in receive.py."""
    case = MANIFEST[name]
    flt = InboundFilter(
        SwitchMetrics(),
        supported=SUPPORTED,
        local_sent_by=LOCAL_SENT_BY,
        max_udp_bytes=case.get("max_size", MAX_DATAGRAM),
    )
    result = flt.accept(load(name), Destination("192.0.2.250", 5060, "UDP"))
    if case["outcome"] == "drop":
        assert result is None
    elif case["outcome"] == "accept":
        assert isinstance(result, (Request, Response))
    else:
        assert isinstance(result, Reply)
        reply = parse_message(result.data)
        assert isinstance(reply, Response) and reply.status == case["status"]


# -- what the valid messages must parse to, not only that they parse --------------------------


def test_tortuous_invite_unfolds_and_trims_every_field() -> None:
    req = accepted_request("wsinv")
    assert req.method == "INVITE"
    assert isinstance(req.uri, SipURI) and req.uri.params == {"unknownparam": None}
    assert req.from_.display_name == 'Desk 7 \\"'
    assert req.from_.tag == "5Kq9a"
    assert req.to.tag == "88711z"
    assert (req.cseq.number, req.cseq.method) == (12, "INVITE")
    assert req.headers.get("max-forwards") == "0069"
    assert [(v.transport, v.host, v.branch) for v in req.vias] == [
        ("UDP", "192.0.2.10", "z9hG4bKwsinv1a"),
        ("TCP", "relay.clinic.example.com", "z9hG4bKwsinv2b"),
        ("UDP", "198.51.100.77", "z9hG4bKwsinv3c"),
    ]
    (contact,) = req.contacts
    assert contact.display_name == 'Quoted string ""'
    assert contact.params == {"newparam": "newvalue", "secondparam": None, "q": "0.33"}
    assert req.headers.get("subject") == ""
    assert req.headers.get("newfangledheader") == "first part of a value continued on the next line"
    assert req.headers.get("unknownheaderwithunusualvalue") == ";;,,;;,;"
    assert len(req.body) == int(req.headers.get("content-length") or "")


def test_wide_character_ranges_survive_parsing() -> None:
    req = accepted_request("intmeth")
    assert req.method == "!interesting-Method0123456789_*+`.%indeed'~"
    assert isinstance(req.uri, SipURI)
    assert req.uri.user == "1_odd.USER~(really!)&is't+it$/fine?,/;"
    assert req.uri.password == "&and+pass=1,odd!*chars$~ok_.(yes)"
    assert req.uri.host == "ward7.example.org" and req.uri.headers == ""
    assert req.to.display_name == "BEL:\x07 NUL:\x00 DEL:\x7f"
    assert req.from_.display_name == "token1~` token2'+_ token3*%!.-"
    assert req.from_.tag == "_tag~1'+`*%!-."
    assert req.from_.params["fromparam''~+*_!.-%"] == '"\\"ward\\" \\\\ value"'
    assert req.headers.get("extensionHeader-!.%*+_`'~") == "\ufeff病院の受付 réception"


def test_escapes_are_kept_as_received() -> None:
    req = accepted_request("esc01")
    assert isinstance(req.uri, SipURI) and req.uri.user == "sips%3Aclerk%40ward7.example.org"
    assert str(req.from_.uri) == "sip:I%20have%20spaces@ward7.example.org"
    nulls = accepted_request("escnull")
    assert [str(c.uri) for c in nulls.contacts] == [
        "sip:%00@host6.ward7.example.org",
        "sip:%00%00@host6.ward7.example.org",
    ]


def test_percent_that_is_not_an_escape_stays_literal() -> None:
    req = accepted_request("esc02")
    assert req.method == "RE%47IST%45R" != "REGISTER"
    assert req.to.display_name == "%Z%45"
    assert req.headers.get_all("contact") == ["<sip:porter@host7.ward7.example.org>"]
    assert req.headers.get("C%6Fntact") == "<sip:porter@host8.ward7.example.org>"


def test_display_name_may_touch_the_angle_bracket() -> None:
    assert accepted_request("lwsdisp").from_.display_name == "caller"


def test_long_values_and_many_hops_are_kept_whole() -> None:
    req = accepted_request("longreq")
    assert len(req.vias) == 60
    assert req.vias[59].port == 5059
    assert req.to.tag == "longvalue" * 40
    assert len(req.headers.get("x-long-header") or "") == 9 * 40 * 5


def test_octets_after_content_length_are_ignored() -> None:
    req = accepted_request("dblreq")
    assert req.method == "REGISTER"
    assert req.body == b""
    assert b"INVITE" not in req.serialize()


def test_semicolon_in_user_part_is_not_a_uri_parameter() -> None:
    uri = accepted_request("semiuri").uri
    assert isinstance(uri, SipURI)
    assert uri.user == "clerk;par=u%40ward7.example.org"
    assert (uri.host, uri.params) == ("clinic.example.com", {})


def test_unknown_transports_parse() -> None:
    vias = accepted_request("transports").vias
    assert [v.transport for v in vias] == ["SCTP", "TLS", "UNKNOWN", "TCP"]


def test_multipart_body_is_kept_byte_for_byte() -> None:
    req = accepted_request("mpart01")
    assert bytes(range(256)) in req.body
    assert req.body.endswith(b"--ward7-boundary--\r\n")
    assert req.content_type == "multipart/mixed"


def test_unusual_and_empty_reason_phrases() -> None:
    unusual = run("unreason").message
    assert isinstance(unusual, Response)
    assert unusual.reason == "Да, готово = 3**2 · 7 ✓ ¿vale? 好的 😀"
    empty = run("noreason").message
    assert isinstance(empty, Response) and (empty.status, empty.reason) == (100, "")


def test_contact_parameters_belong_where_the_brackets_say() -> None:
    (bare,) = accepted_request("cparam01").contacts
    assert bare.params == {"unknownparam": None}
    assert isinstance(bare.uri, SipURI) and bare.uri.params == {}
    (bracketed,) = accepted_request("cparam02").contacts
    assert bracketed.params == {}
    assert isinstance(bracketed.uri, SipURI) and bracketed.uri.params == {"unknownparam": None}


def test_escaped_header_in_contact_uri_is_carried() -> None:
    (contact,) = accepted_request("regescrt").contacts
    assert isinstance(contact.uri, SipURI)
    assert contact.uri.headers == "Route=%3Csip:edge.clinic.example.com%3E"


def test_rfc2543_request_without_branch_or_tags() -> None:
    req = accepted_request("inv2543")
    assert req.top_via.branch is None and req.top_via.port is None
    assert req.from_.tag is None and "max-forwards" not in req.headers


def test_ipv6_references_everywhere() -> None:
    req = accepted_request("ipv6")
    assert isinstance(req.uri, SipURI)
    assert (req.uri.host, req.uri.port, req.uri.transport) == ("2001:db8::10", 5070, "TCP")
    assert (req.top_via.host, req.top_via.port) == ("2001:db8::20", 5071)
    assert str(req.contacts[0].uri) == "sip:theatre2@[2001:db8::20]:5071;transport=tcp"


def test_compact_forms_resolve_to_full_names() -> None:
    req = accepted_request("compact_all")
    assert req.call_id == "compact.1@192.0.2.126"
    assert req.from_.display_name == "Compact"
    assert req.headers.get_list("supported") == ["timer", "100rel"]
    assert req.headers.get("subject") == "Ward round"
    assert req.content_type == "application/sdp"
