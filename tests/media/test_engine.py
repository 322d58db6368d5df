"""The media engine over loopback: relay, transcoding, conferences, prompts, recording, DTMF."""

from __future__ import annotations

import asyncio
import itertools
import socket
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from media.bridge import MediaFormat
from media.codecs import get_codec
from media.dtmf import DtmfDigit, TelephoneEvent
from media.engine import MediaEngine
from media.rtp import RtpPacket, seq_diff


class Peer:
    """Sends RTP from its own 127.0.0.1 port and collects what the engine sends back."""

    def __init__(self, ssrc: int = 0x5EED) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.setblocking(False)
        self.addr: tuple[str, int] = self.sock.getsockname()
        self.ssrc = ssrc
        self.seq = 1000
        self.ts = 50_000

    def send(
        self,
        dest: tuple[str, int],
        payload: bytes,
        pt: int = 0,
        *,
        marker: bool = False,
        ts: int | None = None,
    ) -> None:
        packet = RtpPacket(
            pt, self.seq & 0xFFFF, self.ts if ts is None else ts, self.ssrc, payload, marker=marker
        )
        self.sock.sendto(packet.serialize(), dest)
        self.seq += 1
        if ts is None:
            self.ts += 160

    def send_audio(
        self, dest: tuple[str, int], pcm: np.ndarray, codec: str = "PCMU", pt: int = 0
    ) -> None:
        self.send(dest, get_codec(codec).encode(pcm), pt)

    def drain(self) -> list[RtpPacket]:
        out = []
        for _ in range(10_000):
            try:
                data = self.sock.recv(4096)
            except BlockingIOError:
                break
            if not 192 <= data[1] <= 223:
                out.append(RtpPacket.parse(data))
        return out

    def close(self) -> None:
        self.sock.close()


async def until(condition: Callable[[], bool], timeout: float = 2.0) -> None:
    """Wait (bounded) for loopback packets to be delivered."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise TimeoutError("condition not met in time")
        await asyncio.sleep(0.002)


async def collect(peer: Peer, count: int, timeout: float = 2.0) -> list[RtpPacket]:
    got: list[RtpPacket] = []
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while len(got) < count and loop.time() < deadline:
        got.extend(peer.drain())
        await asyncio.sleep(0.002)
    return got


def tone(
    freq: float, n: int = 160, amp: float = 8000.0, rate: int = 8000, start: int = 0
) -> np.ndarray:
    t = (np.arange(n) + start) / rate
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.int16)


def run_ticks(engine: MediaEngine, n: int) -> None:
    """Tick as if the jitter buffer's initial delay had passed since the packets arrived."""
    start = asyncio.get_running_loop().time() + 0.1
    for i in range(n):
        engine.tick(start + i * 0.02)


async def test_same_codec_bridge_relays_payload_untouched_with_our_own_ssrc(
    engine: MediaEngine, peers: list[Peer]
) -> None:
    alice, bob = peers[:2]
    a = await engine.open_leg(MediaFormat("PCMU", 0), remote=alice.addr)
    b = await engine.open_leg(MediaFormat("PCMU", 0), remote=bob.addr)
    bridge = engine.bridge(a, b)
    assert bridge.relaying
    payloads = [bytes([i]) * 160 for i in range(5)]
    for p in payloads:
        alice.send(a.stream.local, p)
    got = await collect(bob, 5)
    assert [g.payload for g in got] == payloads
    assert {g.ssrc for g in got} == {b.stream.sender.ssrc} != {alice.ssrc}
    assert [seq_diff(g.sequence_number, got[0].sequence_number) for g in got] == [0, 1, 2, 3, 4]
    assert [(g.timestamp - got[0].timestamp) % 2**32 for g in got] == [0, 160, 320, 480, 640]
    assert got[0].marker  # the start of our stream towards bob


