"""The one-pass reader of plain requests gives exactly what the full path gives, or nothing.

`InboundFilter.accept` tries `read_plain_request` first; these tests hold it to
`InboundFilter.accept_in_full` on everyday requests, on the RFC 4475 torture corpus and on
mutations of both: whenever the plain reader accepts a message, the full path must accept it
too, with the same fields, body, stamped Via and parsed values. Parameters get the same
treatment against their full reader, and tagged addresses against the whole parse.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path

from hypothesis import example, given, settings
from hypothesis import strategies as st

from softswitch.metrics import SwitchMetrics
from softswitch.sip import Request
from softswitch.sip.destination import Destination
from softswitch.sip.errors import RemoteProtocolError
from softswitch.sip.grammar import _parse_params_in_full, parse_params
from softswitch.sip.inbound import InboundFilter, Reply
from softswitch.sip.plain import read_plain_request
from softswitch.sip.values import Address, _parse_address, parse_address

SOURCE = Destination("192.0.2.44", 40123, "UDP")
LOCAL = {("switch.clinic.example.com", 5060), ("127.0.0.1", 5060)}
TORTURE = [p.read_bytes() for p in sorted((Path(__file__).parent / "torture").glob("*.sip"))]

REGISTER = (
    b"REGISTER sip:127.0.0.1:5060 SIP/2.0\r\n"
    b"Via: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-17-1;rport\r\n"
    b"Max-Forwards: 70\r\n"
    b"From: <sip:3001@127.0.0.1>;tag=17\r\n"
    b"To: <sip:3001@127.0.0.1>\r\n"
    b"Call-ID: 17-bench@127.0.0.1\r\n"
    b"CSeq: 1 REGISTER\r\n"
    b"Contact: <sip:3001@127.0.0.1:5061;transport=UDP>;+sip.instance=\"<urn:uuid:a-b>\";reg-id=1\r\n"
    b'Authorization: Digest username="3001", realm="softswitch", nonce="abc", '
    b'uri="sip:127.0.0.1:5060", response="0123", algorithm=MD5, qop=auth, nc=00000001, '
    b'cnonce="0a4f"\r\n'
    b"Expires: 3600\r\n"
    b"User-Agent: SIPp\r\n"
    b"Content-Length: 0\r\n\r\n"
)
INVITE = (
    b"INVITE sip:2001@switch.clinic.example.com SIP/2.0\r\n"
    b"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776asdhds\r\n"
    b"Via: SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bK4b43c2ff8.1\r\n"
    b"Max-Forwards: 69\r\n"
    b'From: "Ward 7 Nurse" <sip:2107@clinic.example.com>;tag=1928301774\r\n'
    b"To: Bed12 <sip:2001@clinic.example.com>\r\n"
    b"i: a84b4c76e66710@192.0.2.10\r\n"
    b"CSeq: 314159 INVITE\r\n"
    b"m: <sip:2107@192.0.2.10:5060>\r\n"
    b"Content-Type: application/sdp\r\n"
    b"Content-Length: 10\r\n\r\n"
    b"v=0\r\ns=-\r\nextra"
)
BYE = (
    b"BYE sip:2107@192.0.2.10:5060 SIP/2.0\r\n"
    b"v: SIP/2.0/TCP 192.0.2.44:40123;branch=z9hG4bKbye1\r\n"
    b"Max-Forwards: 0\r\n"
    b"f: <sip:2001@clinic.example.com>;tag=88\r\n"
    b"t: <sip:2107@clinic.example.com>;tag=1928301774\r\n"
    b"Call-ID: a84b4c76e66710@192.0.2.10\r\n"
    b"CSeq: 314160 BYE\r\n"
    b"Require: timer\r\n"
    b"Content-Length: 0\r\n\r\n"
)
EVERYDAY = [REGISTER, INVITE, BYE, BYE.replace(b"Max-Forwards: 0\r\n", b"").replace(
    b"Require: timer\r\n", b"")]
SEEDS = EVERYDAY + TORTURE


def _filter() -> InboundFilter:
    return InboundFilter(SwitchMetrics(), supported=("path", "outbound", "timer"),
                         local_sent_by=LOCAL)


def _learn_names() -> None:
    """The plain reader takes only header names the full parser has accepted once."""
    full = _filter()
    for data in SEEDS:
        full.accept_in_full(data, SOURCE)


def _same(data: bytes) -> Request | None:
    """The plain result, after checking it against the full path's."""
    plain = read_plain_request(data, SOURCE.host, SOURCE.port, LOCAL)
    if plain is None:
        return None
    full = _filter().accept_in_full(data, SOURCE)
    assert isinstance(full, Request), (data, full)
    assert (plain.method, str(plain.uri), plain.uri, plain.version, plain.body) == (
        full.method, str(full.uri), full.uri, full.version, full.body)
    assert plain.headers.fields() == full.headers.fields()
    assert [str(v) for v in plain.vias] == [str(v) for v in full.vias]
    assert [v.params for v in plain.vias] == [v.params for v in full.vias]
    assert (str(plain.from_), str(plain.to), plain.cseq) == (str(full.from_), str(full.to),
                                                             full.cseq)
    assert [str(c) for c in plain.contacts] == [str(c) for c in full.contacts]
    assert [c.params for c in plain.contacts] == [c.params for c in full.contacts]
    assert plain.serialize() == full.serialize()
    return plain


