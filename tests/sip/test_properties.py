"""Round trips under Hypothesis: generated messages parse to what was generated, and
parse -> serialize -> parse is a fixed point (RFC 3261 section 7 wire forms in all variants).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from softswitch.sip import Message, Request, SipURI, parse_message
from softswitch.sip.grammar import TOKEN_CHARS, quote

# Bounded so the whole file stays near two seconds in CI; a nightly run can raise the profile.
SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
MESSAGE_SETTINGS = settings(SETTINGS, max_examples=40)

tokens = st.text(alphabet=sorted(TOKEN_CHARS), min_size=1, max_size=10)
TEL_DIGITS = st.text(alphabet="0123456789-", max_size=12)
_ALNUM = "abcdefghijklmnopqrstuvwxyz0123456789"
labels = st.builds(
    lambda a, mid: a + (mid + a if mid else ""),
    st.sampled_from(_ALNUM),
    st.text(alphabet=_ALNUM + "-", max_size=6),
)
domains = st.lists(labels, min_size=1, max_size=4).map(".".join).filter(lambda d: not d.isdigit())
ipv4 = st.integers(0, 2**32 - 1).map(lambda n: str(ipaddress.IPv4Address(n)))
ipv6 = st.integers(0, 2**128 - 1).map(lambda n: ipaddress.IPv6Address(n).compressed)
hosts = st.one_of(domains, ipv4, ipv6)
ports = st.one_of(st.none(), st.integers(1, 65535))

_UNRESERVED = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.!~*'()"
escapes = st.integers(0, 255).map(lambda b: f"%{b:02X}")
user_chars = st.one_of(st.sampled_from(_UNRESERVED + "&=+$,;?/"), escapes)
users = st.lists(user_chars, min_size=1, max_size=12).map("".join)
param_values = st.one_of(st.none(), tokens)
params = st.dictionaries(tokens.map(str.lower), param_values, max_size=3)


SCHEMES = st.sampled_from(["sip", "sips", "SIP"])
TEL_PREFIXES = st.sampled_from(["", "+"])
DIGITS = st.sampled_from("0123456789")
NON_ASCII = st.sampled_from("éü病")
ADDRESS_FORMS = st.sampled_from(["quoted", "token", "bare-angle", "addr-spec"])
LWS_BEFORE_ANGLE = st.sampled_from(['', ' ', '  '])
TRANSPORTS = st.sampled_from(["UDP", "TCP", "TLS", "SCTP", "WS"])
VIA_EXTRAS = st.sampled_from(["", ";rport", ";received=192.0.2.1", ";rport=5062;alias"])
VIA_SLASHES = st.sampled_from(["/", " / "])
FOLD_INDENTS = st.sampled_from([" ", "\t", "   "])
METHODS = st.sampled_from(["INVITE", "REGISTER", "OPTIONS", "BYE", "MESSAGE"])
COMMAS = st.sampled_from([",", ", ", " ,  "])
LWS_AFTER_COLON = st.sampled_from(['', ' ', '   '])


def _host_port(host: str, port: int | None) -> str:
    text = f"[{host}]" if ":" in host else host
    return text if port is None else f"{text}:{port}"


def _params(values: dict[str, str | None]) -> str:
    return "".join(f";{k}" if v is None else f";{k}={v}" for k, v in values.items())


@st.composite
def sip_uris(draw: st.DrawFn) -> str:
    scheme = draw(SCHEMES)
    user = draw(st.one_of(st.none(), users))
    userinfo = "" if user is None else user + "@"
    return f"{scheme}:{userinfo}{_host_port(draw(hosts), draw(ports))}{_params(draw(params))}"


@st.composite
def tel_uris(draw: st.DrawFn) -> str:
    digits = draw(TEL_PREFIXES) + draw(TEL_DIGITS)
    digits = digits + draw(DIGITS)
    return f"tel:{digits}{_params(draw(params))}"


uris = st.one_of(sip_uris(), sip_uris(), tel_uris())
quoted_names = st.text(
    alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E) | NON_ASCII,
    max_size=12,
)
token_names = st.lists(tokens, min_size=1, max_size=3).map(" ".join)


@dataclass(frozen=True)
class Addr:
    text: str
    display: str | None
    uri: str
    tag: str | None


@st.composite
def addresses(draw: st.DrawFn) -> Addr:
    uri = draw(uris)
    tag = draw(st.one_of(st.none(), tokens))
    tail = "" if tag is None else f";tag={tag}"
    display: str | None
    kind = draw(ADDRESS_FORMS)
    if kind == "addr-spec" and not any(c in uri for c in ";?,"):
        return Addr(uri + tail, None, uri, tag)
    if kind == "quoted":
        display = draw(quoted_names)
        text = f"{quote(display)} <{uri}>"
    elif kind == "token":
        display = draw(token_names)
        text = f"{display}{draw(LWS_BEFORE_ANGLE)}<{uri}>"
    else:
        display, text = None, f"<{uri}>"
    return Addr(text + tail, display, uri, tag)


@dataclass(frozen=True)
class Hop:
    text: str
    transport: str
    host: str
    port: int | None
    branch: str


@st.composite
def vias(draw: st.DrawFn) -> Hop:
    transport = draw(TRANSPORTS)
    host, port = draw(hosts), draw(ports)
    branch = "z9hG4bK" + draw(tokens)
    extra = draw(VIA_EXTRAS)
    sep = draw(VIA_SLASHES)
    text = f"SIP{sep}2.0{sep}{transport} {_host_port(host, port)};branch={branch}{extra}"
    return Hop(text, transport, host, port, branch)


ANY_METHOD = st.one_of(METHODS, tokens)
ADDRESSES = addresses()
HOP_LISTS = st.lists(vias(), min_size=1, max_size=4)
CONTACT_LISTS = st.lists(ADDRESSES.filter(lambda a: a.text.startswith(('"', "<"))), max_size=3)
BODIES = st.binary(max_size=40)
OPTION_TAGS = st.lists(tokens, min_size=1, max_size=3)


@dataclass(frozen=True)
class Generated:
    data: bytes
    method: str
    uri: str
    hops: list[Hop]
    from_: Addr
    to: Addr
    contacts: list[Addr]
    body: bytes


_SPELLING = st.integers(0, 3)


def _name(draw: st.DrawFn, full: str, compact: str | None) -> str:
    """The header name as written: canonical, lower, upper, or compact (RFC 3261 7.3.3)."""
    options = [full, full.lower(), full.upper(), compact or full]
    return options[draw(_SPELLING)]


def _fold(draw: st.DrawFn, value: str) -> str:
    """Maybe fold a value at one of its spaces (RFC 3261 7.3.1 LWS with CRLF)."""
    spaces = [i for i, ch in enumerate(value) if ch == " "]
    if not spaces or not draw(st.booleans()):
        return value
    i = draw(st.sampled_from(spaces))
    return value[:i] + "\r\n" + draw(FOLD_INDENTS) + value[i + 1 :]


@st.composite
def messages(draw: st.DrawFn) -> Generated:
    method = draw(ANY_METHOD)
    uri = draw(uris)
    hops = draw(HOP_LISTS)
    from_, to = draw(ADDRESSES), draw(ADDRESSES)
    contacts = draw(CONTACT_LISTS)
    body = draw(BODIES)
    ordered: list[str] = []
    # Vias: repeated fields, comma-joined fields, or a mixture; their order is kept below.
    i = 0
    while i < len(hops):
        n = draw(st.integers(1, len(hops) - i))
        joined = draw(COMMAS).join(h.text for h in hops[i : i + n])
        ordered.append(f"{_name(draw, 'Via', 'v')}: {_fold(draw, joined)}")
        i += n
    lines = [
        f"{_name(draw, 'From', 'f')}: {_fold(draw, from_.text)}",
        f"{_name(draw, 'To', 't')}:{draw(LWS_AFTER_COLON)}{to.text}",
        f"{_name(draw, 'Call-ID', 'i')}: {draw(tokens)}@{draw(domains)}",
        f"{_name(draw, 'CSeq', None)}: {draw(st.integers(0, 2**32 - 1))} {method}",
        f"{_name(draw, 'Max-Forwards', None)}: {draw(st.integers(0, 255))}",
        f"{_name(draw, 'Content-Length', 'l')}: {len(body)}",
    ]
    if draw(st.booleans()):
        tags = draw(OPTION_TAGS)
        lines.append(f"{_name(draw, 'Supported', 'k')}: {', '.join(tags)}")
    lines = draw(st.permutations(lines))
    contact_lines = [", ".join(c.text for c in contacts)] if draw(st.booleans()) else [
        c.text for c in contacts
    ]
    for value in contact_lines if contacts else []:
        ordered.append(f"{_name(draw, 'Contact', 'm')}: {value}")
    # Interleave the ordered Via/Contact fields with the others at random places.
    start = 0
    for line in ordered:
        start = draw(st.integers(start, len(lines)))
        lines.insert(start, line)
        start += 1
    head = f"{method} {uri} SIP/2.0\r\n" + "\r\n".join(lines) + "\r\n\r\n"
    return Generated(head.encode(), method, uri, hops, from_, to, contacts, body)


def _addr_key(msg_addr: object) -> tuple[object, ...]:
    a = msg_addr
    return (a.display_name, str(a.uri), dict(a.params))  # type: ignore[attr-defined]


def _semantics(msg: Message) -> tuple[object, ...]:
    """Everything a layer above reads from a message, in comparable form."""
    assert isinstance(msg, Request)
    return (
        msg.method,
        str(msg.uri),
        [(str(v), v.transport, v.host, v.port, dict(v.params)) for v in msg.vias],
        _addr_key(msg.from_),
        _addr_key(msg.to),
        [_addr_key(c) for c in msg.contacts],
        msg.call_id,
        msg.cseq,
        msg.headers.get_list("supported"),
        msg.headers.get("max-forwards"),
        msg.body,
    )


@MESSAGE_SETTINGS
@given(messages())
def test_generated_message_parses_to_what_was_generated(gen: Generated) -> None:
    msg = parse_message(gen.data + gen.body)
    assert isinstance(msg, Request)
    assert msg.method == gen.method and msg.body == gen.body
    assert [(v.transport, v.host, v.port, v.branch) for v in msg.vias] == [
        (h.transport, h.host, h.port, h.branch) for h in gen.hops
    ]
    for parsed, addr in ((msg.from_, gen.from_), (msg.to, gen.to)):
        assert parsed.display_name == addr.display
        assert parsed.tag == addr.tag
        assert str(parsed.uri).lower() == addr.uri.lower()
    assert [c.display_name for c in msg.contacts] == [c.display for c in gen.contacts]
    assert msg.cseq.method == gen.method


@MESSAGE_SETTINGS
@given(messages())
def test_parse_serialize_parse_is_a_fixed_point(gen: Generated) -> None:
    first = parse_message(gen.data + gen.body)
    wire = first.serialize()
    second = parse_message(wire)
    assert _semantics(second) == _semantics(first)
    assert second.serialize() == wire


@SETTINGS
@given(uris)
def test_uri_text_round_trips(text: str) -> None:
    from softswitch.sip import parse_uri

    uri = parse_uri(text)
    again = parse_uri(str(uri))
    assert str(again) == str(uri)
    if isinstance(uri, SipURI):
        assert isinstance(again, SipURI)
        parts = (again.user, again.host, again.port, again.params)
        assert parts == (uri.user, uri.host, uri.port, uri.params)


@SETTINGS
@given(addresses())
def test_address_text_round_trips(addr: Addr) -> None:
    from softswitch.sip import parse_address

    parsed = parse_address(addr.text)
    again = parse_address(str(parsed))
    assert _addr_key(again) == _addr_key(parsed)
    assert parsed.display_name == addr.display
