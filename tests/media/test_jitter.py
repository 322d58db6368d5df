"""Jitter buffer and concealment with a fake clock and deterministic loss patterns."""

from __future__ import annotations

import numpy as np
import pytest

from media.jitter import JitterBuffer, Loss, PutResult
from media.plc import Concealer, cn_level, cn_payload, comfort_noise
from media.rtp import RtpPacket

TICK = 0.02


def pkt(seq: int, ssrc: int = 1, ts0: int = 0) -> RtpPacket:
    return RtpPacket(0, seq & 0xFFFF, (ts0 + 160 * seq) & 0xFFFFFFFF, ssrc, bytes([seq & 0xFF]))


def drive(jb: JitterBuffer, arrivals: list[tuple[float, RtpPacket]], ticks: int,
          t0: float = 0.0) -> list[RtpPacket | Loss | None]:
    """Deliver packets at their arrival times and tick every 20 ms from t0 (fake clock)."""
    pending = sorted(arrivals, key=lambda a: a[0])
    out = []
    for k in range(ticks):
        now = t0 + k * TICK
        while pending and pending[0][0] <= now:
            at, p = pending.pop(0)
            jb.put(p, at)
        out.append(jb.get(now))
    return out


def played_seqs(out: list[RtpPacket | Loss | None]) -> list[int | str]:
    return [o.sequence_number if isinstance(o, RtpPacket) else "L" for o in out if o is not None]


def test_nothing_before_first_packet_and_initial_delay() -> None:
    jb = JitterBuffer(initial_delay=0.06)
    assert jb.get(0.0) is None
    jb.put(pkt(0), 1.0)
    assert jb.get(1.04) is None
    assert isinstance(jb.get(1.06), RtpPacket)


def test_steady_stream_plays_in_order_without_loss() -> None:
    arrivals = [(0.001 + i * TICK, pkt(i)) for i in range(100)]
    jb = JitterBuffer(initial_delay=0.02)
    out = drive(jb, arrivals, 100)
    seqs = played_seqs(out)
    assert seqs == list(range(len(seqs))) and len(seqs) >= 95
    assert (jb.stats().skipped, jb.stats().stretched, jb.stats().lost) == (0, 0, 0)


def test_reordering_is_undone_and_duplicates_dropped() -> None:
    order = [0, 2, 1, 3, 5, 4, 6, 7, 7, 8, 9]
    arrivals = [(0.001 + i * TICK, pkt(s)) for i, s in enumerate(order)]
    jb = JitterBuffer()
    out = drive(jb, arrivals, 20)
    assert played_seqs(out)[:10] == list(range(10))
    assert jb.stats().duplicate == 1


def test_deterministic_loss_pattern_yields_losses_with_gap_counts() -> None:
    loss_pattern = [False, False, True, False, True, True, True, False, False, False]
    arrivals = [(0.001 + i * TICK, pkt(i)) for i, lost in enumerate(loss_pattern) if not lost]
    jb = JitterBuffer(adapt_every=10**6)  # no adaptation: test the loss path only
    out = [o for o in drive(jb, arrivals, 14) if o is not None][:10]
    assert played_seqs(out) == [0, 1, "L", 3, "L", "L", "L", 7, 8, 9]
    assert [o.consecutive for o in out if isinstance(o, Loss)] == [1, 1, 2, 3]
    assert [o.timestamp for o in out if isinstance(o, Loss)] == [320, 640, 800, 960]
    assert jb.stats().lost == 4


def test_late_packet_is_dropped_after_its_slot() -> None:
    arrivals = [(0.001 + i * TICK, pkt(i)) for i in range(10) if i != 3]
    arrivals.append((0.3, pkt(3)))  # way after its slot
    jb = JitterBuffer(adapt_every=10**6)
    out = drive(jb, arrivals, 16)
    assert "L" in played_seqs(out)
    assert jb.stats().late == 1


