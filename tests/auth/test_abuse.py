"""Brute-force guard and scanner filter, driven by a fake clock."""

from __future__ import annotations

import pytest

from softswitch.switch.abuse import (
    DEFAULT_SCANNER_AGENTS,
    BruteForceGuard,
    ScannerFilter,
    SourceBlocked,
    source_key,
)

T0 = 1000.0
ATTACKER = "203.0.113.9"
PHONE = "10.1.2.3"


def fail(guard: BruteForceGuard, source: str, times: int, start: float, step: float = 1.0) -> list:
    return [guard.record_failure(source, start + i * step) for i in range(times)]


def test_tenth_failure_in_a_minute_blocks_for_fifteen_minutes() -> None:
    guard = BruteForceGuard()
    events = fail(guard, ATTACKER, 10, T0)
    assert events[:9] == [None] * 9
    assert events[9] == SourceBlocked(source=ATTACKER, failures=10, until=T0 + 9 + 900)
    assert guard.is_blocked(ATTACKER, T0 + 10)
    assert guard.blocked_until(ATTACKER, T0 + 10) == T0 + 909


def test_block_holds_for_its_whole_duration_then_lifts() -> None:
    guard = BruteForceGuard(max_failures=3, window=60, block_for=900)
    fail(guard, ATTACKER, 3, T0)
    assert guard.is_blocked(ATTACKER, T0 + 2 + 899.9)
    assert not guard.is_blocked(ATTACKER, T0 + 2 + 900)
    assert guard.blocked_until(ATTACKER, T0 + 2 + 900) is None
    # After the block the count starts again from zero.
    assert fail(guard, ATTACKER, 2, T0 + 1000) == [None, None]
    assert not guard.is_blocked(ATTACKER, T0 + 1002)


def test_failures_outside_the_window_do_not_add_up() -> None:
    guard = BruteForceGuard(max_failures=10, window=60)
    events = fail(guard, ATTACKER, 50, T0, step=7.0)  # at most 9 in any 60 s
    assert events == [None] * 50
    assert not guard.is_blocked(ATTACKER, T0 + 400)


def test_other_sources_are_unaffected() -> None:
    guard = BruteForceGuard(max_failures=5)
    fail(guard, ATTACKER, 5, T0)
    assert guard.is_blocked(ATTACKER, T0 + 5)
    assert not guard.is_blocked(PHONE, T0 + 5)
    assert guard.record_failure(PHONE, T0 + 5) is None


def test_failures_while_blocked_do_not_extend_or_repeat_the_block() -> None:
    guard = BruteForceGuard(max_failures=2, block_for=100)
    fail(guard, ATTACKER, 2, T0)
    assert guard.record_failure(ATTACKER, T0 + 50) is None
    assert guard.blocked_until(ATTACKER, T0 + 50) == T0 + 1 + 100


def test_unblock_by_hand() -> None:
    guard = BruteForceGuard(max_failures=1)
    fail(guard, ATTACKER, 1, T0)
    assert guard.unblock(ATTACKER)
    assert not guard.is_blocked(ATTACKER, T0 + 1)
    assert not guard.unblock(ATTACKER)


def test_memory_is_bounded_and_blocks_outlive_plain_trackers() -> None:
    guard = BruteForceGuard(max_failures=2, max_sources=100)
    fail(guard, ATTACKER, 2, T0)
    for i in range(5000):
        guard.record_failure(f"198.51.{i // 256}.{i % 256}", T0 + 2 + i * 0.001)
    assert guard.tracked_sources <= 100
    assert guard.is_blocked(ATTACKER, T0 + 10)


def test_expired_blocks_are_evicted() -> None:
    guard = BruteForceGuard(max_failures=1, block_for=10, max_sources=10)
    for i in range(10):
        guard.record_failure(f"192.0.2.{i}", T0)
    assert guard.tracked_sources == 10
    guard.record_failure("192.0.2.200", T0 + 20)
    assert guard.tracked_sources == 1


@pytest.mark.parametrize(
    "kwargs",
    [{"max_failures": 0}, {"window": 0}, {"block_for": -1}, {"max_sources": 0}],
)
def test_nonsense_limits_are_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        BruteForceGuard(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("host", "key"),
    [
        ("192.0.2.7", "192.0.2.7"),
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
        ("[2001:db8:1:2::9]", "2001:db8:1:2::/64"),
        ("::ffff:192.0.2.7", "192.0.2.7"),
        ("not-an-ip", "not-an-ip"),
    ],
)
def test_source_key_groups_ipv6_by_prefix(host: str, key: str) -> None:
    assert source_key(host) == key


@pytest.mark.parametrize(
    "agent",
    ["friendly-scanner", "sipvicious/0.3.4", "SIPVicious", "VaxSIPUserAgent/3.1", "sipcli/v1.8"],
)
def test_default_scanner_agents_are_recognised(agent: str) -> None:
    assert ScannerFilter().is_scanner(agent)


@pytest.mark.parametrize("agent", [None, "", "Yealink SIP-T46U 108.86.0.20", "baresip v3.10.1"])
def test_real_phones_are_not_scanners(agent: str | None) -> None:
    assert not ScannerFilter().is_scanner(agent)


def test_scanner_list_is_configurable() -> None:
    custom = ScannerFilter(["EvilTool", " "])
    assert custom.is_scanner("eviltool 1.0")
    assert not custom.is_scanner("friendly-scanner")
    assert "friendly-scanner" in DEFAULT_SCANNER_AGENTS
