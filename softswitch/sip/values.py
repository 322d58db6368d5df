"""Typed values of the structured SIP headers: name-addr, Via and CSeq.

Each value parses from and serializes to the header's text; parsing raises RemoteProtocolError
(status 400) with a reason that names what is wrong.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from softswitch.sip.errors import RemoteProtocolError
from softswitch.sip.grammar import (
    format_params,
    is_digits,
    is_token,
    parse_params,
    quote,
    unquote,
)
from softswitch.sip.uri import URI, format_host, parse_host_port, parse_uri

__all__ = [
    "Address", "Via", "CSeq", "parse_address", "parse_name_addr", "parse_via", "parse_cseq",
    "MAGIC_COOKIE",
]

MAGIC_COOKIE = "z9hG4bK"


@dataclass(frozen=True, slots=True)
class Address:
    """A name-addr or addr-spec with header parameters: From, To, Contact, Route, ...

    `wildcard` marks the `Contact: *` of an unregister-all REGISTER.
    """

    uri: URI | None
    display_name: str | None = None
    params: dict[str, str | None] = field(default_factory=dict, compare=False, hash=False)
    wildcard: bool = False

    @property
    def tag(self) -> str | None:
        return self.params.get("tag")

    def with_tag(self, tag: str) -> Address:
        # the constructor, not dataclasses.replace: several times per call, and 5x cheaper
        return Address(self.uri, self.display_name, {**self.params, "tag": tag}, self.wildcard)

    def __str__(self) -> str:
        if self.wildcard:
            return "*"
        name = ""
        if self.display_name is not None:
            dn = self.display_name
            name = (dn if dn and all(is_token(w) for w in dn.split(" ")) else quote(dn)) + " "
        return f"{name}<{self.uri}>{format_params(self.params)}"


def parse_address(text: str) -> Address:
    """Parse From/To/Contact/Route style values (RFC 3261 section 20.10).

    Memoised like `parse_uri`: a phone sends the same To and Contact in every REGISTER (and
    the same From within a call), so the result is shared and must be treated as immutable
    (``with_tag`` copies). A plain ``<URI>;params`` value memoises its ``<URI>`` part only
    and parses the parameters afresh: a From carries a new tag in every request, which made
    the whole value miss the memo every time.
    """
    text = text.strip()
    if text.startswith("<"):
        gt = text.find(">")
        if 0 < gt < len(text) - 1:
            head = _parse_address(text[: gt + 1])
            return Address(head.uri, head.display_name, parse_params(text[gt + 1 :]))
    return _parse_address(text)


def parse_name_addr(text: str) -> Address:
    """`parse_address` for From and To, where the ``*`` of ``Contact: *`` is no address: the
    answer's To would be ``*;tag=...``, which cannot be read back."""
    address = parse_address(text)
    if address.wildcard:
        raise RemoteProtocolError("'*' is not an address here")
    return address


@lru_cache(maxsize=8192)
def _parse_address(text: str) -> Address:
    """The whole parse of a stripped value (see `parse_address`)."""
    if text == "*":
        return Address(uri=None, wildcard=True)
    display: str | None = None
    if text.startswith('"'):
        end = _closing_quote(text)
        display = unquote(text[: end + 1])
        text = text[end + 1 :].lstrip()
        if not text.startswith("<"):
            raise RemoteProtocolError("Quoted display name without <URI>")
    lt = text.find("<")
    if lt >= 0:
        gt = text.find(">", lt)
        if gt < 0:
            raise RemoteProtocolError("Unterminated <URI>")
        if display is None:
            display = _token_display_name(text[:lt])
        inner = text[lt + 1 : gt]
        if inner != inner.strip():
            # LAQUOT/RAQUOT allow whitespace outside the brackets only (RFC 4475 3.1.2.14).
            raise RemoteProtocolError("Whitespace inside <URI>")
        uri = parse_uri(inner)
        params = parse_params(text[gt + 1 :])
    else:
        # addr-spec: any ';' parameters belong to the header, not to the URI.
        uri_text, semi, param_text = text.partition(";")
        if "?" in uri_text or "," in uri_text:
            raise RemoteProtocolError("URI with '?' or ',' must be enclosed in <>")
        uri = parse_uri(uri_text)
        params = parse_params(semi + param_text)
    return Address(uri=uri, display_name=display, params=params)


def _token_display_name(text: str) -> str | None:
    """An unquoted display name: tokens separated by LWS (RFC 3261 section 25.1).

    Anything else, such as `Smith, Jane` (RFC 4475 3.1.2.15), must be quoted; guessing would
    misread a comma-joined list of addresses.
    """
    words = text.split()
    if not words:
        return None
    if not all(is_token(word) for word in words):
        raise RemoteProtocolError("Invalid display name: non-token characters must be quoted")
    return " ".join(words)