async def test_relay_keeps_the_outgoing_stream_continuous_when_the_source_changes(
    engine: MediaEngine, peers: list[Peer]
) -> None:
    alice, bob = peers[:2]
    a = await engine.open_leg(remote=alice.addr)
    b = await engine.open_leg(remote=bob.addr)
    engine.bridge(a, b)
    for _ in range(3):
        alice.send(a.stream.local, b"\x01" * 160)
    first = await collect(bob, 3)
    alice.ssrc, alice.seq, alice.ts = 0xABC, 40_000, 9_999_999  # e.g. a re-INVITE elsewhere
    for _ in range(2):
        alice.send(a.stream.local, b"\x02" * 160)
    second = await collect(bob, 2)
    assert {p.ssrc for p in first + second} == {b.stream.sender.ssrc}
    assert seq_diff(second[0].sequence_number, first[-1].sequence_number) == 1
    assert (second[0].timestamp - first[-1].timestamp) % 2**32 == 160
    assert second[0].marker and not second[1].marker


async def test_relay_maps_dynamic_payload_types_and_forwards_dtmf_events(
    engine: MediaEngine, peers: list[Peer]
) -> None:
    alice, bob = peers[:2]
    seen: list[str] = []
    engine.on_digit = lambda leg, digit: seen.append(f"{leg.id}:{digit.digit}")
    a = await engine.open_leg(MediaFormat("L16", 96, 101), leg_id="a", remote=alice.addr)
    b = await engine.open_leg(MediaFormat("L16", 118, 100), leg_id="b", remote=bob.addr)
    assert engine.bridge(a, b).relaying
    alice.send(a.stream.local, b"\x00\x01" * 160, pt=96)
    event = TelephoneEvent.for_digit("7", end=True, duration=800).serialize()
    for _ in range(3):  # redundant end packets: one digit
        alice.send(a.stream.local, event, pt=101, ts=123_456)
    got = await collect(bob, 4)
    assert [p.payload_type for p in got] == [118, 100, 100, 100]
    await until(lambda: bool(seen))
    assert seen == ["a:7"]


async def test_different_codecs_are_transcoded_on_the_tick(
    engine: MediaEngine, peers: list[Peer]
) -> None:
    alice, bob = peers[:2]
    a = await engine.open_leg(MediaFormat("PCMU", 0), remote=alice.addr)
    b = await engine.open_leg(MediaFormat("PCMA", 8), remote=bob.addr)
    bridge = engine.bridge(a, b)
    assert not bridge.relaying
    sent = [tone(500, start=160 * i) for i in range(4)]
    for frame in sent:
        alice.send_audio(a.stream.local, frame, "PCMU", 0)
    await until(lambda: a.stream.packets_received == 4)
    run_ticks(engine, 4)
    got = await collect(bob, 4)
    assert len(got) == 4 and {p.payload_type for p in got} == {8}
    heard = np.concatenate([get_codec("PCMA").decode(p.payload) for p in got]).astype(float)
    expected = np.concatenate(sent).astype(float)
    assert np.corrcoef(heard, expected)[0, 1] > 0.99


async def test_conference_sends_each_participant_everyone_else(
    engine: MediaEngine, peers: list[Peer]
) -> None:
    talkers: list[tuple[str, bool]] = []
    engine.on_talker = lambda bridge, key, on: talkers.append((str(key), on))
    room = engine.conference("room")
    legs = []
    for i, peer in enumerate(peers[:3]):
        leg = await engine.open_leg(leg_id=f"p{i}", remote=peer.addr)
        engine.join(room, leg)
        legs.append(leg)
    levels = [4000, 0, 1000]
    for _ in range(2):
        for peer, leg, level in zip(peers, legs, levels, strict=False):
            peer.send_audio(leg.stream.local, np.full(160, level, np.int16))
    await until(lambda: all(leg.stream.packets_received == 2 for leg in legs))
    run_ticks(engine, 1)
    ulaw = get_codec("PCMU")
    outs = []
    for peer in peers[:3]:
        packets = await collect(peer, 1)
        outs.append(float(np.mean(ulaw.decode(packets[0].payload))))
    assert outs == pytest.approx([1000, 5000, 4000], rel=0.05)
    assert ("p0", True) in talkers


