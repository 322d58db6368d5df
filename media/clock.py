"""The media clock: one monotonic 20 ms tick that drives every mixing bridge together.

Deadlines are always ``start + n * period`` so the clock never drifts, whatever the
scheduling jitter (accumulated sleeps would drift by their overshoot every tick). When the
process falls behind, :class:`TickClock` runs the missed ticks to catch up, up to
``max_catch_up`` of them; older ones are skipped, because mixing a burst of stale frames
would only add latency. Late and skipped ticks are counted for monitoring.

:class:`TickClock` is pure (time comes in as ``now``). :class:`ClockDriver` is the thin
adapter that arms a single ``loop.call_at`` per tick; it is written against a tiny loop
protocol so it needs no asyncio import and tests drive it with a fake loop.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

__all__ = ["ClockDriver", "ClockStats", "TickBatch", "TickClock", "TickLoop"]

TICK_SECONDS = 0.020
# Float rounding guard: now == start + n * period must count as tick n being due.
_EPSILON = 1e-9


@dataclass(frozen=True, slots=True)
class TickBatch:
    """What to run now: ticks ``first .. first + count - 1``; ``skipped`` were dropped."""

    first: int
    count: int
    skipped: int
    late: bool


@dataclass(frozen=True, slots=True)
class ClockStats:
    """Counters for monitoring: a healthy clock has ``late == skipped == 0``."""

    ticks: int
    late: int
    skipped: int
    max_lateness: float


class TickClock:
    """Pure tick scheduler: ``poll(now)`` says which ticks are due, ``next_deadline`` when next."""

    def __init__(
        self,
        start: float,
        period: float = TICK_SECONDS,
        *,
        max_catch_up: int = 3,
        late_tolerance: float = 0.005,
    ) -> None:
        if period <= 0:
            raise ValueError(f"tick period must be positive, not {period}")
        if max_catch_up < 1:
            raise ValueError(f"max_catch_up must be >= 1, not {max_catch_up}")
        self.start = start
        self.period = period
        self.max_catch_up = max_catch_up
        self.late_tolerance = late_tolerance
        self._next = 0
        self._ticks = 0
        self._late = 0
        self._skipped = 0
        self._max_lateness = 0.0

    @property
    def next_index(self) -> int:
        """Index of the next tick that has not run yet."""
        return self._next

    @property
    def next_deadline(self) -> float:
        """Absolute time at which the next tick is due."""
        return self.start + self._next * self.period

    def poll(self, now: float) -> TickBatch:
        """Consume the ticks due at ``now``; an empty batch when called early."""
        deadline = self.next_deadline
        if now + _EPSILON < deadline:
            return TickBatch(self._next, 0, 0, False)
        newest = math.floor((now - self.start) / self.period + _EPSILON)
        due = newest - self._next + 1
        skipped = max(0, due - self.max_catch_up)
        count = due - skipped
        lateness = now - deadline
        late = lateness > self.late_tolerance
        batch = TickBatch(self._next + skipped, count, skipped, late)
        self._next = newest + 1
        self._ticks += count
        self._skipped += skipped
        self._late += int(late)
        self._max_lateness = max(self._max_lateness, lateness)
        return batch

    def stats(self) -> ClockStats:
        """Counters since start."""
        return ClockStats(self._ticks, self._late, self._skipped, self._max_lateness)


class _Handle(Protocol):
    def cancel(self) -> None: ...


class TickLoop(Protocol):
    """The two event-loop methods the driver needs (asyncio and uvloop loops have them)."""

    def time(self) -> float: ...

    def call_at(self, when: float, callback: Callable[..., Any], *args: Any) -> _Handle: ...


class ClockDriver:
    """Runs a :class:`TickClock` on an event loop: one ``call_at`` armed at a time.

    ``on_tick(index, now)`` is called once per due tick, in order. It must not raise: the
    engine catches and logs per bridge, so one faulty bridge cannot stop the others.
    """

    def __init__(
        self,
        loop: TickLoop,
        on_tick: Callable[[int, float], None],
        *,
        period: float = TICK_SECONDS,
        max_catch_up: int = 3,
    ) -> None:
        self._loop = loop
        self._on_tick = on_tick
        self._period = period
        self._max_catch_up = max_catch_up
        self._clock: TickClock | None = None
        self._handle: _Handle | None = None

    @property
    def running(self) -> bool:
        """True between :meth:`start` and :meth:`stop`."""
        return self._handle is not None

    def start(self) -> None:
        """Start ticking now (tick 0 is due immediately); no-op when already running."""
        if self._handle is not None:
            return
        self._clock = TickClock(self._loop.time(), self._period, max_catch_up=self._max_catch_up)
        self._handle = self._loop.call_at(self._clock.next_deadline, self._fire)

    def stop(self) -> None:
        """Stop ticking; counters stay readable through :meth:`stats`."""
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None

    def stats(self) -> ClockStats:
        """Tick, late and skipped counters (all zero before the first start)."""
        if self._clock is None:
            return ClockStats(0, 0, 0, 0.0)
        return self._clock.stats()

    def _fire(self) -> None:
        clock = self._clock
        assert clock is not None
        now = self._loop.time()
        batch = clock.poll(now)
        try:
            for index in range(batch.first, batch.first + batch.count):
                self._on_tick(index, now)
        finally:
            if self._handle is not None:
                self._handle = self._loop.call_at(clock.next_deadline, self._fire)