def test_put_results() -> None:
    jb = JitterBuffer()
    assert jb.put(pkt(0), 0.0) is PutResult.ACCEPTED
    assert jb.put(pkt(0), 0.0) is PutResult.DUPLICATE
    jb.get(0.1)
    assert jb.put(pkt(0), 0.1) is PutResult.LATE
    assert jb.put(pkt(5, ssrc=2), 0.2) is PutResult.RESYNC  # new SSRC restarts the buffer
    assert jb.put(pkt(500_000, ssrc=2), 0.2) is PutResult.ACCEPTED  # not started yet


def test_clock_jump_resyncs() -> None:
    jb = JitterBuffer()
    for i in range(5):
        jb.put(pkt(i), i * TICK)
    for k in range(5):
        jb.get(0.06 + k * TICK)
    assert jb.put(pkt(100_000), 0.2) is PutResult.RESYNC
    assert jb.stats().resyncs == 1


def test_timestamp_wraparound_keeps_order() -> None:
    ts0 = 0xFFFFFFFF - 160 * 3
    arrivals = [(0.001 + i * TICK, pkt(i, ts0=ts0)) for i in range(10)]
    out = drive(JitterBuffer(), arrivals, 16)
    assert played_seqs(out)[:8] == list(range(8))


def jittered_arrivals(n: int, pattern: list[float]) -> list[tuple[float, RtpPacket]]:
    return [(0.001 + i * TICK + pattern[i % len(pattern)], pkt(i)) for i in range(n)]


def test_target_delay_grows_with_jitter_and_avoids_late_loss() -> None:
    delays = [0.0, 0.07, 0.01, 0.05, 0.0, 0.09, 0.02, 0.0, 0.06, 0.03]  # up to 90 ms
    jb = JitterBuffer(initial_delay=0.02, min_delay=0.02)
    out = drive(jb, jittered_arrivals(500, delays), 500)
    assert jb.target_delay == pytest.approx(0.09 + 0.005, abs=0.011)
    tail = out[250:]
    assert not any(isinstance(o, Loss) for o in tail)  # converged: nothing late any more
    assert jb.stats().stretched >= 2


def test_target_delay_shrinks_when_jitter_stops() -> None:
    jb = JitterBuffer(initial_delay=0.2, min_delay=0.02, window=50)
    out = drive(jb, jittered_arrivals(400, [0.0]), 400)
    assert jb.target_delay == pytest.approx(0.02)
    assert jb.stats().skipped >= 5  # dropped frames to cut the 200 ms start-up delay
    assert [s for s in played_seqs(out) if s == "L"] == []


def test_invalid_configuration() -> None:
    with pytest.raises(ValueError, match="min_delay"):
        JitterBuffer(min_delay=0.1, initial_delay=0.05)


def test_concealer_repeats_with_fade_then_silence() -> None:
    c = Concealer(160)
    frame = np.full(160, 1000, np.int16)
    assert c.good(frame) is frame
    levels = [int(c.lost(k)[0]) for k in range(1, 6)]
    assert levels == [900, 600, 300, 0, 0]


def test_concealer_fades_to_comfort_noise_after_cn() -> None:
    c = Concealer(160, seed=1)
    c.good(np.full(160, 1000, np.int16))
    noise = c.comfort_noise(cn_payload(40))
    rms = np.sqrt(np.mean(noise.astype(float) ** 2))
    assert 20 * np.log10(rms / 32767) == pytest.approx(-40, abs=1.5)
    later = c.lost(4)
    assert np.any(later) and np.sqrt(np.mean(later.astype(float) ** 2)) < 2 * rms


def test_cn_payload_roundtrip_and_errors() -> None:
    assert cn_level(cn_payload(70) + b"\x10\x20") == 70
    with pytest.raises(ValueError, match="empty"):
        cn_level(b"")
    with pytest.raises(ValueError, match="outside"):
        cn_payload(128)
    rng = np.random.default_rng(0)
    assert comfort_noise(127, 160, rng).dtype == np.int16