async def test_prompt_plays_paced_by_ticks_and_a_digit_barges_in(
    engine: MediaEngine, peers: list[Peer], tmp_path: Path
) -> None:
    alice = peers[0]
    prompt = tmp_path / "welcome.wav"
    sf.write(prompt, np.zeros(16000, np.int16) + 1000, 16000)  # 1 s at 16 kHz
    leg = await engine.open_leg(remote=alice.addr)
    task = asyncio.create_task(engine.play(leg, [prompt]))
    await until(lambda: leg.player is not None)
    for _ in range(3):
        engine.tick()
    assert len(await collect(alice, 3)) == 3
    event = TelephoneEvent.for_digit("5", end=True, duration=400).serialize()
    alice.send(leg.stream.local, event, pt=101)
    result = await asyncio.wait_for(task, 2.0)
    assert not result.completed and result.frames == 3
    assert isinstance(result.digit, DtmfDigit) and result.digit.digit == "5"
    engine.tick()
    assert await collect(alice, 1, timeout=0.05) == []


async def test_prompt_that_plays_to_the_end_completes(
    engine: MediaEngine, peers: list[Peer]
) -> None:
    leg = await engine.open_leg(remote=peers[0].addr)
    task = asyncio.create_task(engine.play(leg, [np.ones(400, np.int16)]))
    await until(lambda: leg.player is not None)
    for _ in range(4):
        engine.tick()
    result = await asyncio.wait_for(task, 2.0)
    assert result.completed and result.frames == 3 and result.digit is None


async def test_recording_a_relayed_bridge_switches_to_mixing_and_back(
    engine: MediaEngine, peers: list[Peer], tmp_path: Path
) -> None:
    alice, bob = peers[:2]
    a = await engine.open_leg(remote=alice.addr)
    b = await engine.open_leg(remote=bob.addr)
    bridge = engine.bridge(a, b)
    rec = await engine.record(bridge, tmp_path / "call.wav", stereo=True)
    assert not bridge.relaying
    for _ in range(3):
        alice.send_audio(a.stream.local, np.full(160, 2000, np.int16))
        bob.send_audio(b.stream.local, np.full(160, -500, np.int16))
    await until(lambda: a.stream.packets_received == 3 and b.stream.packets_received == 3)
    run_ticks(engine, 3)
    path = await engine.stop_recording(rec)
    assert bridge.relaying
    data, rate = sf.read(path, dtype="int16")
    assert rate == 8000 and data.shape == (480, 2)
    assert np.median(data[:, 0]) == pytest.approx(2000, rel=0.05)
    assert np.median(data[:, 1]) == pytest.approx(-500, rel=0.05)


async def test_digits_iterator_yields_rfc4733_digits_once(
    engine: MediaEngine, peers: list[Peer]
) -> None:
    alice = peers[0]
    leg = await engine.open_leg(remote=alice.addr)
    async with engine.digits(leg) as digits:  # subscribed before any packet is sent
        for i, digit in enumerate("42"):
            end = TelephoneEvent.for_digit(digit, end=True, duration=640).serialize()
            for _ in range(3):
                alice.send(leg.stream.local, end, pt=101, ts=1000 + i * 2000)
        got = [await asyncio.wait_for(anext(digits), 2.0) for _ in range(2)]
        assert [d.digit for d in got] == ["4", "2"]
        await until(lambda: leg.stream.packets_received == 6)
        assert digits.queue.empty()  # the redundant end packets gave nothing more


