"""RtpWatch with a fake clock: which leg went silent, and when hold excuses it."""

from __future__ import annotations

import pytest

from softswitch.switch.rtp_watch import RtpWatch


def test_a_leg_whose_counter_stops_is_reported_after_the_timeout() -> None:
    watch = RtpWatch(2.0, 2, now=0.0)
    assert watch.observe([10, 10], 0.5) is None
    assert watch.observe([60, 20], 1.0) is None
    assert watch.observe([110, 20], 2.9) is None  # callee silent since 1.0 only
    assert watch.observe([160, 20], 3.0) == 1


def test_moving_counters_never_expire() -> None:
    watch = RtpWatch(1.0, 2, now=0.0)
    for step in range(1, 40):
        assert watch.observe([step, step * 2], step * 0.5) is None


def test_a_leg_on_hold_is_excused_and_its_clock_restarts_on_resume() -> None:
    watch = RtpWatch(1.0, 2, now=0.0)
    assert watch.observe([5, None], 0.5) is None
    assert watch.observe([9, None], 5.0) is None  # inactive: not expected to send
    assert watch.observe([14, 0], 5.5) is None  # resumed: the timeout counts from here
    assert watch.observe([20, 0], 6.4) is None
    assert watch.observe([25, 0], 6.5) == 1


def test_no_packet_at_all_counts_from_the_answer() -> None:
    watch = RtpWatch(1.0, 2, now=10.0)
    assert watch.observe([0, 0], 10.9) is None
    assert watch.observe([0, 0], 11.0) == 0


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError):
        RtpWatch(0, 2, now=0.0)
    with pytest.raises(ValueError):
        RtpWatch(1.0, 2, now=0.0).observe([1], 0.1)
