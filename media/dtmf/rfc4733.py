"""RFC 4733 telephone-events: payload format, a receiver that counts each press once, a sender.

The receiver keys events by RTP timestamp (RFC 4733 section 2.5.2): every packet of one
press carries the timestamp of its onset, so redundant end packets, retransmitted updates
and lost start packets all fold into one digit, and a new timestamp means a new press
(except the continuation segments of a press longer than the 16-bit duration field,
section 2.5.1.3, which carry no marker and start where the last segment's duration ends).
"""

from __future__ import annotations

import struct
from collections import deque
from dataclasses import dataclass

from media.dtmf.events import DIGITS, DtmfDigit
from media.rtp import RtpPacket, ts_diff

__all__ = [
    "ScheduledEvent",
    "TelephoneEvent",
    "TelephoneEventParseError",
    "TelephoneEventReceiver",
    "TelephoneEventSender",
]

_PAYLOAD = struct.Struct("!BBH")
MAX_DURATION = 0xFFFF


class TelephoneEventParseError(ValueError):
    """A telephone-event payload is malformed."""


@dataclass(frozen=True, slots=True)
class TelephoneEvent:
    """One telephone-event payload block (RFC 4733 section 2.3)."""

    event: int  # 0-9, 10 '*', 11 '#', 12-15 A-D, 16 flash
    end: bool = False
    volume: int = 10  # power level as -dBm0, 0..63
    duration: int = 0  # timestamp units since the event's onset

    def __post_init__(self) -> None:
        if not 0 <= self.event <= 255:
            raise ValueError(f"event code {self.event} outside 0..255")
        if not 0 <= self.volume <= 63:
            raise ValueError(f"volume {self.volume} outside 0..63")
        if not 0 <= self.duration <= MAX_DURATION:
            raise ValueError(f"duration {self.duration} outside 0..65535")

    @property
    def digit(self) -> str | None:
        """The DTMF character, or None for non-DTMF events (flash, tones)."""
        return DIGITS[self.event] if self.event < len(DIGITS) else None

    @classmethod
    def for_digit(
        cls, digit: str, *, end: bool = False, volume: int = 10, duration: int = 0
    ) -> TelephoneEvent:
        """The event for a keypad character (case-insensitive A-D)."""
        index = DIGITS.find(digit.upper()) if len(digit) == 1 else -1
        if index < 0:
            raise ValueError(f"not a DTMF digit: {digit!r}")
        return cls(index, end, volume, duration)

    @classmethod
    def parse(cls, payload: bytes) -> TelephoneEvent:
        """Parse the first 4-byte block; later blocks are RFC 2198 redundancy we skip."""
        if len(payload) < _PAYLOAD.size:
            raise TelephoneEventParseError(
                f"telephone-event payload of {len(payload)} bytes < 4"
            )
        event, flags, duration = _PAYLOAD.unpack_from(payload)
        return cls(event, bool(flags & 0x80), flags & 0x3F, duration)

    def serialize(self) -> bytes:
        return _PAYLOAD.pack(self.event, (0x80 if self.end else 0) | self.volume, self.duration)


@dataclass(slots=True)
class _Press:
    timestamp: int  # RTP timestamp of the current segment
    event: int
    started_at: float
    previous_segments: int  # duration of earlier segments of a long press
    duration: int  # within the current segment
    last_seen: float