async def test_stats_and_close_release_the_leg(engine: MediaEngine, peers: list[Peer]) -> None:
    alice = peers[0]
    leg = await engine.open_leg(remote=alice.addr)
    alice.send(leg.stream.local, b"\xff" * 160)
    peers[1].send(leg.stream.local, b"\xff" * 160)  # not the latched source
    await until(lambda: engine.stats(leg).foreign == 1 and engine.stats(leg).packets_received == 1)
    assert engine.packets_received(leg) == 1  # the foreign packet is not counted either
    await engine.close_leg(leg)
    assert leg.stream.closed and engine.engine_stats().legs == 0


async def test_close_leg_now_closes_at_once_unless_a_recording_must_finish(
    engine: MediaEngine, peers: list[Peer], tmp_path: Path
) -> None:
    plain = await engine.open_leg(remote=peers[0].addr)
    recorded = await engine.open_leg(remote=peers[1].addr)
    engine.bridge(plain, recorded)
    await engine.record(recorded, tmp_path / "call.flac")
    assert engine.close_leg_now(plain)
    assert plain.stream.closed and plain.bridge is None
    assert not engine.close_leg_now(recorded)  # the file must be finished: close_leg's work
    assert not recorded.stream.closed and engine.engine_stats().legs == 1
    await engine.close_leg(recorded)
    assert recorded.stream.closed and engine.engine_stats().recordings == 0
    assert engine.engine_stats().legs == 0 and engine.close_leg_now(recorded)  # closed: no-op


def test_public_surface_lists_only_names_that_exist() -> None:
    import media

    assert sorted(media.__all__) == media.__all__
    for name in media.__all__:
        assert getattr(media, name) is not None


async def test_looping_ringback_plays_its_cadence_until_stopped(
    engine: MediaEngine, peers: list[Peer]
) -> None:
    from media.engine import tone_clip
    from media.tones import tone

    ringback = tone("itu", "ringback")
    assert tone_clip(ringback, 8000).size == 5 * 8000  # 1 s on, 4 s off
    alice = peers[0]
    leg = await engine.open_leg(remote=alice.addr)
    task = asyncio.create_task(engine.play(leg, [ringback], loop=True, barge_in=False))
    await until(lambda: leg.player is not None)
    packets: list[RtpPacket] = []
    for _ in range(13):  # 260 ticks: past the end of one 5 s period
        for _ in range(20):
            engine.tick()
        packets += await collect(alice, 20)
    assert not task.done()
    engine.stop_playback(leg)
    result = await asyncio.wait_for(task, 2.0)
    assert not result.completed and result.frames == 260
    assert len(packets) == 260
    levels = [np.abs(get_codec("PCMU").decode(p.payload).astype(int)).max() for p in packets]
    assert min(levels[:50]) > 1000 and max(levels[50:250]) < 50 and min(levels[250:]) > 1000


async def test_send_digits_emits_rfc4733_packets_a_receiver_counts_once(
    engine: MediaEngine, peers: list[Peer]
) -> None:
    from media.dtmf import TelephoneEventReceiver

    alice = peers[0]
    leg = await engine.open_leg(MediaFormat("PCMU", 0, 96), remote=alice.addr)
    await engine.send_digits(leg, "19", duration_ms=40, gap_ms=0)
    packets = await collect(alice, 8)
    assert {p.payload_type for p in packets} == {96}
    rx = TelephoneEventReceiver()
    digits = [d.digit for p in packets for d in rx.receive_rtp(p, 0.0)]
    assert digits == ["1", "9"]
    seqs = [p.sequence_number for p in packets]
    assert all(seq_diff(b, a) == 1 for a, b in itertools.pairwise(seqs))


async def test_out_of_band_digit_barges_in_like_any_other(
    engine: MediaEngine, peers: list[Peer]
) -> None:
    leg = await engine.open_leg(remote=peers[0].addr)
    task = asyncio.create_task(engine.play(leg, [np.ones(8000, np.int16)]))
    await until(lambda: leg.player is not None)
    engine.inject_digit(leg, DtmfDigit("#", 0.0, 100, "info"))
    result = await asyncio.wait_for(task, 2.0)
    assert result.digit is not None and result.digit.source == "info" and not result.completed


