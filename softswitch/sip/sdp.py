"""SDP (RFC 8866, formerly RFC 4566) as an immutable structured value: parse, query, serialize.

A session description is kept as data (`SessionDescription` with its `MediaDescription`s), not
as text to patch: the offer/answer rules in `softswitch.sip.sdp_negotiation` read and build it.

Tolerance: real phones send LF-only line endings, trailing blanks, blank lines, a missing `t=`
or an empty `s=`, lower-case `in ip4`, upper- or lower-case encoding names, attributes in an
unusual order and static payload types without `a=rtpmap`. All of that is accepted. What a call
cannot survive (no `v=0` first, no `o=`, a broken `c=` or `m=` line, a port out of range, an
`a=rtpmap` that contradicts its own grammar) raises `SdpError` naming the line, with SIP status
400; failed negotiation raises its subclass `SdpNotAcceptable` (488, RFC 3264 section 6).

Lines we do not interpret (`i=`, `u=`, `e=`, `p=`, `z=`, `k=`, `r=`, unknown letters) are kept
and written back, so a description relayed through the switch loses nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import Enum

from softswitch.sip.errors import RemoteProtocolError

__all__ = [
    "Attribute",
    "Connection",
    "Direction",
    "MediaDescription",
    "Origin",
    "RtpMap",
    "STATIC_PAYLOAD_TYPES",
    "SdpError",
    "SdpNotAcceptable",
    "SessionDescription",
    "parse_sdp",
]


class SdpError(RemoteProtocolError):
    """An SDP body the switch cannot use; `status` is the SIP answer (400 when malformed)."""

    def __init__(self, reason: str, status: int = 400, *, line: int | None = None) -> None:
        where = f"SDP line {line}: " if line is not None else "SDP: "
        super().__init__(where + reason, status)
        self.line = line


class SdpNotAcceptable(SdpError):
    """Well-formed SDP with nothing we can accept (no common codec, no audio): 488."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason, 488)


# RFC 3551 table 4: payload types whose meaning needs no a=rtpmap.
STATIC_PAYLOAD_TYPES: dict[int, tuple[str, int]] = {
    0: ("PCMU", 8000),
    3: ("GSM", 8000),
    4: ("G723", 8000),
    5: ("DVI4", 8000),
    6: ("DVI4", 16000),
    7: ("LPC", 8000),
    8: ("PCMA", 8000),
    9: ("G722", 8000),
    10: ("L16", 44100),
    12: ("QCELP", 8000),
    13: ("CN", 8000),
    15: ("G728", 8000),
    18: ("G729", 8000),
}


class Direction(Enum):
    """The RFC 3264 section 5.1 direction attributes, seen from the side that wrote them."""

    SENDRECV = "sendrecv"
    SENDONLY = "sendonly"
    RECVONLY = "recvonly"
    INACTIVE = "inactive"

    @property
    def sends(self) -> bool:
        return self in (Direction.SENDRECV, Direction.SENDONLY)

    @property
    def receives(self) -> bool:
        return self in (Direction.SENDRECV, Direction.RECVONLY)

    @classmethod
    def from_flags(cls, sends: bool, receives: bool) -> Direction:
        if sends:
            return cls.SENDRECV if receives else cls.SENDONLY
        return cls.RECVONLY if receives else cls.INACTIVE

    def reversed(self) -> Direction:
        """The same stream seen from the peer: what one side sends, the other receives."""
        return Direction.from_flags(self.receives, self.sends)

    def __and__(self, other: Direction) -> Direction:
        """Only what both allow: `answer = offer.reversed() & wanted` (RFC 3264 section 6.1)."""
        return Direction.from_flags(self.sends and other.sends, self.receives and other.receives)


_DIRECTIONS = {d.value: d for d in Direction}


@dataclass(frozen=True, slots=True)
class Origin:
    """`o=`: who made the description and its version (RFC 8866 section 5.2).

    RFC 3264 section 8: every changed offer or answer in a session carries a higher `version`
    and the same `session_id`; `bumped()` makes that copy.
    """

    username: str = "-"
    session_id: str = "0"
    version: int = 0
    nettype: str = "IN"
    addrtype: str = "IP4"
    address: str = "0.0.0.0"

    def bumped(self) -> Origin:
        return replace(self, version=self.version + 1)

    def __str__(self) -> str:
        return (
            f"{self.username} {self.session_id} {self.version} "
            f"{self.nettype} {self.addrtype} {self.address}"
        )