class TelephoneEventReceiver:
    """Turns telephone-event packets of one stream into :class:`DtmfDigit`, once per press.

    Sans-IO: ``receive`` takes the caller's ``now``; ``poll(now)`` reports a press whose
    end packets were all lost once ``timeout`` passes without a packet (``deadline`` says
    when to call it).
    """

    def __init__(self, clock_rate: int = 8000, timeout: float = 0.3, remember: int = 16) -> None:
        self.clock_rate = clock_rate
        self.timeout = timeout
        self._press: _Press | None = None
        self._done: deque[int] = deque(maxlen=remember)  # timestamps already reported

    @property
    def deadline(self) -> float | None:
        """When ``poll`` may next report something, or None when no press is open."""
        return None if self._press is None else self._press.last_seen + self.timeout

    def receive_rtp(self, packet: RtpPacket, now: float) -> list[DtmfDigit]:
        """Convenience: feed an RTP packet already known to carry telephone-events."""
        return self.receive(packet.timestamp, TelephoneEvent.parse(packet.payload), now,
                            marker=packet.marker)

    def receive(self, timestamp: int, event: TelephoneEvent, now: float, *,
                marker: bool = False) -> list[DtmfDigit]:
        """Account one packet; returns the digits that ended because of it (0, 1 or 2)."""
        if event.digit is None or timestamp in self._done:
            return []  # non-DTMF event, or a redundant/late packet of a reported press
        out: list[DtmfDigit] = []
        press = self._press
        if press is not None and timestamp != press.timestamp:
            since = ts_diff(timestamp, press.timestamp)
            if since < 0:
                return []  # a late packet of an earlier, already replaced press
            if not marker and event.event == press.event and since <= press.duration:
                press.previous_segments += since  # next segment of a long press
                press.timestamp = timestamp
                press.duration = 0
            else:
                out.append(self._finish(press))
                press = None
        if press is None:
            press = self._press = _Press(timestamp, event.event, now, 0, 0, now)
        press.duration = max(press.duration, event.duration)
        press.last_seen = now
        if event.end:
            out.append(self._finish(press))
        return out

    def poll(self, now: float) -> list[DtmfDigit]:
        """Close a press that went silent without an end packet."""
        press = self._press
        if press is not None and now >= press.last_seen + self.timeout:
            return [self._finish(press)]
        return []

    def _finish(self, press: _Press) -> DtmfDigit:
        self._press = None
        self._done.append(press.timestamp)
        total = press.previous_segments + press.duration
        return DtmfDigit(DIGITS[press.event], press.started_at,
                         round(total * 1000 / self.clock_rate), "rfc4733")


@dataclass(frozen=True, slots=True)
class ScheduledEvent:
    """A telephone-event packet to send ``offset`` seconds after the press starts."""

    offset: float
    timestamp: int
    marker: bool
    event: TelephoneEvent


class TelephoneEventSender:
    """Plans the packets of one press (RFC 4733 section 2.5.1).

    The start packet has the marker bit, updates follow every ``interval_ms`` with the
    growing duration, and the final duration goes out ``end_repeats`` times with the E bit,
    ``interval_ms`` apart, so one lost packet cannot lose or stick the digit. Durations
    are never zero: some receivers ignore zero-duration starts. Presses are capped at
    the 16-bit duration field (8.19 s at 8 kHz).
    """

    def __init__(self, clock_rate: int = 8000, interval_ms: int = 50, end_repeats: int = 3,
                 volume: int = 10) -> None:
        if interval_ms <= 0 or end_repeats < 1:
            raise ValueError("interval_ms must be > 0 and end_repeats >= 1")
        self.clock_rate = clock_rate
        self.interval_ms = interval_ms
        self.end_repeats = end_repeats
        self.volume = volume

    def plan(self, digit: str, duration_ms: int, timestamp: int) -> list[ScheduledEvent]:
        """Every packet for ``digit`` held ``duration_ms``, all stamped ``timestamp``."""
        total = min(MAX_DURATION, max(1, duration_ms * self.clock_rate // 1000))
        step = self.interval_ms * self.clock_rate // 1000
        out: list[ScheduledEvent] = []
        elapsed = 0
        while elapsed < total:
            event = TelephoneEvent.for_digit(digit, volume=self.volume,
                                             duration=min(elapsed + step, total))
            out.append(ScheduledEvent(elapsed / self.clock_rate, timestamp, not out, event))
            elapsed += step
        end = TelephoneEvent.for_digit(digit, end=True, volume=self.volume, duration=total)
        for i in range(self.end_repeats):
            offset = (total + i * step) / self.clock_rate
            out.append(ScheduledEvent(offset, timestamp, False, end))
        return out
