"""parse_message: start lines, header lines, bodies, and which failures can still be answered."""

from __future__ import annotations

import pytest

from softswitch.sip import (
    MalformedRequest,
    RemoteProtocolError,
    Request,
    Response,
    SipURI,
    parse_message,
)

HEAD = (
    "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKp1\r\n"
    "From: <sip:a@ward.example>;tag=1\r\n"
    "To: <sip:b@ward.example>\r\n"
    "Call-ID: p1@192.0.2.1\r\n"
    "CSeq: 1 OPTIONS\r\n"
)


def request(
    start: str = "OPTIONS sip:b@ward.example SIP/2.0", extra: str = "", body: bytes = b""
) -> bytes:
    length = f"Content-Length: {len(body)}\r\n"
    return f"{start}\r\n{HEAD}{extra}{length}\r\n".encode() + body


def test_request_line_method_uri_and_version() -> None:
    msg = parse_message(request())
    assert isinstance(msg, Request)
    assert (msg.method, str(msg.uri), msg.version) == ("OPTIONS", "sip:b@ward.example", "SIP/2.0")


def test_leading_blank_lines_are_skipped() -> None:
    assert isinstance(parse_message(b"\r\n\r\n" + request()), Request)


def test_version_is_case_insensitive() -> None:
    msg = parse_message(request("OPTIONS sip:b@ward.example sip/2.0"))
    assert isinstance(msg, Request) and msg.version == "SIP/2.0"


def test_status_line_keeps_spaces_in_reason() -> None:
    msg = parse_message(b"SIP/2.0 486 Busy  Here now\r\n" + HEAD.encode() + b"\r\n")
    assert isinstance(msg, Response)
    assert (msg.status, msg.reason) == (486, "Busy  Here now")


@pytest.mark.parametrize("code", [b"99", b"700", b"2000", b"1x0", "\u00b2\u00b2\u00b2".encode()])
def test_status_code_out_of_range_is_not_a_response(code: bytes) -> None:
    with pytest.raises(RemoteProtocolError) as info:
        parse_message(b"SIP/2.0 " + code + b" Odd\r\n" + HEAD.encode() + b"\r\n")
    assert not isinstance(info.value, MalformedRequest)


def test_folded_header_lines_join_with_one_space() -> None:
    msg = parse_message(request(extra="Subject: first\r\n \t second\r\n\tthird\r\n"))
    assert msg.headers.get("subject") == "first second third"


def test_header_name_may_have_whitespace_before_colon() -> None:
    assert parse_message(request(extra="Subject   : x\r\n")).headers.get("subject") == "x"


def test_continuation_before_any_header_is_malformed() -> None:
    data = b"OPTIONS sip:b@ward.example SIP/2.0\r\n folded\r\n" + HEAD.encode() + b"\r\n"
    with pytest.raises(MalformedRequest) as info:
        parse_message(data)
    assert info.value.status == 400 and info.value.method == "OPTIONS"


def test_header_line_without_colon_is_malformed_with_no_headers_kept() -> None:
    with pytest.raises(MalformedRequest) as info:
        parse_message(request(extra="NoColonHere\r\n"))
    assert len(info.value.headers) == 0


def test_body_is_cut_at_content_length() -> None:
    msg = parse_message(request(body=b"hello") + b"trailing junk")
    assert msg.body == b"hello"


def test_missing_content_length_takes_the_rest_of_the_datagram() -> None:
    data = f"OPTIONS sip:b@ward.example SIP/2.0\r\n{HEAD}\r\nbody".encode()
    assert parse_message(data).body == b"body"


@pytest.mark.parametrize("value", ["-1", "1e3", "abc", "1234567890", "\u0661"])
def test_bad_content_length_is_answerable(value: str) -> None:
    data = request(extra=f"Content-Length: {value}\r\n")
    with pytest.raises(MalformedRequest) as info:
        parse_message(data)
    assert info.value.status == 400 and "Content-Length" in info.value.reason
    assert info.value.headers.get("call-id") == "p1@192.0.2.1"


def test_repeated_identical_content_length_is_fine() -> None:
    data = request(extra="l: 2\r\n", body=b"ok")
    assert parse_message(data).body == b"ok"


def test_bare_lf_line_ends_are_tolerated() -> None:
    data = request(body=b"x").replace(b"\r\n", b"\n")
    msg = parse_message(data)
    assert isinstance(msg, Request) and msg.body == b"x"


@pytest.mark.parametrize(
    "start",
    [
        "OPTIONS  sip:b@ward.example SIP/2.0",
        "OPTIONS sip:b@ward.example  SIP/2.0",
        "OPTIONS sip:b@ward.example SIP/2.0 ",
        "OPTIONS sip:b@ward.example; lr SIP/2.0",
        "OPTIONS SIP/2.0",
    ],
)
def test_broken_request_line_spacing_is_answered_400(start: str) -> None:
    with pytest.raises(MalformedRequest) as info:
        parse_message(request(start))
    assert info.value.status == 400 and "Request-Line" in info.value.reason
    assert info.value.method == "OPTIONS"


@pytest.mark.parametrize(
    "start", ["HELLO", "GET / HTTP/1.1", "OPT<IONS sip:b@ward.example SIP/2.0", "\x00\x01 SIP/2.0"]
)
def test_a_line_that_is_no_request_is_not_answered(start: str) -> None:
    with pytest.raises(RemoteProtocolError) as info:
        parse_message(request(start))
    assert not isinstance(info.value, MalformedRequest)


def test_other_sip_version_is_answered_505() -> None:
    with pytest.raises(MalformedRequest) as info:
        parse_message(request("OPTIONS sip:b@ward.example SIP/3.1"))
    assert info.value.status == 505


def test_request_uri_with_headers_is_answered_400() -> None:
    with pytest.raises(MalformedRequest) as info:
        parse_message(request("OPTIONS sip:b@ward.example?Subject=hi SIP/2.0"))
    assert "headers" in info.value.reason


def test_request_uri_that_does_not_parse_is_answered_400() -> None:
    with pytest.raises(MalformedRequest) as info:
        parse_message(request("OPTIONS sip:b@[::1 SIP/2.0"))
    assert info.value.reason.startswith("Invalid Request-URI")


def test_unknown_scheme_parses_for_the_validator_to_refuse() -> None:
    msg = parse_message(request("OPTIONS urn:service:sos SIP/2.0"))
    assert isinstance(msg, Request) and msg.uri.scheme == "urn"


def test_non_utf8_bytes_round_trip_through_serialize() -> None:
    raw = request(extra="X-Raw: PLACEHOLDER\r\n").replace(b"PLACEHOLDER", b"caf\xe9 \xff")
    msg = parse_message(raw)
    assert msg.serialize() == raw


def test_serialize_rewrites_content_length_to_the_body() -> None:
    msg = parse_message(request(body=b"abc"))
    msg.body = b"abcdef"
    again = parse_message(msg.serialize())
    assert again.body == b"abcdef" and again.headers.get("content-length") == "6"


def test_request_uri_sip_parts() -> None:
    msg = parse_message(request("INVITE sips:nurse@[2001:db8::1]:5061;transport=tls SIP/2.0"))
    assert isinstance(msg, Request) and isinstance(msg.uri, SipURI)
    assert (msg.uri.scheme, msg.uri.host, msg.uri.port) == ("sips", "2001:db8::1", 5061)