@dataclass(frozen=True, slots=True)
class Connection:
    """`c=IN IP4 host` (RFC 8866 section 5.7); `address` keeps a multicast `/ttl` suffix."""

    address: str
    addrtype: str = "IP4"
    nettype: str = "IN"

    @classmethod
    def for_host(cls, host: str) -> Connection:
        return cls(host, "IP6" if ":" in host else "IP4")

    @property
    def host(self) -> str:
        return self.address.split("/", 1)[0]

    @property
    def is_null(self) -> bool:
        """RFC 2543 hold: `c=IN IP4 0.0.0.0` (and `::`, which some IPv6 phones send)."""
        return self.host in ("0.0.0.0", "::")

    def __str__(self) -> str:
        return f"{self.nettype} {self.addrtype} {self.address}"


@dataclass(frozen=True, slots=True)
class Attribute:
    """`a=name` (property) or `a=name:value`."""

    name: str
    value: str | None = None

    def __str__(self) -> str:
        return self.name if self.value is None else f"{self.name}:{self.value}"


@dataclass(frozen=True, slots=True)
class RtpMap:
    """`a=rtpmap:<pt> <encoding>/<clock rate>[/<channels>]` (RFC 8866 section 6.6)."""

    payload_type: int
    encoding: str
    clock_rate: int
    channels: int | None = None

    @property
    def name(self) -> str:
        """Encoding name upper-cased: names are case-insensitive (RFC 4855 section 3)."""
        return self.encoding.upper()

    def __str__(self) -> str:
        channels = f"/{self.channels}" if self.channels is not None else ""
        return f"{self.payload_type} {self.encoding}/{self.clock_rate}{channels}"


@dataclass(frozen=True, slots=True)
class MediaDescription:
    """One `m=` section with its `c=`, `b=` and `a=` lines."""

    media: str
    port: int
    proto: str
    formats: tuple[str, ...]
    port_count: int | None = None
    connection: Connection | None = None
    bandwidths: tuple[str, ...] = ()
    attributes: tuple[Attribute, ...] = ()
    other: tuple[tuple[str, str], ...] = ()
    # a=rtpmap by payload type, read once: negotiation asks for each codec and payload type
    _rtpmaps: dict[int, RtpMap] | None = field(
        default=None, init=False, repr=False, compare=False, hash=False)
    _payload_types: tuple[int, ...] | None = field(
        default=None, init=False, repr=False, compare=False, hash=False)

    @property
    def rejected(self) -> bool:
        """Port 0: a stream refused or removed (RFC 3264 sections 6 and 8.2)."""
        return self.port == 0

    @property
    def is_rtp(self) -> bool:
        return self.proto.upper().startswith("RTP/")

    @property
    def payload_types(self) -> tuple[int, ...]:
        """The formats as RTP payload types (numeric formats only, in offered order)."""
        found = self._payload_types
        if found is None:
            found = tuple(int(f) for f in self.formats if f.isascii() and f.isdigit())
            object.__setattr__(self, "_payload_types", found)  # frozen: a cache, not a field
        return found

    def values(self, name: str) -> list[str | None]:
        """Values of every `a=name` line; names match case-insensitively (phones vary)."""
        lowered = name.lower()
        return [a.value for a in self.attributes if a.name.lower() == lowered]

    def has(self, name: str) -> bool:
        return bool(self.values(name))

    def rtpmap(self, payload_type: int) -> RtpMap | None:
        """The explicit `a=rtpmap` of a payload type (the first one), else its RFC 3551
        static meaning."""
        table = self._rtpmaps
        if table is None:
            table = {}
            for value in self.values("rtpmap"):
                mapped = _parse_rtpmap(value)
                if mapped is not None:
                    table.setdefault(mapped.payload_type, mapped)
            object.__setattr__(self, "_rtpmaps", table)  # frozen: a cache, not a field
        mapped = table.get(payload_type)
        if mapped is not None:
            return mapped
        static = STATIC_PAYLOAD_TYPES.get(payload_type)
        return RtpMap(payload_type, *static) if static else None

    def fmtp(self, payload_type: int) -> str | None:
        prefix = f"{payload_type} "
        for value in self.values("fmtp"):
            if value is not None and value.strip().startswith(prefix):
                return value.strip()[len(prefix) :].strip()
        return None

    @property
    def ptime(self) -> int | None:
        return _int_attribute(self.values("ptime"))

    @property
    def maxptime(self) -> int | None:
        return _int_attribute(self.values("maxptime"))

    @property
    def direction(self) -> Direction | None:
        """The direction attribute written in this section, None when absent."""
        for attribute in self.attributes:
            found = _DIRECTIONS.get(attribute.name.lower())
            if found is not None and attribute.value is None:
                return found
        return None

    @property
    def rtcp_mux(self) -> bool:
        return self.has("rtcp-mux")

    @property
    def rtcp(self) -> tuple[int, Connection | None] | None:
        """`a=rtcp:port [IN IP4 addr]` (RFC 3605), or None when absent or unreadable."""
        for value in self.values("rtcp"):
            parts = (value or "").split()
            if not parts or not parts[0].isdigit() or not 0 < int(parts[0]) < 65536:
                continue
            conn = None
            if len(parts) == 4:
                conn = Connection(parts[3], parts[2].upper(), parts[1].upper())
            return int(parts[0]), conn
        return None

    def with_attributes(self, attributes: tuple[Attribute, ...]) -> MediaDescription:
        return replace(self, attributes=attributes)


