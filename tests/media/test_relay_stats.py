"""The relay-speed ReceiverStats.on_packet gives exactly what the plain RFC 3550 code gave.

``Reference`` is the straightforward A.1/A.8 implementation the fast one replaced, kept
here as the oracle: every counter and the jitter must match bit for bit on streams with
loss, reordering, duplicates, sequence and timestamp wraparound, restarts and jitter.
"""

from __future__ import annotations

import random

import pytest

from media.stats import MAX_DROPOUT, MAX_MISORDER, SEQ_MOD, ReceiverStats


class Reference:
    """RFC 3550 A.1 (without probation) and A.8, written the obvious way."""

    def __init__(self, clock_rate: int) -> None:
        self.clock_rate = clock_rate
        self.started = False
        self.base_seq = self.max_seq = self.cycles = self.received = 0
        self.bad_seq = SEQ_MOD + 1
        self.transit: float | None = None
        self.jitter = 0.0
        self.wraps = 0  # how often the 16-bit sequence number wrapped (test coverage)

    def on_packet(self, seq: int, timestamp: int, now: float) -> bool:
        if not self.started:
            self.restart(seq)
        else:
            udelta = (seq - self.max_seq) % SEQ_MOD
            if udelta < MAX_DROPOUT:
                if seq < self.max_seq:
                    self.cycles += SEQ_MOD
                    self.wraps += 1
                self.max_seq = seq
            elif udelta <= SEQ_MOD - MAX_MISORDER:
                if seq != self.bad_seq:
                    self.bad_seq = (seq + 1) % SEQ_MOD
                    return False
                self.restart(seq)
        self.received += 1
        transit = now * self.clock_rate - timestamp
        if self.transit is not None:
            d = transit - self.transit
            d = (d + 2**31) % 2**32 - 2**31
            self.jitter += (abs(d) - self.jitter) / 16
        self.transit = transit
        return True

    def restart(self, seq: int) -> None:
        self.started = True
        self.base_seq = self.max_seq = seq
        self.bad_seq = SEQ_MOD + 1
        self.cycles = self.received = 0

    def expected(self) -> int:
        return self.cycles + self.max_seq - self.base_seq + 1


def arrivals(rng: random.Random, n: int, start_seq: int, start_ts: int, t0: float):
    """A hostile but realistic stream: 20 ms packets with loss, reordering, duplicates,
    jitter, talkspurt gaps, now and then a sender restart (a jump) or a stray packet."""
    seq, ts, now = start_seq, start_ts, t0
    held: list[tuple[int, int, float]] = []
    for _ in range(n):
        seq = (seq + 1) & 0xFFFF
        ts = (ts + 160) & 0xFFFFFFFF
        now += 0.02
        roll = rng.random()
        if roll < 0.05:
            continue  # lost
        if roll < 0.07:
            ts = (ts + rng.randrange(800, 80_000)) & 0xFFFFFFFF  # silence, then a talkspurt
        if roll < 0.071:  # the sender restarts, landing where its sequence soon wraps
            jump = (rng.randrange(65_300, 65_500) - seq) & 0xFFFF
            if not MAX_DROPOUT <= jump <= SEQ_MOD - MAX_MISORDER:
                jump = SEQ_MOD // 2
            seq = (seq + jump) & 0xFFFF
        if 0.071 <= roll < 0.076:
            stray = (seq + rng.randrange(MAX_DROPOUT, SEQ_MOD - MAX_MISORDER)) & 0xFFFF
            yield stray, rng.randrange(2**32), now  # a single wild packet, judged invalid
        arrival = now + rng.uniform(0.0, 0.03)
        if roll < 0.1:
            held.append((seq, ts, arrival))  # delivered late, after the next one
            continue
        yield seq, ts, arrival
        if roll < 0.12:
            yield seq, ts, arrival + 0.001  # duplicated
        while held:
            late_seq, late_ts, late_at = held.pop()
            yield late_seq, late_ts, max(late_at, arrival)


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("clock_rate", [8000, 16000])
def test_fast_on_packet_matches_the_reference_bit_for_bit(seed: int, clock_rate: int) -> None:
    rng = random.Random(seed)
    # start near the 16-bit and 32-bit wraps so both happen within the run
    start_seq = rng.choice([65_000, 65_530])
    start_ts = rng.choice([2**32 - 5_000, rng.randrange(2**32)])
    t0 = rng.choice([0.0, 12_345.678, 1.7e6])  # loop.time() origins differ between hosts
    fast, ref = ReceiverStats(0xABC, clock_rate), Reference(clock_rate)
    verdicts = 0
    for seq, ts, now in arrivals(rng, 4000, start_seq, start_ts, t0):
        assert fast.on_packet(seq, ts, now) == ref.on_packet(seq, ts, now)
        verdicts += 1
    snap = fast.snapshot()
    assert verdicts > 3000
    assert snap.packets_received == ref.received
    assert snap.packets_expected == ref.expected()
    assert snap.highest_sequence == ref.cycles + ref.max_seq
    assert snap.jitter_seconds == ref.jitter / clock_rate  # exact, not approximate
    assert fast.jitter == int(ref.jitter)
    assert snap.cumulative_lost == max(-0x800000, min(0x7FFFFF, ref.expected() - ref.received))
    assert ref.jitter > 0 and ref.wraps > 0  # the run did exercise jitter and a wrap


def test_timestamp_wrap_between_two_packets_folds_to_a_small_difference() -> None:
    fast, ref = ReceiverStats(1, 8000), Reference(8000)
    for seq, ts, now in [(1, 2**32 - 160, 5.0), (2, 0, 5.02), (3, 160, 5.045)]:
        fast.on_packet(seq, ts, now)
        ref.on_packet(seq, ts, now)
    assert fast.snapshot().jitter_seconds == ref.jitter / 8000
    assert 0 < fast.jitter < 10  # 5 ms late once, not 2**32 units
