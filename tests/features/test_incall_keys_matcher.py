"""KeyMatcher on a fake clock: what is passed on, what is a feature, when a pause decides."""

from __future__ import annotations

import pytest

from softswitch.features.incall_keys import KeyMatcher, Matched, Passed

SEQUENCES = {"*1": False, "*2": True, "##": True}


def feed(matcher: KeyMatcher, digits: str, now: float = 0.0) -> list[object]:
    out: list[object] = []
    for digit in digits:
        out += matcher.feed(digit, now)
    return out


def test_digits_that_start_no_sequence_pass_at_once() -> None:
    matcher = KeyMatcher(SEQUENCES, timeout=3.0)
    assert feed(matcher, "5") == [Passed("5")]
    assert feed(matcher, "0") == [Passed("0")]
    assert matcher.deadline is None


def test_a_sequence_without_number_matches_and_is_not_passed_on() -> None:
    matcher = KeyMatcher(SEQUENCES, timeout=3.0)
    assert feed(matcher, "*") == []
    assert matcher.deadline == 3.0
    assert feed(matcher, "1") == [Matched("*1", "")]
    assert matcher.deadline is None


def test_a_number_ends_with_hash() -> None:
    matcher = KeyMatcher(SEQUENCES, timeout=3.0)
    assert feed(matcher, "##1002") == []
    assert feed(matcher, "#") == [Matched("##", "1002")]


def test_a_number_ends_with_a_pause() -> None:
    matcher = KeyMatcher(SEQUENCES, timeout=3.0)
    feed(matcher, "*2", now=10.0)
    feed(matcher, "1003", now=11.0)
    assert matcher.poll(13.9) == []
    assert matcher.poll(14.0) == [Matched("*2", "1003")]


def test_a_held_prefix_is_passed_on_after_the_pause() -> None:
    matcher = KeyMatcher(SEQUENCES, timeout=3.0)
    assert feed(matcher, "#", now=1.0) == []
    assert matcher.poll(3.9) == []
    assert matcher.poll(4.0) == [Passed("#")]
    assert matcher.deadline is None


def test_a_prefix_that_goes_nowhere_is_passed_on_with_the_digit_that_ended_it() -> None:
    matcher = KeyMatcher(SEQUENCES, timeout=3.0)
    assert feed(matcher, "*5") == [Passed("*5")]


def test_the_head_is_passed_and_the_rest_may_still_match() -> None:
    matcher = KeyMatcher(SEQUENCES, timeout=3.0)
    assert feed(matcher, "**") == [Passed("*")]
    assert feed(matcher, "1") == [Matched("*1", "")]


def test_sequences_must_be_dtmf_digits() -> None:
    with pytest.raises(ValueError, match="not DTMF digits"):
        KeyMatcher({"*x": False}, timeout=3.0)