@dataclass(frozen=True, slots=True)
class SessionDescription:
    """A whole description: session-level lines and the media sections in order."""

    origin: Origin
    name: str = "-"
    connection: Connection | None = None
    times: tuple[tuple[int, int], ...] = ((0, 0),)
    bandwidths: tuple[str, ...] = ()
    attributes: tuple[Attribute, ...] = ()
    media: tuple[MediaDescription, ...] = ()
    other: tuple[tuple[str, str], ...] = ()

    def connection_of(self, media: MediaDescription) -> Connection | None:
        """A section's own `c=`, else the session's (RFC 8866 section 5.7)."""
        return media.connection or self.connection

    def direction_of(self, media: MediaDescription) -> Direction:
        """A section's direction, else the session-level one, else sendrecv (RFC 3264 5.1)."""
        own = media.direction
        if own is not None:
            return own
        for attribute in self.attributes:
            found = _DIRECTIONS.get(attribute.name.lower())
            if found is not None and attribute.value is None:
                return found
        return Direction.SENDRECV

    def serialize(self) -> bytes:
        """CRLF-terminated lines in the RFC 8866 order."""
        lines = ["v=0", f"o={self.origin}", f"s={self.name or '-'}"]
        lines += _other_lines(self.other, "iuep")
        if self.connection is not None:
            lines.append(f"c={self.connection}")
        lines += [f"b={b}" for b in self.bandwidths]
        for start, stop in self.times or ((0, 0),):
            lines.append(f"t={start} {stop}")
        lines += _other_lines(self.other, "rzk")
        lines += [f"a={a}" for a in self.attributes]
        lines += _other_lines(self.other, None)
        for m in self.media:
            count = f"/{m.port_count}" if m.port_count is not None else ""
            lines.append(f"m={m.media} {m.port}{count} {m.proto} {' '.join(m.formats)}".rstrip())
            lines += _other_lines(m.other, "i")
            if m.connection is not None:
                lines.append(f"c={m.connection}")
            lines += [f"b={b}" for b in m.bandwidths]
            lines += _other_lines(m.other, "k")
            lines += [f"a={a}" for a in m.attributes]
            lines += _other_lines(m.other, None)
        return ("\r\n".join(lines) + "\r\n").encode("utf-8", "surrogateescape")

    def __bytes__(self) -> bytes:
        return self.serialize()


_KNOWN_LETTERS = frozenset("vosiuepcbtrzkam")