async def test_monitor_listens_to_both_sides_without_being_heard(
    engine: MediaEngine, peers: list[Peer]
) -> None:
    alice, bob, supervisor = peers[:3]
    a = await engine.open_leg(remote=alice.addr)
    b = await engine.open_leg(remote=bob.addr)
    m = await engine.open_leg(remote=supervisor.addr)
    bridge = engine.bridge(a, b)
    engine.join(bridge, m, muted=True)
    assert not bridge.relaying
    for _ in range(2):
        alice.send_audio(a.stream.local, np.full(160, 1000, np.int16))
        bob.send_audio(b.stream.local, np.full(160, 2000, np.int16))
        supervisor.send_audio(m.stream.local, np.full(160, 8000, np.int16))
    await until(lambda: all(leg.stream.packets_received == 2 for leg in (a, b, m)))
    run_ticks(engine, 1)
    ulaw = get_codec("PCMU")
    level = {}
    for name, peer in (("alice", alice), ("bob", bob), ("supervisor", supervisor)):
        level[name] = float(np.mean(ulaw.decode((await collect(peer, 1))[0].payload)))
    assert level == pytest.approx({"alice": 2000, "bob": 1000, "supervisor": 3000}, rel=0.05)
    engine.leave(m)
    assert bridge.relaying  # the monitor left: back to the fast path


