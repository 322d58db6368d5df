"""URIs (RFC 3261 19.1, RFC 3966) and name-addr values: what parses, to what, what is refused."""

from __future__ import annotations

import pytest

from softswitch.sip import (
    AbsoluteURI,
    RemoteProtocolError,
    SipURI,
    TelURI,
    parse_address,
    parse_uri,
)

FULL = "sip:nurse:secret@ward7.example.org:5070;transport=tcp;lr?Subject=hi&Priority=urgent"


def test_sip_uri_every_part() -> None:
    uri = parse_uri(FULL)
    assert isinstance(uri, SipURI)
    assert (uri.user, uri.password) == ("nurse", "secret")
    assert (uri.host, uri.port) == ("ward7.example.org", 5070)
    assert uri.params == {"transport": "tcp", "lr": None}
    assert uri.headers == "Subject=hi&Priority=urgent"
    assert uri.transport == "TCP"
    assert str(uri) == FULL


def test_user_part_may_hold_question_mark_semicolon_and_slash() -> None:
    uri = parse_uri("sip:a?b;c/d@host.example?h=v")
    assert isinstance(uri, SipURI)
    assert (uri.user, uri.host, uri.params, uri.headers) == ("a?b;c/d", "host.example", {}, "h=v")


def test_scheme_and_param_names_are_case_insensitive() -> None:
    uri = parse_uri("SIPS:desk@Host.Example;Transport=TLS;MAddr=192.0.2.9")
    assert isinstance(uri, SipURI) and uri.secure
    assert uri.params == {"transport": "TLS", "maddr": "192.0.2.9"}
    assert uri.aor() == "sips:desk@host.example"


@pytest.mark.parametrize(
    ("text", "host", "port"),
    [
        ("sip:[2001:db8::1]", "2001:db8::1", None),
        ("sip:u@[2001:db8::1]:5080;transport=udp", "2001:db8::1", 5080),
        ("sip:[::ffff:192.0.2.1]:1", "::ffff:192.0.2.1", 1),
    ],
)
def test_ipv6_references(text: str, host: str, port: int | None) -> None:
    uri = parse_uri(text)
    assert isinstance(uri, SipURI) and (uri.host, uri.port) == (host, port)
    assert str(uri) == text


@pytest.mark.parametrize(
    "text",
    [
        "sip:",
        "sip:@host.example",
        "sip:u@",
        "sip:u@host.example:0",
        "sip:u@host.example:65536",
        "sip:u@host.example:5o60",
        "sip:u@host.example:\u0665\u0660\u0666\u0660",
        "sip:u@[2001:db8::1",
        "sip:u@[2001:db8::g]",
        "sip:u@[::1]x",
        "sip:u@ho st.example",
        "sip:u@host_name.example",
        "sip:u@host.example;;lr",
        "sip:u@host.example;bad name=1",
        "<sip:u@host.example>",
        "no-scheme",
        "1sip:u@host.example",
        "tel:",
    ],
)
def test_malformed_uris_raise_a_400_error(text: str) -> None:
    with pytest.raises(RemoteProtocolError) as info:
        parse_uri(text)
    assert info.value.status == 400


def test_tel_uri() -> None:
    uri = parse_uri("tel:+44-1632-960123;phone-context=+44;ext=7")
    assert isinstance(uri, TelURI)
    assert uri.number == "+44-1632-960123" and uri.params == {"phone-context": "+44", "ext": "7"}
    assert str(uri) == "tel:+44-1632-960123;phone-context=+44;ext=7"


def test_other_schemes_are_kept_verbatim() -> None:
    uri = parse_uri("urn:service:sos")
    assert isinstance(uri, AbsoluteURI) and (uri.scheme, str(uri)) == ("urn", "urn:service:sos")


def test_with_and_without_params_return_copies() -> None:
    uri = parse_uri("sip:u@h.example;lr")
    assert isinstance(uri, SipURI)
    changed = uri.with_params(transport="tcp").without_params("lr")
    assert str(changed) == "sip:u@h.example;transport=tcp"
    assert str(uri) == "sip:u@h.example;lr"


# -- name-addr / addr-spec -------------------------------------------------------------------


def test_quoted_display_name_with_escapes() -> None:
    addr = parse_address(r'"Ward \"7\" \\ Desk" <sip:desk@ward.example>;tag=9')
    assert addr.display_name == 'Ward "7" \\ Desk'
    assert addr.tag == "9"
    assert str(addr) == r'"Ward \"7\" \\ Desk" <sip:desk@ward.example>;tag=9'


def test_token_display_name_is_kept_unquoted() -> None:
    addr = parse_address("Night  Desk<sip:desk@ward.example>")
    assert addr.display_name == "Night Desk"
    assert str(addr) == "Night Desk <sip:desk@ward.example>"


def test_addr_spec_params_belong_to_the_header() -> None:
    addr = parse_address("sip:desk@ward.example;tag=1;expires=60")
    assert addr.params == {"tag": "1", "expires": "60"}
    assert isinstance(addr.uri, SipURI) and addr.uri.params == {}


def test_name_addr_params_inside_brackets_belong_to_the_uri() -> None:
    addr = parse_address("<sip:desk@ward.example;lr>;q=0.5")
    assert isinstance(addr.uri, SipURI) and addr.uri.params == {"lr": None}
    assert addr.params == {"q": "0.5"}


def test_wildcard_contact() -> None:
    addr = parse_address(" * ")
    assert addr.wildcard and str(addr) == "*"


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ('"Unterminated <sip:a@b.example>', "Unterminated"),
        ('"Name" sip:a@b.example', "without <URI>"),
        ("<sip:a@b.example", "Unterminated"),
        ("< sip:a@b.example>", "Whitespace"),
        ("<sip:a@b.example >", "Whitespace"),
        ("Smith, Jane <sip:a@b.example>", "display name"),
        ("Jane (ward) <sip:a@b.example>", "display name"),
        ("sip:a@b.example?Subject=x", "enclosed"),
        ("sip:a@b.example;;tag=1", "Empty parameter"),
        ('<sip:a@b.example>;p="open', "Unterminated"),
    ],
)
def test_malformed_addresses_say_what_is_wrong(text: str, words: str) -> None:
    with pytest.raises(RemoteProtocolError) as info:
        parse_address(text)
    assert words in info.value.reason