def test_silence_suppression_gap_is_loss_then_next_talkspurt_plays_in_order() -> None:
    """DTX: no packets for 1 s, timestamps keep the sender's clock; no resync needed."""
    talk1 = [(0.001 + i * TICK, pkt(i)) for i in range(20)]
    talk2 = [(0.001 + i * TICK, pkt(i)) for i in range(70, 90)]
    jb = JitterBuffer(initial_delay=0.02)
    out = [o for o in drive(jb, talk1 + talk2, 100) if o is not None]
    seqs = played_seqs(out)
    assert seqs[:20] == list(range(20))
    assert seqs[20:70] == ["L"] * 50
    assert seqs[70:90] == list(range(70, 90))
    assert max(o.consecutive for o in out if isinstance(o, Loss)) == 50
    assert jb.stats().resyncs == 0


def test_talkspurt_off_the_frame_grid_still_plays() -> None:
    """A sender whose clock ran during a pause restarts at any timestamp, not only at a
    multiple of 160 from the first packet (our own RtpSender does, as does a phone with VAD):
    the play-out grid moves to the new talkspurt instead of waiting for a slot never filled."""
    talk1 = [(0.001 + i * TICK, pkt(i)) for i in range(20)]
    talk2 = [(0.001 + i * TICK, RtpPacket(0, 20 + i - 70, 70 * 160 + 37 + 160 * (i - 70), 1,
                                         bytes([i]))) for i in range(70, 90)]
    jb = JitterBuffer(initial_delay=0.02)
    out = [o for o in drive(jb, talk1 + talk2, 110) if o is not None]
    played = [o for o in out if isinstance(o, RtpPacket)]
    assert [p.sequence_number for p in played] == list(range(40))
    assert jb.stats().buffered == 0 and jb.stats().resyncs == 0


def test_timeline_moved_back_resyncs_instead_of_dropping_every_packet() -> None:
    """Timestamps that stop during a short pause put every later packet behind play-out:
    after a few late packets in a row the buffer restarts on the sender's new timeline."""
    talk1 = [(0.001 + i * TICK, pkt(i)) for i in range(20)]
    # 200 ms of silence on the wire, then timestamps continue as if there was none
    talk2 = [(0.201 + i * TICK, pkt(i)) for i in range(20, 60)]
    jb = JitterBuffer(initial_delay=0.02)
    out = [o for o in drive(jb, talk1 + talk2, 90) if o is not None]
    played = [o.sequence_number for o in out if isinstance(o, RtpPacket)]
    assert played[:20] == list(range(20))
    assert len(played) >= 20 + 30  # all but the few late ones that revealed the shift
    assert played[20:] == sorted(played[20:]) and jb.stats().resyncs == 1


def test_a_burst_of_late_packets_does_not_throw_away_the_buffered_ones() -> None:
    """Four packets held up in the network arrive back to back, after their slots, while the
    packets behind them are already buffered on time: the four are late (concealed), but the
    buffer must not take the burst for a timeline moved back and restart (which would drop
    every buffered packet and pause play-out for the initial delay)."""
    held = {30, 31, 32, 33}
    arrivals = [(0.001 + i * TICK, pkt(i)) for i in range(60) if i not in held]
    arrivals += [(0.781, pkt(i)) for i in sorted(held)]  # one burst, after 33's slot
    jb = JitterBuffer(initial_delay=0.06, adapt_every=10**6)
    out = [o for o in drive(jb, arrivals, 75) if o is not None]
    played = [o.sequence_number for o in out if isinstance(o, RtpPacket)]
    assert played == [i for i in range(60) if i not in held]  # every packet in time plays
    assert played_seqs(out)[30:34] == ["L"] * 4  # the held ones' slots are concealed
    assert (jb.stats().late, jb.stats().resyncs) == (4, 0)