def _other_lines(other: tuple[tuple[str, str], ...], letters: str | None) -> list[str]:
    """Kept lines of the given letters, or (letters=None) of letters SDP does not define."""
    if letters is None:
        return [f"{k}={v}" for k, v in other if k not in _KNOWN_LETTERS]
    return [f"{k}={v}" for letter in letters for k, v in other if k == letter]


def _int_attribute(values: list[str | None]) -> int | None:
    for value in values:
        text = (value or "").strip()
        # Some phones write a fraction ("a=ptime:20.0"); the integer part is what they mean.
        head = text.split(".", 1)[0]
        if head.isascii() and head.isdigit() and int(head) > 0:
            return int(head)
    return None


def _parse_rtpmap(value: str | None) -> RtpMap | None:
    """Read an rtpmap value; None when its payload type part is not a number at all (such a
    line cannot name one of our formats), ValueError when the rest breaks the grammar."""
    text = (value or "").strip()
    pt_text, _, rest = text.partition(" ")
    if not (pt_text.isascii() and pt_text.isdigit()):
        return None
    parts = rest.strip().split("/")
    if len(parts) not in (2, 3) or not parts[0] or not all(p.strip().isdigit() for p in parts[1:]):
        raise ValueError(f"invalid rtpmap {text!r}")
    channels = int(parts[2]) if len(parts) == 3 else None
    return RtpMap(int(pt_text), parts[0].strip(), int(parts[1]), channels)


# -- parsing ---------------------------------------------------------------------------------


def parse_sdp(body: bytes | str) -> SessionDescription:
    """Parse a description; raises `SdpError` (status 400) naming the first unusable line."""
    text = body.decode("utf-8", "surrogateescape") if isinstance(body, bytes) else body
    text = text.lstrip("\ufeff")
    numbered = [
        (n, line.rstrip()) for n, line in enumerate(text.split("\n"), start=1) if line.strip()
    ]
    if not numbered:
        raise SdpError("empty description")
    first_no, first = numbered[0]
    if not first.startswith("v="):
        raise SdpError("description must start with v=", line=first_no)
    if first[2:].strip() != "0":
        raise SdpError(f"unsupported SDP version {first[2:]!r}", line=first_no)
    session = _SessionBuilder()
    media: list[_MediaBuilder] = []
    for number, line in numbered[1:]:
        letter, value = _split_line(line, number)
        if letter == "m":
            media.append(_MediaBuilder(_parse_m(value, number)))
        elif media:
            media[-1].add(letter, value, number)
        else:
            session.add(letter, value, number)
    return session.build([m.build() for m in media])


def _split_line(line: str, number: int) -> tuple[str, str]:
    if len(line) < 2 or line[1] != "=" or not line[0].isalpha():
        raise SdpError(f"not a <type>=<value> line: {line[:40]!r}", line=number)
    return line[0].lower(), line[2:].strip()


class _SessionBuilder:
    def __init__(self) -> None:
        self.origin: Origin | None = None
        self.name = "-"
        self.connection: Connection | None = None
        self.times: list[tuple[int, int]] = []
        self.bandwidths: list[str] = []
        self.attributes: list[Attribute] = []
        self.other: list[tuple[str, str]] = []

    def add(self, letter: str, value: str, number: int) -> None:
        if letter == "o":
            self.origin = _parse_o(value, number)
        elif letter == "s":
            self.name = value or "-"  # an empty s= is common; "-" is the RFC's "no name"
        elif letter == "c":
            self.connection = _parse_c(value, number)
        elif letter == "t":
            self.times.append(_parse_t(value, number))
        elif letter == "b":
            self.bandwidths.append(value)
        elif letter == "a":
            self.attributes.append(_parse_a(value))
        elif letter == "v":
            raise SdpError("second v= line", line=number)
        else:
            self.other.append((letter, value))

    def build(self, media: list[MediaDescription]) -> SessionDescription:
        if self.origin is None:
            raise SdpError("missing o= line")
        return SessionDescription(
            origin=self.origin,
            name=self.name,
            connection=self.connection,
            times=tuple(self.times) or ((0, 0),),
            bandwidths=tuple(self.bandwidths),
            attributes=tuple(self.attributes),
            media=tuple(media),
            other=tuple(self.other),
        )