async def test_inband_dtmf_is_detected_on_an_unbridged_leg(
    engine: MediaEngine, peers: list[Peer]
) -> None:
    from media.dtmf import dtmf_tone

    alice = peers[0]
    seen: list[DtmfDigit] = []
    engine.on_digit = lambda leg, digit: seen.append(digit)
    leg = await engine.open_leg(MediaFormat("PCMA", 8, None), remote=alice.addr, inband_dtmf=True)
    audio = np.concatenate([dtmf_tone("8", 100), np.zeros(800, np.int16)])
    for k in range(audio.size // 160):
        alice.send_audio(leg.stream.local, audio[k * 160 : (k + 1) * 160], "PCMA", 8)
    await until(lambda: leg.stream.packets_received == audio.size // 160)
    run_ticks(engine, 12)
    assert [(d.digit, d.source) for d in seen] == [("8", "inband")]


async def test_recording_a_lone_leg_keeps_caller_and_prompt_apart(
    engine: MediaEngine, peers: list[Peer], tmp_path: Path
) -> None:
    alice = peers[0]
    leg = await engine.open_leg(remote=alice.addr)
    rec = await engine.record(leg, tmp_path / "vm.flac", stereo=True)
    task = asyncio.create_task(engine.play(leg, [np.full(480, 3000, np.int16)], barge_in=False))
    await until(lambda: leg.player is not None)
    for _ in range(3):
        alice.send_audio(leg.stream.local, np.full(160, -1200, np.int16))
    await until(lambda: leg.stream.packets_received == 3)
    run_ticks(engine, 4)
    assert (await asyncio.wait_for(task, 2.0)).completed
    data, _ = sf.read(await engine.stop_recording(rec), dtype="int16")
    assert data.shape == (640, 2)
    assert (data[:480, 1] == 3000).all()  # what we played, exactly (no codec on this side)
    assert np.median(data[:480, 0]) == pytest.approx(-1200, rel=0.05)  # what the caller said


async def test_announcement_to_a_bridge_reaches_every_member_but_the_deaf(
    engine: MediaEngine, peers: list[Peer]
) -> None:
    room = engine.conference("paging")
    legs = []
    for i, peer in enumerate(peers[:3]):
        leg = await engine.open_leg(leg_id=f"m{i}", remote=peer.addr)
        engine.join(room, leg, deaf=(i == 2))
        legs.append(leg)
    task = asyncio.create_task(engine.play(room, [np.full(320, 1500, np.int16)]))
    await until(lambda: room.announcement is not None)
    run_ticks(engine, 3)
    result = await asyncio.wait_for(task, 2.0)
    assert result.completed and result.frames == 2 and room.announcement is None
    ulaw = get_codec("PCMU")
    for peer in peers[:2]:
        packets = await collect(peer, 3)
        levels = [float(np.mean(ulaw.decode(p.payload))) for p in packets]
        assert levels[:2] == pytest.approx([1500, 1500], rel=0.05) and abs(levels[2]) < 50
    deaf = await collect(peers[2], 3)  # deaf: kept alive with silence, never the message
    assert len(deaf) == 3 and all(abs(int(ulaw.decode(p.payload).max())) < 50 for p in deaf)


async def test_hold_directions_stop_sending_or_hearing_and_resume(
    engine: MediaEngine, peers: list[Peer]
) -> None:
    from media.stream import Direction

    alice, bob = peers[:2]
    a = await engine.open_leg(remote=alice.addr)
    b = await engine.open_leg(remote=bob.addr)
    engine.bridge(a, b)
    engine.configure(b, direction=Direction.RECVONLY)  # bob put us on hold (a=sendonly)
    for _ in range(3):
        alice.send(a.stream.local, b"\x01" * 160)
    await until(lambda: a.stream.packets_received == 3)
    assert await collect(bob, 1, timeout=0.1) == []
    engine.configure(a, direction="inactive")
    bob.send(b.stream.local, b"\x02" * 160)
    await until(lambda: b.stream.packets_received == 1)
    assert await collect(alice, 1, timeout=0.1) == []  # alice's leg sends nothing
    engine.configure(a, direction=Direction.SENDRECV)
    engine.configure(b, direction=Direction.SENDRECV)
    alice.send(a.stream.local, b"\x03" * 160)
    resumed = await collect(bob, 1)
    assert [p.payload for p in resumed] == [b"\x03" * 160]


async def test_recording_reports_the_callers_silence_once(
    engine: MediaEngine, peers: list[Peer], tmp_path: Path
) -> None:
    """Speech keeps the recording going; 0.2 s of quiet after it is reported, once."""
    alice = peers[0]
    leg = await engine.open_leg(remote=alice.addr)
    heard: list[int] = []
    rec = await engine.record(leg, tmp_path / "vm.wav", stereo=False,
                              on_silence=lambda: heard.append(1), silence_timeout=0.2)
    for i in range(10):  # 0.2 s of a loud tone: not silence, however long it lasts
        alice.send_audio(leg.stream.local, tone(440, start=160 * i))
    await until(lambda: leg.stream.packets_received == 10)
    run_ticks(engine, 10)
    assert heard == []
    run_ticks(engine, 30)  # nothing more arrives: the caller is quiet
    assert heard == [1]
    await engine.stop_recording(rec)


def test_silence_watch_counts_only_continuous_quiet() -> None:
    from media.silence import SilenceWatch, level_dbfs

    assert level_dbfs(np.zeros(160, np.int16)) == float("-inf")
    assert level_dbfs(np.full(160, 32767, np.int16)) == pytest.approx(0.0, abs=0.01)
    watch = SilenceWatch(0.1, 8000)
    quiet, loud = np.full(160, 30, np.int16), tone(300, amp=3000.0)  # -61 dBFS and -23 dBFS
    assert [watch.feed(quiet) for _ in range(4)] == [False] * 4  # 80 ms
    assert watch.feed(loud) is False  # speech restarts the count
    assert [watch.feed(quiet) for _ in range(5)] == [False] * 4 + [True]
    assert watch.feed(quiet) is False  # reported once
    with pytest.raises(ValueError):
        SilenceWatch(0, 8000)
