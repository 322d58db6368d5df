"""Headers container, compact forms, list splitting, and the structured values Via and CSeq."""

from __future__ import annotations

import pytest

from softswitch.sip import Headers, RemoteProtocolError, parse_cseq, parse_via
from softswitch.sip.headers import canonical_key, display_name


@pytest.mark.parametrize(
    ("name", "key"),
    [("i", "call-id"), ("M", "contact"), ("l", "content-length"), ("v", "via"), ("k", "supported"),
     ("CALL-ID", "call-id"), ("X-Custom", "x-custom")],
)
def test_compact_and_mixed_case_names_share_one_key(name: str, key: str) -> None:
    assert canonical_key(name) == key


def test_display_name_spelling_of_keys() -> None:
    assert [display_name(k) for k in ("call-id", "cseq", "www-authenticate", "record-route")] == [
        "Call-ID", "CSeq", "WWW-Authenticate", "Record-Route"]


def test_lookup_accepts_any_form_and_keeps_the_spelling_received() -> None:
    headers = Headers.from_pairs([("i", "abc"), ("v", "SIP/2.0/UDP h")])
    assert headers.get("Call-ID") == "abc" and "via" in headers
    assert list(headers) == [("i", "abc"), ("v", "SIP/2.0/UDP h")]


def test_list_headers_split_on_commas_outside_quotes_and_brackets() -> None:
    headers = Headers.from_pairs(
        [
            ("Contact", '"Desk, Night" <sip:a@b.example;x=1,2>, <sip:c@d.example>'),
            ("Contact", "<sip:e@f>"),
        ]
    )
    assert headers.get_list("m") == [
        '"Desk, Night" <sip:a@b.example;x=1,2>', "<sip:c@d.example>", "<sip:e@f>"]


def test_non_list_headers_are_not_split() -> None:
    headers = Headers.from_pairs(
        [("Date", "Sat, 13 Nov 2010 23:29:00 GMT"), ("Authorization", "Digest a=1, b=2")]
    )
    assert headers.get_list("date") == ["Sat, 13 Nov 2010 23:29:00 GMT"]
    assert headers.get_list("authorization") == ["Digest a=1, b=2"]


def test_comma_joined_and_repeated_vias_are_the_same_list() -> None:
    first, second = "SIP/2.0/UDP a;branch=z9hG4bK1", "SIP/2.0/UDP b;branch=z9hG4bK2"
    joined = Headers.from_pairs([("Via", f"{first}, {second}")])
    repeated = Headers.from_pairs([("Via", first), ("v", second)])
    assert joined.get_list("via") == repeated.get_list("via")


def test_pop_first_takes_one_element_of_a_joined_header() -> None:
    headers = Headers.from_pairs(
        [("Via", "SIP/2.0/UDP a, SIP/2.0/UDP b"), ("Via", "SIP/2.0/UDP c")]
    )
    assert headers.pop_first("via") == "SIP/2.0/UDP a"
    assert headers.get_list("via") == ["SIP/2.0/UDP b", "SIP/2.0/UDP c"]


def test_prepend_set_and_remove() -> None:
    headers = Headers.from_pairs([("To", "<sip:a@b>"), ("Via", "SIP/2.0/UDP old")])
    headers.prepend("via", "SIP/2.0/UDP new")
    assert headers.get_all("via") == ["SIP/2.0/UDP new", "SIP/2.0/UDP old"]
    headers.set("Via", "SIP/2.0/UDP only")
    assert headers.get_all("via") == ["SIP/2.0/UDP only"]
    headers.remove("v")
    assert "via" not in headers and len(headers) == 1


def test_unterminated_quote_in_a_list_header_is_an_error() -> None:
    headers = Headers.from_pairs([("Contact", '"open <sip:a@b>, <sip:c@d>')])
    with pytest.raises(RemoteProtocolError):
        headers.get_list("contact")


# -- Via ---------------------------------------------------------------------------------------


def test_via_with_params_and_lws_everywhere() -> None:
    via = parse_via(
        "SIP / 2.0 / tcp  [2001:db8::9] : 5071 ; branch = z9hG4bKx ; rport ; received=192.0.2.1"
    )
    assert (via.transport, via.host, via.port) == ("TCP", "2001:db8::9", 5071)
    assert via.params == {"branch": "z9hG4bKx", "rport": None, "received": "192.0.2.1"}
    assert str(via) == "SIP/2.0/TCP [2001:db8::9]:5071;branch=z9hG4bKx;rport;received=192.0.2.1"


def test_via_of_another_sip_version_is_kept_for_the_505() -> None:
    via = parse_via("SIP/7.0/UDP host.example;branch=z9hG4bK7")
    assert via.protocol == "SIP/7.0" and str(via).startswith("SIP/7.0/UDP ")


@pytest.mark.parametrize(
    "text",
    [
        "", "SIP/2.0", "SIP/2.0/UDP", "HTTP/1.1/TCP h", "SIP/two/UDP h", "SIP/2.0/UDP h;;",
        "SIP/2.0/UDP h:99999",
    ],
)
def test_malformed_via(text: str) -> None:
    with pytest.raises(RemoteProtocolError):
        parse_via(text)


# -- CSeq --------------------------------------------------------------------------------------


def test_cseq_parses_number_and_method() -> None:
    cseq = parse_cseq(" 0009 \t INVITE ")
    assert (cseq.number, cseq.method, str(cseq)) == (9, "INVITE", "9 INVITE")


@pytest.mark.parametrize(
    "text",
    [
        "", "1", "INVITE", "1 2 INVITE", "-1 INVITE", "4294967296 INVITE", "1 INV<ITE",
        "\u00b9 INVITE",
    ],
)
def test_malformed_cseq(text: str) -> None:
    with pytest.raises(RemoteProtocolError):
        parse_cseq(text)


def test_cseq_accepts_the_largest_32_bit_number() -> None:
    assert parse_cseq("4294967295 ACK").number == 2**32 - 1