def test_everyday_requests_take_the_plain_path_and_match_the_full_one() -> None:
    _learn_names()
    register = _same(REGISTER)
    assert register is not None
    assert register.top_via.params["received"] == "192.0.2.44"
    assert register.top_via.params["rport"] == "40123"
    invite = _same(INVITE)
    assert invite is not None and invite.body == b"v=0\r\ns=-\r\n"
    assert _same(EVERYDAY[3]) is not None


def test_what_the_full_path_must_judge_is_left_to_it() -> None:
    _learn_names()
    assert _same(BYE) is None  # Require, and Max-Forwards 0 (483)
    looped = INVITE.replace(b"198.51.100.7:5060;branch=z9hG4bK4b43c2ff8.1",
                            b"switch.clinic.example.com:5060;branch=z9hG4bK-ss0123")
    assert read_plain_request(looped, SOURCE.host, SOURCE.port, LOCAL) is None  # 482
    for broken in (
        REGISTER.replace(b"CSeq: 1 REGISTER", b"CSeq: 1 INVITE"),
        REGISTER.replace(b"Max-Forwards: 70", b"Max-Forwards: 256"),
        REGISTER.replace(b"branch=z9hG4bK-17-1", b"branch=z9hG4bK"),
        REGISTER.replace(b"Content-Length: 0", b"Content-Length: 5"),
        REGISTER.replace(b"To: <sip:3001@127.0.0.1>\r\n", b""),
        REGISTER.replace(b"User-Agent: SIPp\r\n", b"User-Agent: SIPp\r\n Continued\r\n"),
        REGISTER.replace(b"\r\nExpires", b"\nExpires"),
        REGISTER.replace(b"Call-ID: 17", b"Call-ID: 17\r\nCall-ID: 18"),
        REGISTER.replace(b"sip:127.0.0.1:5060 SIP", b"tel:+4930 SIP"),
    ):
        assert read_plain_request(broken, SOURCE.host, SOURCE.port, LOCAL) is None, broken
    assert read_plain_request(REGISTER.replace(b"User-Agent", b"X-Never-Seen-Before"),
                              SOURCE.host, SOURCE.port, LOCAL) is None


