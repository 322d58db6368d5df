"""RFC 3264 offer/answer for the switch's audio legs: choose a codec, a direction, an address.

The switch anchors media, so each call leg negotiates once with its phone and the result (a
frozen `Negotiated`) is handed to the media engine. Rules applied, by RFC 3264 section:

- 6: the answer has as many m-lines as the offer, in the same order; a stream we do not take
  is answered with port 0 and the offer's first format. We take the first audio stream over
  RTP/AVP (or RTP/AVPF, whose feedback we simply do not send) with a codec in common; secure
  (SAVP) and video streams are refused. Nothing usable at all: `SdpNotAcceptable` (488).
- 6.1: answer formats are a subset of the offer's and keep the offer's payload type numbers.
  We answer with exactly one audio codec (plus telephone-event), so the peer cannot switch
  codecs mid-call under a relaying bridge. The codec is the offerer's first that we support,
  or ours first when `Capabilities.prefer_own_order` is set, or a caller-given preference (a
  B2BUA asks for the other leg's codec to stay on the relay fast path).
- 6.1 directions: the answer mirrors the offer (offer sendonly -> answer recvonly, inactive ->
  inactive) and is further limited by what we want (`wanted=SENDONLY` puts the peer on hold).
  RFC 2543 hold, `c=0.0.0.0`, means "do not send to me": we answer without sending.
- 8: an offer with the same o= version as the previous one changes nothing (session refresh);
  each changed description we send has a higher o= version, same session id (`SdpSession`).
- RFC 4733: telephone-event is accepted at the chosen codec's RTP clock rate; the events
  answered are the intersection of the offered set (default 0-15) and ours (0-16).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field, replace
from functools import lru_cache

from softswitch.sip.sdp import (
    Attribute,
    Connection,
    Direction,
    MediaDescription,
    Origin,
    SdpError,
    SdpNotAcceptable,
    SessionDescription,
)

__all__ = [
    "AUDIO_CODECS",
    "Capabilities",
    "LegAnswer",
    "LocalMedia",
    "Negotiated",
    "SdpSession",
    "accept_answer",
    "answer_from_other_leg",
    "answer_offer",
    "bridge_preference",
    "format_events",
    "make_offer",
    "parse_events",
]

# Encoding name -> (static payload type, RTP clock rate). G.722 samples at 16 kHz but its RTP
# clock is 8000 (RFC 3551 section 4.5.2), which is also the clock of its telephone-events.
AUDIO_CODECS: dict[str, tuple[int, int]] = {"PCMU": (0, 8000), "PCMA": (8, 8000), "G722": (9, 8000)}
TELEPHONE_EVENT = "TELEPHONE-EVENT"
_RTP_PROTOS = ("RTP/AVP", "RTP/AVPF")
_DEFAULT_PTIME = 20
_DEFAULT_OFFERED_EVENTS = "0-15"  # RFC 4733 section 7.1.1: no fmtp means 0-15


def _is_number(text: str) -> bool:
    return text.isascii() and text.isdigit()


def parse_events(text: str) -> frozenset[int]:
    """`0-15,66,70` -> the event codes; raises SdpError (400) on a malformed list."""
    codes: set[int] = set()
    for item in text.replace(" ", "").split(","):
        low, dash, high = item.partition("-")
        if not _is_number(low) or (dash and not _is_number(high)):
            raise SdpError(f"invalid telephone-event list {text!r}")
        first, last = int(low), int(high) if dash else int(low)
        if not 0 <= first <= last <= 255:
            raise SdpError(f"invalid telephone-event range {item!r}")
        codes.update(range(first, last + 1))
    return frozenset(codes)


@lru_cache(maxsize=64)  # every offer writes the same few lists
def format_events(codes: frozenset[int]) -> str:
    """The shortest range list: {0..16} -> `0-16`."""
    ordered = sorted(codes)
    items: list[str] = []
    start = prev = ordered[0]
    for code in [*ordered[1:], -2]:
        if code != prev + 1:
            items.append(f"{start}-{prev}" if prev > start else str(start))
            start = code
        prev = code
    return ",".join(items)


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What the switch's media engine can do on a leg, in order of preference."""

    codecs: tuple[str, ...] = ("PCMU", "PCMA", "G722")
    telephone_event: int | None = 101  # payload type we offer; None: no RFC 4733 at all
    events: str = "0-16"
    ptime: int = _DEFAULT_PTIME
    rtcp_mux: bool = False
    prefer_own_order: bool = False
    event_codes: frozenset[int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.codecs:
            raise ValueError("Capabilities need at least one codec")
        unknown = [c for c in self.codecs if c.upper() not in AUDIO_CODECS]
        if unknown:
            raise ValueError(f"unsupported codecs {unknown}; known: {sorted(AUDIO_CODECS)}")
        object.__setattr__(self, "codecs", tuple(c.upper() for c in self.codecs))
        if self.telephone_event is not None and not 96 <= self.telephone_event <= 127:
            raise ValueError("telephone-event needs a dynamic payload type (96..127)")
        if not 10 <= self.ptime <= 200:
            raise ValueError("ptime must be 10..200 ms")
        object.__setattr__(self, "event_codes", parse_events(self.events))


@dataclass(frozen=True, slots=True)
class LocalMedia:
    """Where our RTP leg listens, and the direction we want (SENDONLY holds the peer)."""

    host: str
    port: int
    wanted: Direction = Direction.SENDRECV


@dataclass(frozen=True, slots=True)
class Negotiated:
    """The outcome for one leg, in the terms the media engine takes (`media.MediaFormat`:
    codec, payload_type, event_payload_type=telephone_event; `configure(remote=...)`)."""

    remote_host: str
    remote_port: int
    codec: str
    payload_type: int
    clock_rate: int
    telephone_event: int | None
    ptime: int
    direction: Direction  # ours: do we send to / receive from the peer
    remote_hold: bool  # the peer asked not to receive (sendonly, inactive, c=0.0.0.0)
    rtcp_mux: bool = False
    remote_rtcp: tuple[str, int] | None = None

    def __post_init__(self) -> None:
        if not 0 <= self.payload_type <= 127:
            raise ValueError(f"payload type {self.payload_type} outside 0..127")
        if not 0 < self.remote_port < 65536:
            raise ValueError(f"remote port {self.remote_port} outside 1..65535")

    @property
    def remote(self) -> tuple[str, int] | None:
        """The peer's RTP address, None while it must not be sent to (RFC 2543 hold)."""
        if self.remote_host in ("0.0.0.0", "::"):
            return None
        return self.remote_host, self.remote_port


@dataclass(frozen=True, slots=True)
class _Choice:
    codec: str
    payload_type: int
    clock_rate: int
    telephone_event: int | None
    events: frozenset[int]


def _choose(
    m: MediaDescription, caps: Capabilities, prefer: tuple[str, ...], events: frozenset[int]
) -> _Choice | None:
    """The codec to use from a section's formats (None if we share none), and its events."""
    found: list[tuple[str, int]] = []
    for pt in m.payload_types:
        mapped = m.rtpmap(pt)
        if mapped is None or mapped.name not in caps.codecs or mapped.channels not in (None, 1):
            continue
        known_clock = AUDIO_CODECS[mapped.name][1]
        if mapped.clock_rate == known_clock and all(n != mapped.name for n, _ in found):
            found.append((mapped.name, pt))
    if not found:
        return None
    if caps.prefer_own_order:
        found.sort(key=lambda item: caps.codecs.index(item[0]))
    found.sort(key=lambda item: prefer.index(item[0]) if item[0] in prefer else len(prefer))
    name, pt = found[0]
    clock = AUDIO_CODECS[name][1]
    event_pt: int | None = None
    codes: frozenset[int] = frozenset()
    if caps.telephone_event is not None:
        for candidate in m.payload_types:
            mapped = m.rtpmap(candidate)
            if mapped is not None and mapped.name == TELEPHONE_EVENT and mapped.clock_rate == clock:
                offered = parse_events(m.fmtp(candidate) or _DEFAULT_OFFERED_EVENTS)
                codes = offered & events
                event_pt = candidate if codes else None
                break
    return _Choice(name, pt, clock, event_pt, codes)


def _usable(m: MediaDescription) -> bool:
    return m.media == "audio" and not m.rejected and m.proto.upper() in _RTP_PROTOS


def _audio_section(
    port: int, proto: str, choice: _Choice, caps: Capabilities, direction: Direction, mux: bool
) -> MediaDescription:
    attributes = [Attribute("rtpmap", f"{choice.payload_type} {choice.codec}/{choice.clock_rate}")]
    formats = [str(choice.payload_type)]
    if choice.telephone_event is not None:
        formats.append(str(choice.telephone_event))
        attributes.append(
            Attribute("rtpmap", f"{choice.telephone_event} telephone-event/{choice.clock_rate}")
        )
        events = format_events(choice.events)
        attributes.append(Attribute("fmtp", f"{choice.telephone_event} {events}"))
    attributes.append(Attribute("ptime", str(caps.ptime)))
    if mux:
        attributes.append(Attribute("rtcp-mux"))
    attributes.append(Attribute(direction.value))
    return MediaDescription("audio", port, proto, tuple(formats), attributes=tuple(attributes))


def _negotiated(
    sdp: SessionDescription, m: MediaDescription, choice: _Choice, ours: Direction, mux: bool
) -> Negotiated:
    conn = sdp.connection_of(m)
    if conn is None:
        raise SdpError("the answer's audio stream has no c= line")
    host = conn.host
    peer = sdp.direction_of(m)
    rtcp: tuple[str, int] | None
    if mux:
        rtcp = (host, m.port)
    else:
        explicit = m.rtcp
        if explicit is None:
            rtcp = (host, m.port + 1)
        else:
            rtcp = (explicit[1].host if explicit[1] else host, explicit[0])
    return Negotiated(
        remote_host=host,
        remote_port=m.port,
        codec=choice.codec,
        payload_type=choice.payload_type,
        clock_rate=choice.clock_rate,
        telephone_event=choice.telephone_event,
        ptime=m.ptime or _DEFAULT_PTIME,
        direction=ours,
        remote_hold=conn.is_null or not peer.receives,
        rtcp_mux=mux,
        remote_rtcp=rtcp,
    )


def answer_offer(
    offer: SessionDescription,
    caps: Capabilities,
    local: LocalMedia,
    origin: Origin,
    *,
    prefer: tuple[str, ...] = (),
) -> tuple[SessionDescription, Negotiated]:
    """Answer an offer (RFC 3264 section 6); raises SdpNotAcceptable (488) when nothing fits."""
    sections: list[MediaDescription] = []
    result: Negotiated | None = None
    for m in offer.media:
        choice = None
        if result is None and _usable(m):
            choice = _choose(m, caps, prefer, caps.event_codes)
        if choice is None:
            sections.append(_rejected(m))
            continue
        conn = offer.connection_of(m)
        if conn is None:
            raise SdpError("audio stream without a c= line, at session or media level")
        wanted = local.wanted
        if conn.is_null:
            wanted = wanted & Direction.RECVONLY
        ours = offer.direction_of(m).reversed() & wanted
        mux = caps.rtcp_mux and m.rtcp_mux
        sections.append(_audio_section(local.port, m.proto, choice, caps, ours, mux))
        result = _negotiated(offer, m, choice, ours, mux)
    if result is None:
        raise SdpNotAcceptable("no audio stream with a common codec (PCMU, PCMA, G722)")
    return _session(origin, local.host, sections), result


def _rejected(m: MediaDescription) -> MediaDescription:
    return MediaDescription(m.media, 0, m.proto, m.formats[:1] or ("0",))


def _session(origin: Origin, host: str, media: list[MediaDescription]) -> SessionDescription:
    connection = Connection.for_host(host)
    return SessionDescription(
        origin=Origin(origin.username, origin.session_id, origin.version, origin.nettype,
                      connection.addrtype, host),
        name="-",
        connection=connection,
        media=tuple(media),
    )


def make_offer(
    caps: Capabilities, local: LocalMedia, origin: Origin, *, prefer: tuple[str, ...] = ()
) -> SessionDescription:
    """An offer with one audio stream: every codec we have (`prefer` first), telephone-event."""
    order = [c for c in prefer if c in caps.codecs] + [c for c in caps.codecs if c not in prefer]
    attributes: list[Attribute] = []
    formats: list[str] = []
    for name in order:
        pt, clock = AUDIO_CODECS[name]
        formats.append(str(pt))
        attributes.append(Attribute("rtpmap", f"{pt} {name}/{clock}"))
    if caps.telephone_event is not None:
        pt = caps.telephone_event
        formats.append(str(pt))
        attributes.append(Attribute("rtpmap", f"{pt} telephone-event/8000"))
        attributes.append(Attribute("fmtp", f"{pt} {format_events(caps.event_codes)}"))
    attributes.append(Attribute("ptime", str(caps.ptime)))
    if caps.rtcp_mux:
        attributes.append(Attribute("rtcp-mux"))
    attributes.append(Attribute(local.wanted.value))
    audio = MediaDescription(
        "audio", local.port, "RTP/AVP", tuple(formats), attributes=tuple(attributes)
    )
    return _session(origin, local.host, [audio])


def accept_answer(
    offer: SessionDescription, answer: SessionDescription, caps: Capabilities
) -> Negotiated:
    """Read the answer to our offer; SdpError (400) if it breaks RFC 3264, 488 if unusable."""
    if len(answer.media) != len(offer.media):
        raise SdpError(f"answer has {len(answer.media)} m-lines, the offer had {len(offer.media)}")
    for ours, theirs in zip(offer.media, answer.media, strict=True):
        if not (_usable(ours) and _usable(theirs)):
            continue
        offered = tuple(c for c in caps.codecs if _offers(ours, c))
        choice = _choose(theirs, _limited(caps, offered), (), caps.event_codes) if offered else None
        if choice is None:
            raise SdpNotAcceptable("the answer has no codec that we offered")
        direction = (ours.direction or Direction.SENDRECV) & answer.direction_of(theirs).reversed()
        conn = answer.connection_of(theirs)
        if conn is not None and conn.is_null:
            direction = direction & Direction.RECVONLY
        return _negotiated(answer, theirs, choice, direction, caps.rtcp_mux and theirs.rtcp_mux)
    raise SdpNotAcceptable("the answer accepted no audio stream")


@lru_cache(maxsize=64)  # a switch has one set of capabilities and offers few subsets
def _limited(caps: Capabilities, offered: tuple[str, ...]) -> Capabilities:
    """The capabilities an answer to our offer may use: the codecs we offered, any order."""
    return replace(caps, codecs=offered, prefer_own_order=False)


def _offers(m: MediaDescription, codec: str) -> bool:
    return any((r := m.rtpmap(pt)) is not None and r.name == codec for pt in m.payload_types)


# -- one leg's exchanges ---------------------------------------------------------------------


class SdpSession:
    """Our side of one leg's offer/answer history: the o= line, the last descriptions sent and
    received, and the pending offer (RFC 3264 sections 4 and 8). Pure bookkeeping, no I/O."""

    def __init__(
        self,
        caps: Capabilities,
        host: str,
        port: int,
        *,
        session_id: str | None = None,
        username: str = "-",
    ) -> None:
        self.caps = caps
        self.host = host
        self.port = port
        sid = session_id if session_id is not None else str(secrets.randbits(62))
        self.origin = Origin(username, sid, 1)
        self.local: SessionDescription | None = None
        self.remote: SessionDescription | None = None
        self.pending_offer: SessionDescription | None = None
        self.negotiated: Negotiated | None = None

    def create_offer(
        self, wanted: Direction = Direction.SENDRECV, *, prefer: tuple[str, ...] = ()
    ) -> SessionDescription:
        """A new offer (initial, re-INVITE, UPDATE); o= version goes up only if it changed."""
        if self.pending_offer is not None:
            raise SdpError("an offer is already pending", 491)
        offer = self._stamp(make_offer(self.caps, self._local(wanted), self.origin, prefer=prefer))
        self.pending_offer = offer
        return offer

    def receive_answer(self, answer: SessionDescription) -> Negotiated:
        if self.pending_offer is None:
            raise SdpError("an answer arrived but no offer is pending")
        offer, self.pending_offer = self.pending_offer, None
        self.negotiated = accept_answer(offer, answer, self.caps)
        self.remote = answer
        return self.negotiated

    def cancel_offer(self) -> None:
        """The offer's transaction failed (4xx to a re-INVITE): the old session stays."""
        self.pending_offer = None

    def receive_offer(
        self,
        offer: SessionDescription,
        wanted: Direction = Direction.SENDRECV,
        *,
        prefer: tuple[str, ...] = (),
    ) -> tuple[SessionDescription, Negotiated]:
        """Answer an offer; 491 while our own offer is pending (glare, RFC 3261 14.2)."""
        if self.pending_offer is not None:
            raise SdpError("offer received while ours is pending", 491)
        if prefer == () and self.negotiated is not None:
            prefer = (self.negotiated.codec,)  # keep the codec across re-offers
        answer, negotiated = answer_offer(
            offer, self.caps, self._local(wanted), self.origin, prefer=prefer
        )
        self.remote = offer
        self.negotiated = negotiated
        return self._stamp(answer), negotiated

    def is_refresh(self, offer: SessionDescription) -> bool:
        """Same o= session and version as the last description received: nothing changed."""
        last = self.remote
        return (
            last is not None
            and last.origin.session_id == offer.origin.session_id
            and last.origin.version == offer.origin.version
        )

    def _local(self, wanted: Direction) -> LocalMedia:
        return LocalMedia(self.host, self.port, wanted)

    def _stamp(self, sdp: SessionDescription) -> SessionDescription:
        previous = self.local
        if previous is not None and _with_origin(sdp, previous.origin) == previous:
            return previous
        if previous is not None:
            self.origin = previous.origin.bumped()
        origin = sdp.origin
        stamped = _with_origin(sdp, Origin(origin.username, origin.session_id,
                                           self.origin.version, origin.nettype,
                                           origin.addrtype, origin.address))
        self.origin = stamped.origin
        self.local = stamped
        return stamped


def _with_origin(sdp: SessionDescription, origin: Origin) -> SessionDescription:
    """``replace(sdp, origin=origin)``, built directly (twice per offer or answer)."""
    return SessionDescription(origin, sdp.name, sdp.connection, sdp.times, sdp.bandwidths,
                              sdp.attributes, sdp.media, sdp.other)


# -- B2BUA helpers ---------------------------------------------------------------------------


def bridge_preference(incoming_offer: SessionDescription, caps: Capabilities) -> tuple[str, ...]:
    """Codec order for the offer we send to the other leg: what the caller offered first (so
    the callee can pick the same codec and the bridge relays), then the rest of ours (which
    the media engine will transcode)."""
    first: list[str] = []
    for m in incoming_offer.media:
        if _usable(m):
            for pt in m.payload_types:
                mapped = m.rtpmap(pt)
                if mapped is not None and mapped.name in caps.codecs and mapped.name not in first:
                    first.append(mapped.name)
            break
    return tuple(first) + tuple(c for c in caps.codecs if c not in first)


@dataclass(frozen=True, slots=True)
class LegAnswer:
    """The answer for one leg of a bridge, and whether its codec differs from the other's."""

    answer: SessionDescription
    negotiated: Negotiated
    transcoding: bool


def answer_from_other_leg(
    session: SdpSession,
    offer: SessionDescription,
    other: Negotiated | None,
    wanted: Direction = Direction.SENDRECV,
) -> LegAnswer:
    """Answer this leg's offer preferring the codec the other leg negotiated: same codec means
    the relay fast path; a different one (this phone lacks it) means the engine transcodes."""
    prefer = (other.codec,) if other is not None else ()
    answer, negotiated = session.receive_offer(offer, wanted, prefer=prefer)
    transcoding = other is not None and other.codec != negotiated.codec
    return LegAnswer(answer, negotiated, transcoding)
