"""The media clock: absolute deadlines, catch-up and skip, driven by a fake loop."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from media.clock import ClockDriver, TickClock


class FakeHandle:
    def __init__(self) -> None:
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class FakeLoop:
    """Records the single armed timer; ``advance`` fires it when its time has come."""

    def __init__(self, now: float = 100.0) -> None:
        self.now = now
        self.timers: list[tuple[float, Callable[[], None], FakeHandle]] = []

    def time(self) -> float:
        return self.now

    def call_at(self, when: float, callback: Callable[..., Any], *args: Any) -> FakeHandle:
        handle = FakeHandle()
        self.timers.append((when, callback, handle))
        return handle

    def run_until(self, until: float, *, oversleep: float = 0.0) -> None:
        for _ in range(100_000):
            live = [t for t in self.timers if not t[2].cancelled]
            if not live:
                return
            when, callback, handle = min(live, key=lambda t: t[0])
            if when > until:
                return
            self.timers.remove((when, callback, handle))
            self.now = max(self.now, when + oversleep)
            callback()


def test_deadlines_are_start_plus_n_periods() -> None:
    clock = TickClock(start=10.0, period=0.02)
    assert clock.poll(9.99).count == 0
    first = clock.poll(10.0)
    assert (first.first, first.count, first.skipped) == (0, 1, 0)
    assert clock.next_deadline == pytest.approx(10.02)
    # a tick served 4 ms late must not push later deadlines back
    clock.poll(10.024)
    assert clock.next_deadline == pytest.approx(10.04)


def test_late_poll_catches_up_missed_ticks_in_order() -> None:
    clock = TickClock(start=0.0, period=0.02, max_catch_up=3)
    clock.poll(0.0)
    batch = clock.poll(0.061)  # ticks 1, 2 and 3 are due
    assert (batch.first, batch.count, batch.skipped, batch.late) == (1, 3, 0, True)
    assert clock.stats().late == 1


def test_very_late_poll_skips_oldest_ticks_and_counts_them() -> None:
    clock = TickClock(start=0.0, period=0.02, max_catch_up=2)
    clock.poll(0.0)
    batch = clock.poll(0.2)  # ticks 1..10 due, only 9 and 10 run
    assert (batch.first, batch.count, batch.skipped) == (9, 2, 8)
    stats = clock.stats()
    assert (stats.ticks, stats.skipped) == (3, 8)
    assert clock.next_index == 11


def test_exact_multiple_of_period_counts_as_due_despite_float_rounding() -> None:
    clock = TickClock(start=0.1, period=0.02)
    for n in range(1000):
        batch = clock.poll(0.1 + n * 0.02)
        assert batch.count == 1, n


def test_invalid_configuration_is_rejected() -> None:
    with pytest.raises(ValueError):
        TickClock(0.0, period=0.0)
    with pytest.raises(ValueError):
        TickClock(0.0, max_catch_up=0)


def test_driver_ticks_fifty_times_a_second_without_drift() -> None:
    loop = FakeLoop(now=5.0)
    seen: list[tuple[int, float]] = []
    driver = ClockDriver(loop, lambda i, now: seen.append((i, now)))
    driver.start()
    # the loop wakes 3 ms late every time: still exactly 50 ticks in one second
    loop.run_until(5.0 + 0.999, oversleep=0.003)
    assert [i for i, _ in seen] == list(range(50))
    assert driver.stats().late == 0
    assert driver.stats().skipped == 0


def test_driver_stop_cancels_the_armed_timer() -> None:
    loop = FakeLoop()
    ticks: list[int] = []
    driver = ClockDriver(loop, lambda i, now: ticks.append(i))
    driver.start()
    loop.run_until(loop.now + 0.05)
    driver.stop()
    loop.run_until(loop.now + 1.0)
    assert ticks == [0, 1, 2]
    assert not driver.running


def test_driver_keeps_ticking_after_a_callback_error() -> None:
    loop = FakeLoop()
    ticks: list[int] = []

    def on_tick(i: int, now: float) -> None:
        ticks.append(i)
        if i == 1:
            raise RuntimeError("boom")

    driver = ClockDriver(loop, on_tick)
    driver.start()
    with pytest.raises(RuntimeError):
        loop.run_until(loop.now + 0.1)
    loop.run_until(loop.now + 0.04)
    assert ticks[:4] == [0, 1, 2, 3]