def test_a_star_is_no_from_or_to_address() -> None:
    """``*`` is an address only as ``Contact: *``; as a To the answer's To (``*;tag=``) could
    not be read back, and the request used to reach a handler that then failed."""
    _learn_names()
    for data, header in (
        (REGISTER.replace(b"To: <sip:3001@127.0.0.1>", b"To: *"), b"To"),
        (INVITE.replace(b"To: Bed12 <sip:2001@clinic.example.com>", b"To: *"), b"To"),
        (REGISTER.replace(b"From: <sip:3001@127.0.0.1>;tag=17", b"From: *"), b"From"),
    ):
        assert read_plain_request(data, SOURCE.host, SOURCE.port, LOCAL) is None
        reply = _filter().accept(data, SOURCE)
        assert isinstance(reply, Reply), reply
        assert reply.data.startswith(b"SIP/2.0 400 Invalid " + header + b" header"), reply.data


FRAGMENTS = [b"\r\n", b"\r\n ", b"\n", b";", b",", b'"', b"\\", b"<", b">", b"@", b":", b" ",
             b"\t", b"=", b"\xff", b"z9hG4bK", b"SIP/2.0", b"Content-Length: 3\r\n",
             b"Via: SIP/2.0/UDP switch.clinic.example.com;branch=z9hG4bK-ssx\r\n",
             b"Max-Forwards: 0\r\n", b";rport", b";received=1.2.3.4", b"\r\nTo: <sip:x@y>"]


def _mutate(rng: random.Random, data: bytes) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 3)):
        at = rng.randrange(len(out))
        op = rng.randrange(3)
        if op == 0:
            out[at] = rng.randrange(256)
        elif op == 1:
            out[at:at] = rng.choice(FRAGMENTS)
        else:
            del out[at : at + rng.randint(1, 8)]
    return bytes(out)


def test_a_mutated_request_is_read_plainly_only_as_the_full_path_reads_it() -> None:
    """6,000 seeded mutations; enough of them stay plain for the comparison to mean something."""
    _learn_names()
    rng = random.Random(4475)
    plain = sum(_same(_mutate(rng, rng.choice(SEEDS))) is not None for _ in range(6000))
    assert plain > 400, plain  # 536 with this seed


PARAM_TEXT = st.text(alphabet=st.sampled_from(list("abzAZ09-.!%*_+`'~=;\"<> \t,:@é")),
                     max_size=30)


@settings(max_examples=1500, deadline=None)
@given(PARAM_TEXT)
def test_plain_parameters_are_read_as_the_full_reader_reads_them(text: str) -> None:
    stripped = text.strip()
    stripped = stripped[1:] if stripped.startswith(";") else stripped
    try:
        expected: dict[str, str | None] | str = _parse_params_in_full(stripped) if text.strip() else {}
    except Exception as exc:  # noqa: BLE001 - the error itself is compared
        expected = type(exc).__name__
    try:
        got: dict[str, str | None] | str = parse_params(text)
    except Exception as exc:  # noqa: BLE001
        got = type(exc).__name__
    assert got == expected
    if isinstance(got, dict):
        assert list(got) == list(expected)  # the same order too


ADDRESS_TEXT = st.text(alphabet=st.sampled_from(list("<>sip:2@h.;tag=x\" ,*a+é\t")), max_size=30)


@settings(max_examples=1500, deadline=None)
@given(ADDRESS_TEXT)
@example("<sip:2@h>;tag=x")
@example(" <sip:2@h> ;tag=x ")
@example('<sip:2@h>;tag="a b";+sip.instance="<urn:x>"')
@example("<sip:2@h>;;")
@example("<sip:2 @h>;tag=1")
@example("<sip:2@h>x")
@example("<sip:2@h>")
def test_a_tagged_address_is_read_as_the_whole_parse_reads_it(text: str) -> None:
    """`parse_address` memoises only the `<URI>` of a `<URI>;params` value: same outcome."""
    def outcome(parse: Callable[[str], Address]) -> object:
        try:
            address = parse(text)
        except RemoteProtocolError as exc:
            return exc.reason
        return (str(address), address.params, address.display_name, address.wildcard)

    assert outcome(parse_address) == outcome(lambda t: _parse_address(t.strip()))
