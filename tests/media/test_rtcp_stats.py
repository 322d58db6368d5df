"""ReceiverStats (RFC 3550 A.1/A.3/A.8) and SenderStats with a fake clock."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from media.rtcp import SenderReport, ntp_timestamp
from media.stats import ReceiverStats, SenderStats, round_trip_time

RATE = 8000
PTIME = 0.02


def feed(stats: ReceiverStats, seqs: list[int], jitter_of: Callable[[int], float] = lambda i: 0.0,
         start_seq: int = 0) -> None:
    for i, seq in enumerate(seqs):
        n = (seq - start_seq) % 65536
        stats.on_packet(seq, 1000 + 160 * n, 10.0 + n * PTIME + jitter_of(i))


def test_no_loss_no_jitter() -> None:
    s = ReceiverStats(0xA, RATE)
    feed(s, list(range(100)))
    block = s.report_block(now=12.0)
    assert (block.fraction_lost, block.cumulative_lost, block.highest_sequence) == (0, 0, 99)
    assert block.jitter == 0
    assert s.snapshot().packets_received == 100


def test_loss_counted_cumulative_and_fraction_per_interval() -> None:
    s = ReceiverStats(0xA, RATE)
    loss_pattern = [i % 4 == 3 for i in range(100)]  # every fourth lost
    feed(s, [i for i in range(100) if not loss_pattern[i]])
    b1 = s.report_block(now=12.0)
    assert b1.highest_sequence == 98  # 99 was lost: highest seen is 98
    assert b1.cumulative_lost == 24
    assert b1.fraction_lost == (24 << 8) // 99
    feed(s, list(range(100, 200)))  # clean, but now 99 shows as lost in this interval
    b2 = s.report_block(now=14.0)
    assert b2.cumulative_lost == 25
    assert b2.fraction_lost == (1 << 8) // 101
    feed(s, list(range(200, 300)))
    assert s.report_block(now=16.0).fraction_lost == 0


def test_sequence_wraparound_extends_highest_sequence() -> None:
    s = ReceiverStats(0xA, RATE)
    seqs = [(65530 + i) % 65536 for i in range(12)]
    feed(s, seqs, start_seq=65530)
    assert s.extended_highest_sequence == 65536 + 5
    assert s.cumulative_lost == 0


def test_reordered_and_duplicate_packets() -> None:
    s = ReceiverStats(0xA, RATE)
    feed(s, [0, 1, 3, 2, 4, 4, 5])
    assert s.extended_highest_sequence == 5
    assert s.cumulative_lost == -1  # RFC 3550: duplicates make the count negative


def test_big_jump_is_ignored_once_then_accepted_as_restart() -> None:
    s = ReceiverStats(0xA, RATE)
    feed(s, [0, 1, 2])
    assert s.on_packet(40000, 0, 11.0) is False
    assert s.extended_highest_sequence == 2
    assert s.on_packet(40001, 160, 11.02) is True
    assert s.extended_highest_sequence == 40001
    assert s.expected == 1 and s.cumulative_lost == 0


def test_jitter_converges_per_a8() -> None:
    s = ReceiverStats(0xA, RATE)
    # every other packet 10 ms late: |D| alternates 80 timestamp units
    feed(s, list(range(400)), jitter_of=lambda i: 0.010 * (i % 2))
    assert s.jitter == pytest.approx(80, abs=1)
    assert s.snapshot().jitter_seconds == pytest.approx(0.010, abs=0.0002)


def test_jitter_exact_first_steps() -> None:
    s = ReceiverStats(0xA, RATE)
    s.on_packet(0, 0, 0.0)
    s.on_packet(1, 160, 0.030)  # 10 ms late: D = 80
    assert s.snapshot().jitter_seconds * RATE == pytest.approx(80 / 16)
    s.on_packet(2, 320, 0.040)  # back on time: D = 80
    assert s.snapshot().jitter_seconds * RATE == pytest.approx(5 + (80 - 5) / 16)


def test_lsr_dlsr_and_round_trip_time() -> None:
    s = ReceiverStats(0xA, RATE)
    feed(s, [0, 1])
    sent_at = 1_700_000_000.0
    sr = SenderReport(0xA, ntp_timestamp(sent_at), 0, 2, 320)
    s.on_sender_report(sr, now=50.0)  # our monotonic clock
    block = s.report_block(now=50.25)
    assert block.last_sr == (sr.ntp_timestamp >> 16) & 0xFFFFFFFF
    assert block.delay_since_last_sr == 65536 // 4
    # the sender gets the block back 0.35 s after sending its SR: RTT = 0.1 s
    assert round_trip_time(block, ntp_timestamp(sent_at + 0.35)) == pytest.approx(0.1, abs=1e-4)


def test_round_trip_time_none_without_sr() -> None:
    s = ReceiverStats(0xA, RATE)
    feed(s, [0])
    assert round_trip_time(s.report_block(1.0), ntp_timestamp(0)) is None


def test_sender_stats_builds_sender_report() -> None:
    tx = SenderStats(0xB)
    for _ in range(50):
        tx.on_sent(160)
    sr = tx.sender_report(ntp_timestamp(0), 8000)
    assert (sr.ssrc, sr.packet_count, sr.octet_count, sr.rtp_timestamp) == (0xB, 50, 8000, 8000)
