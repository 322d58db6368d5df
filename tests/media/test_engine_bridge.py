"""Bridges without sockets: relay rewriting, mode switches and continuity, fake transports."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from media.bridge import Bridge, Leg, MediaFormat, mix_bridges
from media.recorder import Recorder
from media.rtp import RtpPacket, seq_diff, ts_diff
from media.stream import RtpStream


class FakeTransport:
    def __init__(self) -> None:
        self.sent: list[bytes] = []

    def sendto(self, data: bytes, addr: Any) -> None:
        self.sent.append(bytes(data))

    def get_extra_info(self, name: str) -> Any:
        return ("127.0.0.1", 4000)

    def close(self) -> None:
        pass


class FakeClock:
    def __init__(self) -> None:
        self.now = 10.0

    def __call__(self) -> float:
        return self.now


def make_leg(
    name: str, clock: FakeClock, fmt: MediaFormat | None = None
) -> tuple[Leg, FakeTransport]:
    stream = RtpStream(time=clock)
    transport = FakeTransport()
    stream.connection_made(transport)  # type: ignore[arg-type]
    stream.set_remote(("10.0.0.1", 5000))
    leg = Leg(name, stream, fmt or MediaFormat(), clock)
    stream.on_audio = leg.take_audio
    return leg, transport


def feed(leg: Leg, seq: int, ts: int, payload: bytes = b"\xff" * 160, ssrc: int = 0x77) -> None:
    leg.stream.datagram_received(
        RtpPacket(0, seq, ts, ssrc, payload).serialize(), ("10.0.0.1", 5000)
    )


def test_relay_path_drops_unknown_payload_types_and_passes_comfort_noise() -> None:
    clock = FakeClock()
    a, _ = make_leg("a", clock)
    b, tb = make_leg("b", clock)
    bridge = Bridge("ab", clock)
    bridge.add(a)
    bridge.add(b)
    assert bridge.relaying
    a.stream.datagram_received(RtpPacket(13, 1, 0, 5, b"\x40").serialize(), ("10.0.0.1", 5000))
    a.stream.datagram_received(
        RtpPacket(34, 2, 160, 5, b"\x00" * 20).serialize(), ("10.0.0.1", 5000)
    )
    assert [RtpPacket.parse(d).payload_type for d in tb.sent] == [13]
    assert a.relay_out is not None and a.relay_out.dropped == 1


def test_switching_relay_to_mixing_and_back_keeps_one_continuous_stream(tmp_path: Any) -> None:
    clock = FakeClock()
    a, _ = make_leg("a", clock)
    b, tb = make_leg("b", clock)
    bridge = Bridge("ab", clock)
    bridge.add(a)
    bridge.add(b)
    seq, ts = 100, 8000
    for _ in range(3):  # relayed
        feed(a, seq, ts)
        seq, ts = seq + 1, ts + 160
        clock.now += 0.02
    recorder = Recorder(tmp_path / "r.wav")
    bridge.add_recorder(recorder, stereo=True)  # now mixing on the tick
    assert not bridge.relaying
    for _ in range(8):
        feed(a, seq, ts)
        seq, ts = seq + 1, ts + 160
        clock.now += 0.02
        mix_bridges([bridge], clock.now)
    bridge.remove_recorder(recorder)
    recorder.close()
    assert bridge.relaying
    for _ in range(3):  # relayed again
        clock.now += 0.02
        feed(a, seq, ts)
        seq, ts = seq + 1, ts + 160
    sent = [RtpPacket.parse(d) for d in tb.sent]
    assert len(sent) == 3 + 8 + 3
    assert {p.ssrc for p in sent} == {b.stream.sender.ssrc}
    for prev, nxt in itertools.pairwise(sent):
        assert seq_diff(nxt.sequence_number, prev.sequence_number) == 1
        assert 0 < ts_diff(nxt.timestamp, prev.timestamp) <= 320


def test_mix_bridges_decodes_and_encodes_mixed_codecs_in_one_tick() -> None:
    clock = FakeClock()
    u, tu = make_leg("u", clock, MediaFormat("PCMU", 0))
    a, ta = make_leg("a", clock, MediaFormat("PCMA", 8))
    w, tw = make_leg("w", clock, MediaFormat("L16/16000", 97))
    room = Bridge("room", clock, always_mix=True)
    for leg in (u, a, w):
        room.add(leg)
    from media.codecs import get_codec

    frames = {
        "u": get_codec("PCMU").encode(np.full(160, 1000, np.int16)),
        "a": get_codec("PCMA").encode(np.full(160, 2000, np.int16)),
        "w": get_codec("L16/16000").encode(np.full(320, 4000, np.int16)),
    }
    for n in range(4):
        for leg in (u, a, w):
            pt = leg.format.payload_type
            step = leg.frame_ticks
            leg.stream.datagram_received(
                RtpPacket(pt, n, n * step, 9, frames[leg.id]).serialize(), ("10.0.0.1", 5000)
            )
    for n in range(4):
        mix_bridges([room], clock.now + 0.1 + 0.02 * n)
    last = {name: RtpPacket.parse(t.sent[-1]) for name, t in (("u", tu), ("a", ta), ("w", tw))}
    assert last["w"].payload_type == 97 and len(last["w"].payload) == 640
    heard_u = float(np.mean(get_codec("PCMU").decode(last["u"].payload)))
    heard_a = float(np.mean(get_codec("PCMA").decode(last["a"].payload)))
    heard_w = float(np.mean(get_codec("L16/16000").decode(last["w"].payload)))
    assert abs(heard_u - 6000) < 300 and abs(heard_a - 5000) < 300 and abs(heard_w - 3000) < 300