def _closing_quote(text: str) -> int:
    i = 1
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        if text[i] == '"':
            return i
        i += 1
    raise RemoteProtocolError("Unterminated quoted display name")


@dataclass(frozen=True, slots=True)
class Via:
    """One Via hop: `SIP/2.0/UDP host:port;branch=...;rport;received=...`."""

    transport: str
    host: str
    port: int | None = None
    params: dict[str, str | None] = field(default_factory=dict, compare=False, hash=False)
    protocol: str = "SIP/2.0"

    @property
    def branch(self) -> str | None:
        return self.params.get("branch")

    @property
    def sent_by(self) -> tuple[str, int | None]:
        return self.host, self.port

    def with_params(self, **params: str | None) -> Via:
        # the constructor, not dataclasses.replace: on every request we send
        return Via(self.transport, self.host, self.port, {**self.params, **params}, self.protocol)

    def __str__(self) -> str:
        port = f":{self.port}" if self.port is not None else ""
        hp = format_host(self.host) + port
        return f"{self.protocol}/{self.transport} {hp}{format_params(self.params)}"


def parse_via(text: str) -> Via:
    """Parse one Via value; tolerant of linear whitespace around '/' and ':' (RFC 4475 3.1.1.1).

    The part before the first ';' (sent-protocol and sent-by) is the same in every request of
    a phone, so its parse is memoised; only the parameters (a new branch each time) are parsed
    afresh. When that part alone does not parse, the whole value takes the unmemoised path,
    which raises exactly what it always raised.
    """
    text = text.strip()
    head, semi, params = text.partition(";")
    try:
        transport, host, port, protocol, _ = _sent_by(head)
    except RemoteProtocolError:
        transport, host, port, protocol, params = _split_via(text)
        semi = ""
    return Via(transport, host, port, parse_params(semi + params), protocol)


def _split_via(text: str) -> tuple[str, str, int | None, str, str]:
    """(transport, host, port, protocol, parameter text) of a stripped Via value."""
    proto_end = _nth_slash_end(text)
    proto = "".join(text[:proto_end].split())
    parts = proto.split("/")
    if len(parts) != 3 or not all(parts):
        raise RemoteProtocolError(f"Invalid Via protocol {proto!r}")
    name, version, transport = parts
    major, dot, minor = version.partition(".")
    if name.upper() != "SIP" or not (dot and is_digits(major) and is_digits(minor)):
        raise RemoteProtocolError(f"Invalid Via protocol {proto!r}")
    rest = text[proto_end:].strip()
    sent_by, semi, params = rest.partition(";")
    sent_by = "".join(sent_by.split())
    if not sent_by:
        raise RemoteProtocolError("Via without sent-by")
    host, port = parse_host_port(sent_by)
    # Another version is kept, not refused: a request that says SIP/7.0 on its Request-Line
    # and Via must still get its 505 routed back (RFC 4475 3.1.2.16).
    protocol = "SIP/2.0" if version == "2.0" else f"SIP/{version}"
    return transport.upper(), host, port, protocol, semi + params


# Bounded: the texts are chosen by whoever sends.
_sent_by = lru_cache(maxsize=8192)(_split_via)


def _nth_slash_end(text: str) -> int:
    """Index just after the transport token that follows the second '/'."""
    slashes = 0
    i = 0
    n = len(text)
    while i < n and slashes < 2:
        if text[i] == "/":
            slashes += 1
        i += 1
    if slashes < 2:
        raise RemoteProtocolError("Invalid Via protocol")
    while i < n and text[i] in " \t":
        i += 1
    while i < n and text[i] not in " \t":
        i += 1
    return i


@dataclass(frozen=True, slots=True)
class CSeq:
    number: int
    method: str

    def __str__(self) -> str:
        return f"{self.number} {self.method}"


@lru_cache(maxsize=8192)
def parse_cseq(text: str) -> CSeq:
    """Parse `number METHOD`; the number must fit in 32 bits (RFC 3261 section 8.1.1.5).

    Memoised (CSeq values are immutable): phones send `1 REGISTER`, `2 REGISTER`... again
    and again."""
    parts = text.split()
    if len(parts) != 2:
        raise RemoteProtocolError("Invalid CSeq")
    number, method = parts
    if not is_digits(number) or len(number) > 10 or int(number) > 0xFFFFFFFF:
        raise RemoteProtocolError("Invalid CSeq number")
    if not is_token(method):
        raise RemoteProtocolError("Invalid CSeq method")
    return CSeq(int(number), method)
