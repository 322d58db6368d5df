"""Time for call flows: the event loop's clock in service, a hand-driven one in tests.

A flow's timeouts are deadlines armed on a :class:`Clock` (``call_at``), never sleeps, so the
test kit can move a :class:`FakeClock` forward by hand and a flow that waits 30 seconds for
a digit finishes its test in microseconds.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import Callable
from typing import Protocol

__all__ = ["Clock", "FakeClock", "LoopClock", "TimerHandle"]


class TimerHandle(Protocol):
    """What arming a timer returns: it can be cancelled before it fires."""

    def cancel(self) -> None: ...


class Clock(Protocol):
    """Monotonic seconds and one-shot timers."""

    def time(self) -> float: ...

    def call_at(self, when: float, callback: Callable[[], None]) -> TimerHandle: ...


class LoopClock:
    """The running asyncio loop's monotonic clock."""

    def __init__(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        self._loop = loop or asyncio.get_running_loop()

    def time(self) -> float:
        return self._loop.time()

    def call_at(self, when: float, callback: Callable[[], None]) -> TimerHandle:
        return self._loop.call_at(when, callback)


class _FakeTimer:
    __slots__ = ("callback", "cancelled", "when")

    def __init__(self, when: float, callback: Callable[[], None]) -> None:
        self.when = when
        self.callback = callback
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class FakeClock:
    """A clock that moves only when told; timers fire in deadline order, ties in arming order."""

    def __init__(self, start: float = 0.0) -> None:
        self._now = start
        self._heap: list[tuple[float, int, _FakeTimer]] = []
        self._seq = itertools.count()

    def time(self) -> float:
        return self._now

    def call_at(self, when: float, callback: Callable[[], None]) -> TimerHandle:
        timer = _FakeTimer(max(when, self._now), callback)
        heapq.heappush(self._heap, (timer.when, next(self._seq), timer))
        return timer

    def next_deadline(self) -> float | None:
        """When the earliest live timer fires, None when none is armed."""
        while self._heap and self._heap[0][2].cancelled:
            heapq.heappop(self._heap)
        return self._heap[0][0] if self._heap else None

    def fire_next(self) -> bool:
        """Jump to the earliest deadline and run every timer due then; False if none was armed."""
        when = self.next_deadline()
        if when is None:
            return False
        self._now = max(self._now, when)
        while self._heap and self._heap[0][0] <= self._now:
            _, _, timer = heapq.heappop(self._heap)
            if not timer.cancelled:
                timer.cancelled = True
                timer.callback()
        return True

    def advance(self, seconds: float) -> None:
        """Move forward by ``seconds``, running the timers due on the way in order."""
        if seconds < 0:
            raise ValueError(f"time cannot go back ({seconds} s)")
        target = self._now + seconds
        while (when := self.next_deadline()) is not None and when <= target:
            self.fire_next()
        self._now = target