class _MediaBuilder:
    def __init__(self, media: MediaDescription) -> None:
        self.media = media
        self.connection: Connection | None = None
        self.bandwidths: list[str] = []
        self.attributes: list[Attribute] = []
        self.other: list[tuple[str, str]] = []
        self.rtpmaps: dict[int, RtpMap] = {}  # parsed to check them: MediaDescription's cache

    def add(self, letter: str, value: str, number: int) -> None:
        if letter == "c":
            if self.connection is None:  # several c= lines are multicast layering; keep one
                self.connection = _parse_c(value, number)
        elif letter == "b":
            self.bandwidths.append(value)
        elif letter == "a":
            attribute = _parse_a(value)
            if attribute.name.lower() == "rtpmap":
                try:
                    mapped = _parse_rtpmap(attribute.value)
                except ValueError as exc:
                    raise SdpError(str(exc), line=number) from None
                if mapped is not None:
                    self.rtpmaps.setdefault(mapped.payload_type, mapped)  # the first one counts
            self.attributes.append(attribute)
        elif letter in "vost":
            raise SdpError(f"{letter}= line inside a media section", line=number)
        else:
            self.other.append((letter, value))

    def build(self) -> MediaDescription:
        m = self.media
        built = MediaDescription(
            m.media, m.port, m.proto, m.formats, m.port_count, self.connection,
            tuple(self.bandwidths), tuple(self.attributes), tuple(self.other),
        )
        object.__setattr__(built, "_rtpmaps", self.rtpmaps)  # what rtpmap() would build
        return built


def _parse_o(value: str, number: int) -> Origin:
    parts = value.split()
    if len(parts) != 6:
        raise SdpError(f"o= needs 6 fields, got {len(parts)}", line=number)
    username, session_id, version, nettype, addrtype, address = parts
    if not (version.isascii() and version.isdigit()):
        raise SdpError(f"o= session version {version!r} is not a number", line=number)
    return Origin(username, session_id, int(version), nettype.upper(), addrtype.upper(), address)


def _parse_c(value: str, number: int) -> Connection:
    parts = value.split()
    if len(parts) != 3:
        raise SdpError(f"c= needs <nettype> <addrtype> <address>, got {value!r}", line=number)
    nettype, addrtype, address = parts[0].upper(), parts[1].upper(), parts[2]
    if nettype != "IN" or addrtype not in ("IP4", "IP6"):
        raise SdpError(f"unsupported connection type {nettype} {addrtype}", line=number)
    return Connection(address, addrtype, nettype)


def _parse_t(value: str, number: int) -> tuple[int, int]:
    parts = value.split()
    if len(parts) != 2 or not all(p.isascii() and p.isdigit() for p in parts):
        raise SdpError(f"t= needs two decimal times, got {value!r}", line=number)
    return int(parts[0]), int(parts[1])


def _parse_a(value: str) -> Attribute:
    name, colon, rest = value.partition(":")
    return Attribute(name.strip(), rest if colon else None)


def _parse_m(value: str, number: int) -> MediaDescription:
    parts = value.split()
    if len(parts) < 3:
        raise SdpError(f"m= needs <media> <port> <proto> <fmt>..., got {value!r}", line=number)
    media, port_text, proto, *formats = parts
    port_part, slash, count_part = port_text.partition("/")
    if not (port_part.isascii() and port_part.isdigit()) or int(port_part) > 65535:
        raise SdpError(f"invalid port {port_text!r}", line=number)
    if slash and not (count_part.isascii() and count_part.isdigit() and int(count_part) > 0):
        raise SdpError(f"invalid port count {port_text!r}", line=number)
    port = int(port_part)
    if not formats and port != 0:
        raise SdpError("m= line without formats", line=number)
    if proto.upper().startswith("RTP/"):
        for fmt in formats:
            if not (fmt.isascii() and fmt.isdigit() and int(fmt) <= 127):
                raise SdpError(f"RTP payload type {fmt!r} is not 0..127", line=number)
    return MediaDescription(
        media=media.lower(),
        port=port,
        proto=proto,
        formats=tuple(formats),
        port_count=int(count_part) if slash else None,
    )
