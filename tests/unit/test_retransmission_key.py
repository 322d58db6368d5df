"""The raw-bytes server transaction key: it equals the parsed key, or it is None."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from softswitch.sip import Request, parse_message
from softswitch.sip.errors import RemoteProtocolError
from softswitch.sip.inbound import retransmission_key
from softswitch.sip.transaction.keys import server_key

HEAD = (
    "{method} sip:3000@example.com SIP/2.0\r\n"
    "{via}\r\n"
    "Max-Forwards: 70\r\n"
    "From: <sip:3000@example.com>;tag=f1\r\n"
    "To: <sip:3000@example.com>\r\n"
    "Call-ID: c1\r\n"
    "CSeq: 1 {method}\r\n"
    "Content-Length: 0\r\n\r\n"
)


def message(via: str, method: str = "REGISTER") -> bytes:
    return HEAD.format(method=method, via=via).encode()


def parsed_key(data: bytes) -> tuple[object, ...]:
    request = parse_message(data)
    assert isinstance(request, Request)
    return server_key(request, request.top_via, request.method)


def test_plain_via_gives_the_parsed_key() -> None:
    data = message("Via: SIP/2.0/UDP Phone.Example.com:5062;rport;branch=z9hG4bK-7")
    assert retransmission_key(data) == ("z9hG4bK-7", "phone.example.com", 5062, "REGISTER")
    assert retransmission_key(data) == parsed_key(data)


def test_compact_name_and_second_value_use_the_top_one() -> None:
    data = message("v: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKa , SIP/2.0/UDP 10.0.0.2;branch=z9hG4bKb")
    assert retransmission_key(data) == ("z9hG4bKa", "10.0.0.1", None, "REGISTER")
    assert retransmission_key(data) == parsed_key(data)


def test_unusual_forms_take_the_full_path() -> None:
    assert retransmission_key(message("Via: SIP/2.0/UDP [::1]:5060;branch=z9hG4bK1")) is None
    assert retransmission_key(message("Via: SIP/2.0/UDP h;branch=1234")) is None  # RFC 2543
    assert retransmission_key(message("Via: SIP/2.0/UDP h;branch=z9hG4bK1;branch=z9hG4bK2")) is None
    assert retransmission_key(message('Via: SIP/2.0/UDP h;x="a;b";branch=z9hG4bK1')) is None
    assert retransmission_key(message("Via: SIP/2.0/UDP h;branch=z9hG4bK1", "ACK")) is None
    assert retransmission_key(b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n\r\n") is None


def test_first_via_line_decides_even_when_a_later_one_is_plain() -> None:
    data = message(
        "Via: SIP/2.0/UDP [2001:db8::1];branch=z9hG4bK1\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK2"
    )
    assert retransmission_key(data) is None


_token = st.text("abcXYZ019-.!%*_+`'~", min_size=1, max_size=6)
_host = st.sampled_from(["h", "Host.example", "10.0.0.1", "[::1]", "h h", "a_b"])
_port = st.sampled_from(["", ":5060", ":05061", ":0", ":99999", " :5060"])
_param = st.one_of(
    _token.map(lambda t: f";{t}"),
    st.tuples(_token, _token).map(lambda p: f";{p[0]}={p[1]}"),
    _token.map(lambda t: f";branch=z9hG4bK{t}"),
    _token.map(lambda t: f" ; BRANCH = z9hG4bK{t}"),
    st.just(';q="x"'),
)


@settings(max_examples=300, deadline=None)
@given(
    name=st.sampled_from(["Via", "v", "VIA ", "via"]),
    transport=st.sampled_from(["UDP", "tcp", "T CP"]),
    host=_host,
    port=_port,
    params=st.lists(_param, max_size=4),
    tail=st.sampled_from(["", ", SIP/2.0/UDP other;branch=z9hG4bKo", ","]),
    method=st.sampled_from(["REGISTER", "INVITE", "OPTIONS", "CANCEL", "ACK"]),
)
def test_fast_key_never_differs_from_the_parsed_key(
    name: str, transport: str, host: str, port: str, params: list[str], tail: str, method: str
) -> None:
    data = message(f"{name}: SIP/2.0/{transport} {host}{port}{''.join(params)}{tail}", method)
    fast = retransmission_key(data)
    if fast is None:
        return
    try:
        parsed = parsed_key(data)
    except RemoteProtocolError:  # no transaction can hold a key a parse cannot build
        assert fast[2] is not None and not 0 < fast[2] < 65536
        return
    assert fast == parsed
