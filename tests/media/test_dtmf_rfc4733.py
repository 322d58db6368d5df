"""RFC 4733 telephone-events: payload, once-per-press receiver, sender plan."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from media.dtmf import (
    DtmfDigit,
    TelephoneEvent,
    TelephoneEventParseError,
    TelephoneEventReceiver,
    TelephoneEventSender,
)
from media.rtp import RtpPacket


def test_payload_roundtrip_and_layout() -> None:
    ev = TelephoneEvent(11, end=True, volume=10, duration=1280)
    assert ev.serialize() == bytes([11, 0x8A, 0x05, 0x00])
    assert TelephoneEvent.parse(ev.serialize()) == ev
    assert ev.digit == "#"
    assert TelephoneEvent(16).digit is None  # flash is not a DTMF digit
    assert TelephoneEvent.for_digit("a").event == 12


def test_payload_errors() -> None:
    with pytest.raises(TelephoneEventParseError, match="3 bytes < 4"):
        TelephoneEvent.parse(b"\x01\x02\x03")
    with pytest.raises(ValueError, match="volume"):
        TelephoneEvent(1, volume=64)
    with pytest.raises(ValueError, match="not a DTMF digit"):
        TelephoneEvent.for_digit("x")
    with pytest.raises(ValueError, match="not a DTMF digit"):
        DtmfDigit("E", 0.0, 10, "rfc4733")


def play(rx: TelephoneEventReceiver, packets: list[tuple[float, int, TelephoneEvent, bool]]
         ) -> list[DtmfDigit]:
    out: list[DtmfDigit] = []
    for now, ts, ev, marker in packets:
        out += rx.receive(ts, ev, now, marker=marker)
    return out


def press(digit: str, ts: int, t0: float, duration: int = 800, step: int = 400,
          ends: int = 3) -> list[tuple[float, int, TelephoneEvent, bool]]:
    pk = []
    for i, d in enumerate(range(step, duration + 1, step)):
        pk.append((t0 + i * 0.05, ts, TelephoneEvent.for_digit(digit, duration=d), i == 0))
    for j in range(ends):
        pk.append((t0 + duration / 8000 + j * 0.02, ts,
                   TelephoneEvent.for_digit(digit, end=True, duration=duration), False))
    return pk


def test_redundant_end_packets_count_once_with_duration_and_start_time() -> None:
    rx = TelephoneEventReceiver()
    digits = play(rx, press("5", 1000, 1.0, duration=800))
    assert digits == [DtmfDigit("5", 1.0, 100, "rfc4733")]
    assert rx.deadline is None


def test_same_digit_twice_is_two_presses() -> None:
    rx = TelephoneEventReceiver()
    digits = play(rx, press("1", 1000, 1.0) + press("1", 3000, 1.5))
    assert [(d.digit, d.timestamp) for d in digits] == [("1", 1.0), ("1", 1.5)]


def test_lost_start_packets_still_yield_the_digit() -> None:
    rx = TelephoneEventReceiver()
    pk = press("9", 500, 2.0, duration=1600)[2:]  # the marker packet and one update lost
    digits = play(rx, pk)
    assert [(d.digit, d.duration_ms) for d in digits] == [("9", 200)]


def test_all_end_packets_lost_new_timestamp_closes_previous() -> None:
    rx = TelephoneEventReceiver()
    pk = press("2", 100, 0.0, ends=0) + press("3", 5000, 0.5)
    digits = play(rx, pk)
    assert [(d.digit, d.duration_ms) for d in digits] == [("2", 100), ("3", 100)]


def test_all_end_packets_lost_timeout_closes_press() -> None:
    rx = TelephoneEventReceiver(timeout=0.3)
    assert play(rx, press("7", 100, 0.0, ends=0)) == []
    assert rx.deadline == pytest.approx(0.05 + 0.3)
    assert rx.poll(0.3) == []
    assert [d.digit for d in rx.poll(0.36)] == ["7"]
    assert rx.poll(1.0) == []
    # a late end packet of the closed press does not report it again
    assert rx.receive(100, TelephoneEvent(7, end=True, duration=800), 1.1) == []


def test_late_packets_after_end_are_ignored() -> None:
    rx = TelephoneEventReceiver()
    pk = press("4", 100, 0.0)
    pk.append((0.2, 100, TelephoneEvent(4, duration=400), False))  # reordered update
    assert len(play(rx, pk)) == 1


def test_long_press_segments_count_once() -> None:
    """RFC 4733 2.5.1.3: a press beyond 65535 units continues in a new segment, no marker."""
    rx = TelephoneEventReceiver()
    pk = [(0.0, 0, TelephoneEvent(0, duration=400), True)]
    pk += [(8.19, 0, TelephoneEvent(0, duration=0xFFFF), False)]
    pk += [(8.25, 0xFFFF, TelephoneEvent(0, duration=400), False)]
    pk += [(8.30, 0xFFFF, TelephoneEvent(0, end=True, duration=800), False)] * 3
    digits = play(rx, pk)
    assert [(d.digit, d.duration_ms) for d in digits] == [("0", round((0xFFFF + 800) / 8))]


def test_timestamp_wraparound_new_press() -> None:
    rx = TelephoneEventReceiver()
    digits = play(rx, press("8", 0xFFFFFF00, 0.0, ends=0) + press("6", 0x100, 0.4))
    assert [d.digit for d in digits] == ["8", "6"]


def test_non_dtmf_events_are_ignored() -> None:
    rx = TelephoneEventReceiver()
    assert rx.receive(1, TelephoneEvent(16, end=True, duration=800), 0.0) == []
    assert rx.deadline is None


def test_receive_rtp_packet() -> None:
    rx = TelephoneEventReceiver()
    pkt = RtpPacket(101, 1, 160, 5, TelephoneEvent(10, end=True, duration=160).serialize())
    assert rx.receive_rtp(pkt, 3.0) == [DtmfDigit("*", 3.0, 20, "rfc4733")]


def test_sender_plan_marker_updates_and_three_ends() -> None:
    plan = TelephoneEventSender().plan("#", 160, timestamp=4242)
    assert [p.offset for p in plan] == pytest.approx([0, 0.05, 0.1, 0.15, 0.16, 0.21, 0.26])
    assert [p.marker for p in plan] == [True] + [False] * 6
    assert {p.timestamp for p in plan} == {4242}
    assert [p.event.duration for p in plan] == [400, 800, 1200, 1280, 1280, 1280, 1280]
    assert [p.event.end for p in plan] == [False] * 4 + [True] * 3
    assert all(p.event.digit == "#" for p in plan)


def test_sender_to_receiver_roundtrip_with_loss_pattern() -> None:
    plan = TelephoneEventSender().plan("3", 120, timestamp=9)
    loss_pattern = [True, False, True, True, False, False]  # marker lost, two ends lost
    rx = TelephoneEventReceiver()
    out = []
    for p, lost in zip(plan, loss_pattern, strict=True):
        if not lost:
            out += rx.receive(p.timestamp, p.event, 10.0 + p.offset, marker=p.marker)
    assert [(d.digit, d.duration_ms) for d in out] == [("3", 120)]


@given(
    presses=st.lists(st.tuples(st.sampled_from("0123456789*#ABCD"), st.integers(40, 400)),
                     min_size=1, max_size=6),
    loss=st.lists(st.booleans(), min_size=1, max_size=40),
)
def test_each_press_reported_once_under_any_loss(presses: list[tuple[str, int]],
                                                 loss: list[bool]) -> None:
    """Whatever packets are lost, a press with at least one surviving packet counts once."""
    sender = TelephoneEventSender()
    rx = TelephoneEventReceiver()
    expected, got = [], []
    ts, t0, k = 1000, 0.0, 0
    for digit, ms in presses:
        plan = sender.plan(digit, ms, ts)
        kept = []
        for p in plan:
            if not loss[k % len(loss)]:
                kept.append(p)
            k += 1
        if kept:
            expected.append(digit)
        for p in kept:
            got += rx.receive(p.timestamp, p.event, t0 + p.offset, marker=p.marker)
        ts += ms * 8 + 800  # next press starts 100 ms after this one ends
        t0 += ms / 1000 + 0.25
    got += rx.poll(t0 + 10)
    assert [d.digit for d in got] == expected
