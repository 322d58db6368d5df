"""Adaptive jitter buffer: RTP packets in at arrival time, one 20 ms frame out per tick.

Pure and clock-free: ``put(packet, arrival_time)`` and ``get(now)`` take the caller's
monotonic time. Packets are ordered by (unwrapped) RTP timestamp, so reordering is
undone and duplicates and packets arriving after their play-out slot are dropped.

Adaptation: each packet's one-way delay is known up to a constant, ``d = arrival -
ts / clock_rate``. The lowest recent ``d`` is the fastest path; a packet is on time when
it is played at least ``target`` later than that. ``target`` is the 95th percentile of
the recent ``d - min(d)``, clamped to [min_delay, max_delay]. ``get`` measures how far
play-out lags the fastest path: below the target it stretches (a concealed frame, no
advance), more than 1.5 frames above it skips (drops one frame, only once the delay
history is warm), at most once every ``adapt_every`` ticks. Late loss costs more than
delay, hence the asymmetric band.

Talkspurts: a sender whose clock ran through a pause restarts at any timestamp, not on
the grid of frames counted from its first packet; when the slot due holds nothing and the
oldest buffered packet is due before the next slot, play-out moves to it. A sender whose
timestamps stood still through a pause puts every later packet behind play-out: a few late
packets in a row restart the buffer on the new timeline (``late_run_resync``), but only
while nothing is buffered ahead of play-out; a burst of held-up packets arriving together
while later ones wait in the buffer is merely late (a restart would drop the buffer).

Frames are assumed to be ``frame_ms`` long, the ptime the engine negotiates. Comfort
noise (RFC 3389, payload type 13) packets are frames like any other: the decoder side
(:mod:`media.plc`) turns them into noise.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from enum import Enum

from media.rtp import RtpPacket, ts_diff

__all__ = ["JitterBuffer", "JitterStats", "Loss", "PutResult"]


@dataclass(frozen=True, slots=True)
class Loss:
    """No frame for this tick: conceal it. ``consecutive`` counts the gap so far (1 = first)."""

    timestamp: int
    consecutive: int


class PutResult(Enum):
    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"
    LATE = "late"  # its play-out slot has passed
    RESYNC = "resync"  # accepted after a clock jump or SSRC change restarted the buffer


@dataclass(frozen=True, slots=True)
class JitterStats:
    """Counters for monitoring."""

    played: int
    lost: int
    late: int
    duplicate: int
    skipped: int
    stretched: int
    resyncs: int
    target_delay: float
    buffered: int


class JitterBuffer:
    """One receive stream's buffer; feed it with ``put``, tick it every frame with ``get``."""

    def __init__(self, clock_rate: int = 8000, frame_ms: int = 20, min_delay: float = 0.02,
                 initial_delay: float = 0.06, max_delay: float = 0.3, window: int = 200,
                 adapt_every: int = 5, late_run_resync: int = 3) -> None:
        if not 0 < min_delay <= initial_delay <= max_delay:
            raise ValueError("need 0 < min_delay <= initial_delay <= max_delay")
        self.clock_rate = clock_rate
        self.frame = clock_rate * frame_ms // 1000  # timestamp units per frame
        self.frame_seconds = frame_ms / 1000
        self.min_delay = min_delay
        self.max_delay = max_delay
        self.adapt_every = adapt_every
        self.late_run_resync = late_run_resync
        self._warm = min(50, window)  # delays seen before the delay may shrink
        self._initial = initial_delay
        self._delays: deque[float] = deque(maxlen=window)
        self._packets: dict[int, RtpPacket] = {}  # unwrapped timestamp -> packet
        self._counts = dict(played=0, lost=0, late=0, duplicate=0, skipped=0, stretched=0,
                            resyncs=0)
        self._reset(None)

    def _reset(self, ssrc: int | None) -> None:
        self._ssrc = ssrc
        self._ref_ts: int | None = None  # wrapped timestamp that unwraps to _ref_ext
        self._ref_ext = 0
        self._packets.clear()
        self._delays.clear()
        self._next: int | None = None  # unwrapped timestamp of the next frame to play
        self._first_arrival: float | None = None
        self._gap = 0
        self._since_adapt = 0
        self._late_run = 0  # late packets in a row

    @property
    def target_delay(self) -> float:
        """Current play-out delay beyond the fastest recent packet, seconds."""
        if len(self._delays) < 10:
            return self._initial
        d = sorted(self._delays)
        spread = d[round(0.95 * (len(d) - 1))] - d[0]
        return min(self.max_delay, max(self.min_delay, spread + 0.25 * self.frame_seconds))

    def stats(self) -> JitterStats:
        return JitterStats(**self._counts, target_delay=self.target_delay,
                           buffered=len(self._packets))

    def put(self, packet: RtpPacket, arrival_time: float) -> PutResult:
        """Buffer one packet."""
        result = PutResult.ACCEPTED
        if packet.ssrc != self._ssrc:
            if self._ssrc is not None:
                self._counts["resyncs"] += 1
                result = PutResult.RESYNC
            self._reset(packet.ssrc)
        ext = self._unwrap(packet.timestamp)
        if self._next is not None and abs(ext - self._next) > 4 * self.max_delay * self.clock_rate:
            self._counts["resyncs"] += 1  # the sender's clock jumped: start over
            self._reset(packet.ssrc)
            ext = self._unwrap(packet.timestamp)
            result = PutResult.RESYNC
        if ext in self._packets:
            self._counts["duplicate"] += 1
            return PutResult.DUPLICATE
        if self._next is not None and ext < self._next:
            self._late_run += 1
            # Packets still buffered for play-out mean the timeline is fine and these were
            # only held up (a reorder burst): late, not a reason to drop the buffer.
            if self._late_run < self.late_run_resync or self._packets:
                self._delays.append(arrival_time - ext / self.clock_rate)  # late ones too:
                self._counts["late"] += 1  # they are what the target must cover
                return PutResult.LATE
            self._counts["resyncs"] += 1  # the sender's timeline moved back: start over
            self._reset(packet.ssrc)
            ext = self._unwrap(packet.timestamp)
            result = PutResult.RESYNC
        self._late_run = 0
        self._delays.append(arrival_time - ext / self.clock_rate)
        self._packets[ext] = packet
        if self._first_arrival is None:
            self._first_arrival = arrival_time
        return result

    def get(self, now: float) -> RtpPacket | Loss | None:
        """The frame to play at this tick; ``None`` until play-out starts (no stream yet)."""
        if self._next is None:
            if self._first_arrival is None or now < self._first_arrival + self._initial:
                return None
            self._next = min(self._packets)
        if self._adapt(now):
            self._counts["stretched"] += 1
            self._gap += 1
            return Loss((self._next - self.frame) & 0xFFFFFFFF, self._gap)
        ts = self._next
        packet = self._packets.pop(ts, None)
        if packet is None and self._packets:
            oldest = min(self._packets)
            if oldest < ts + self.frame:  # a talkspurt off the grid: play-out moves to it
                ts = oldest
                packet = self._packets.pop(oldest)
        self._next = ts + self.frame
        if packet is None:
            return self._loss(ts)
        self._gap = 0
        self._counts["played"] += 1
        return packet

    def _adapt(self, now: float) -> bool:
        """Skip a frame, or ask for a stretch (True), when the lag leaves the target band."""
        self._since_adapt += 1
        assert self._next is not None
        if self._since_adapt < self.adapt_every or not self._delays:
            return False
        self._since_adapt = 0
        lag = now - self._next / self.clock_rate - min(self._delays)
        target = self.target_delay
        if lag > target + 1.5 * self.frame_seconds and len(self._delays) >= self._warm:
            self._packets.pop(self._next, None)
            self._next += self.frame
            self._counts["skipped"] += 1
        elif lag < target:
            return True  # play nothing now, this slot next tick: one frame more delay
        return False

    def _loss(self, ts: int) -> Loss:
        self._gap += 1
        self._counts["lost"] += 1
        return Loss(ts & 0xFFFFFFFF, self._gap)

    def _unwrap(self, ts: int) -> int:
        if self._ref_ts is None:
            self._ref_ts, self._ref_ext = ts, 1 << 32  # headroom below the first timestamp
            return self._ref_ext
        ext = self._ref_ext + ts_diff(ts, self._ref_ts)
        if ext > self._ref_ext:
            self._ref_ts, self._ref_ext = ts, ext
        return ext
