"""Call legs and the bridges between them: the relay fast path and the mixing path.

A :class:`Leg` is one call leg's media: its RTP stream, the negotiated format and codec
state, its jitter buffer and concealer, and what plays or records on it. A :class:`Bridge`
joins legs. Two legs with the same codec and nobody tapping the bridge are *relayed*:
each packet is forwarded as it arrives with only the payload type, sequence number,
timestamp and SSRC rewritten into the other leg's sequence space (one copy, one
``pack_into``, no decoding). Anything else (a third party, a recorder or monitor,
different codecs) *mixes*: on each 20 ms tick :func:`mix_bridges` takes every leg's next
frame from its jitter buffer, decodes, forms each leg's N-1 sum with
:func:`~media.mixer.mix_all` and encodes per leg's codec, which transcodes for free.
"""

from __future__ import annotations

import functools
import struct
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass

import numpy as np

from media.codecs import Codec, get_codec
from media.dtmf import DtmfDigit, InbandDtmfDetector
from media.jitter import JitterBuffer, Loss
from media.mixer import MixBatch, Mixer, mix_all
from media.player import Player
from media.plc import CN_PAYLOAD_TYPE, Concealer
from media.recorder import Recorder
from media.rtp import RtpPacket
from media.stream import RtpStream, rtp_payload

__all__ = ["Bridge", "Leg", "MediaFormat", "RelayPath", "convert_rate", "mix_bridges"]

FRAME_MS = 20
BRIDGE_RATE = 8000
BRIDGE_FRAME = BRIDGE_RATE * FRAME_MS // 1000
_STATELESS = frozenset({"PCMU", "PCMA", "L16"})
_pack_pt_seq_ts_ssrc = struct.Struct("!BHII").pack_into  # header bytes 1..11


@dataclass(frozen=True, slots=True)
class MediaFormat:
    """What signalling negotiated for a leg: codec name, its payload type, RFC 4733 type."""

    codec: str = "PCMU"
    payload_type: int = 0
    event_payload_type: int | None = 101

    def __post_init__(self) -> None:
        for pt in (self.payload_type, self.event_payload_type):
            if pt is not None and not 0 <= pt <= 127:
                raise ValueError(f"payload type {pt} outside 0..127")
        get_codec(self.codec)  # raises UnknownCodecError early, at negotiation time


@functools.cache
def _frame_bytes(codec: str, samples: int) -> int:
    """Encoded size of one frame (worked out once per codec: every leg configures it)."""
    return len(get_codec(codec).encode(np.zeros(samples, np.int16)))


def convert_rate(frame: np.ndarray, src_rate: int, dst_rate: int) -> np.ndarray:
    """Per-frame rate change for mixing wideband and narrowband legs (linear, cheap)."""
    if src_rate == dst_rate:
        return frame
    if src_rate == 2 * dst_rate:
        return frame.reshape(-1, 2).mean(axis=1).astype(np.int16)  # average = crude low-pass
    n_out = frame.size * dst_rate // src_rate
    x_out = np.arange(n_out) * (src_rate / dst_rate)
    return np.interp(x_out, np.arange(frame.size), frame).astype(np.int16)


class Leg:
    """One call leg's media state; created by :class:`~media.engine.MediaEngine`."""

    def __init__(
        self, leg_id: str, stream: RtpStream, fmt: MediaFormat, time: Callable[[], float]
    ) -> None:
        self.id = leg_id
        self.stream = stream
        self._last_good: tuple[np.ndarray, int] | None = None
        self._time = time
        self.bridge: Bridge | None = None
        self.player: Player | None = None
        self.recorders: list[tuple[Recorder, bool]] = []  # (recorder, stereo)
        self.inband: InbandDtmfDetector | None = None
        self.relay_out: RelayPath | None = None
        self.keep_events = False  # RFC 4733 events stay here (in-call feature keys)
        self.on_digit: Callable[[Leg, DtmfDigit], None] | None = None
        self.configure(fmt)

    def configure(self, fmt: MediaFormat) -> None:
        """Apply a (re)negotiated format: fresh codec state, stream clock rate, event PT."""
        self.format = fmt
        self.encoder: Codec = get_codec(fmt.codec)
        self.decoder: Codec = get_codec(fmt.codec)
        self.sample_rate = self.encoder.sample_rate
        self.frame_samples = self.sample_rate * FRAME_MS // 1000
        self.frame_ticks = self.encoder.clock_rate * FRAME_MS // 1000  # RTP ts per frame
        # stateless sample-wise codecs at the bridge rate are decoded/encoded for many legs
        # in one numpy call (see mix_bridges); the others one leg at a time
        self.codec_key = (self.encoder.name, self.sample_rate)  # relay needs equal keys
        batchable = self.encoder.name in _STATELESS and self.sample_rate == BRIDGE_RATE
        self.batch_key = self.codec_key if batchable else None
        self.audio_pt = fmt.payload_type
        self.frame_bytes = _frame_bytes(fmt.codec, self.frame_samples)
        self.stream.set_clock_rate(self.encoder.clock_rate)
        self.stream.event_payload_type = (
            fmt.event_payload_type if fmt.event_payload_type is not None else -1
        )
        self.reset_intake()

    def take_audio(self, data: bytes, pt: int, seq: int, ts: int, ssrc: int) -> None:
        """Stream sink when not relaying: into the jitter buffer for the next ticks."""
        if pt == self.audio_pt or pt == CN_PAYLOAD_TYPE:
            # the stream validated the header; building the packet from the fields it
            # unpacked is a third of the cost of parsing the datagram again
            payload = data[12:] if data[0] & 0x3F == 0 else rtp_payload(data)
            packet = RtpPacket(pt, seq, ts, ssrc, payload, bool(data[1] & 0x80))
            self.jitter.put(packet, self._time())

    def pull_frame(self, rate: int, now: float) -> np.ndarray:
        """The frame to play at this tick, decoded at ``rate``; losses are concealed."""
        return self.frame_from(self.jitter.get(now), rate)

    def frame_from(self, item: RtpPacket | Loss | None, rate: int) -> np.ndarray:
        """Decode (or conceal) what the jitter buffer gave for this tick, at ``rate``."""
        if item is None:  # nothing received yet
            return np.zeros(rate * FRAME_MS // 1000, np.int16)
        self._remember_good()
        if isinstance(item, Loss):
            pcm = self.concealer.lost(item.consecutive)
        elif item.payload_type == CN_PAYLOAD_TYPE:
            try:
                pcm = self.concealer.comfort_noise(item.payload)
            except ValueError:
                pcm = self.concealer.lost(1)
        else:
            try:
                pcm = self.decoder.decode(item.payload)
            except ValueError:
                self.stream.malformed += 1
                pcm = np.zeros(self.frame_samples, np.int16)
            if pcm.size != self.frame_samples:  # a peer ignoring ptime: fit it to 20 ms
                pcm = np.resize(pcm, self.frame_samples)
            pcm = self.concealer.good(pcm)
        return convert_rate(pcm, self.sample_rate, rate)

    def batch_decoded(self, block: np.ndarray, row: int) -> None:
        """This tick's frame is ``block[row]`` (batch-decoded); the concealer gets it lazily,
        only if a loss follows, which saves a per-leg call on every good tick."""
        self._last_good = (block, row)

    def _remember_good(self) -> None:
        if self._last_good is not None:
            block, row = self._last_good
            self.concealer.good(block[row])
            self._last_good = None

    def send_frame(self, pcm: np.ndarray, rate: int, now: float) -> None:
        """Encode one 20 ms frame given at ``rate`` and send it from our sender."""
        pcm = convert_rate(pcm, rate, self.sample_rate)
        self.stream.send_payload(
            self.encoder.encode(pcm), self.format.payload_type, self.frame_ticks, now
        )

    def detect_inband(self, frame: np.ndarray, now: float) -> None:
        """Run the Goertzel detector on an inbound 8 kHz frame; digits go to ``on_digit``."""
        if self.inband is None:
            return
        for digit in self.inband.process(frame, now):
            if self.on_digit is not None:
                self.on_digit(self, digit)

    def reset_intake(self) -> None:
        """Start a fresh jitter buffer (queued audio belonged to the previous consumer).

        Both are made on first use: a relayed call never decodes, and building them for every
        leg at every (re)configuration was a fifth of the media cost of a call setup."""
        self._jitter: JitterBuffer | None = None
        self._concealer: Concealer | None = None
        self._last_good = None

    @property
    def jitter(self) -> JitterBuffer:
        if self._jitter is None:
            self._jitter = JitterBuffer(self.encoder.clock_rate, FRAME_MS)
        return self._jitter

    @property
    def concealer(self) -> Concealer:
        if self._concealer is None:
            self._concealer = Concealer(self.frame_samples)
        return self._concealer


class RelayPath:
    """Forwards one direction of a relayed bridge: a stream sink that rewrites the header
    in the receive buffer and sends it on, without a copy."""

    borrows_buffer = True  # RtpStream hands it the receive buffer itself (see __call__)

    __slots__ = (
        "audio_in",
        "audio_out",
        "dropped",
        "dst",
        "event_in",
        "event_out",
        "forwarding",
        "frame_ticks",
        "in_ssrc",
        "paused",
        "seq_off",
        "time",
        "ts_off",
    )

    def __init__(self, src: Leg, dst: Leg, time: Callable[[], float]) -> None:
        self.dst = dst.stream
        self.audio_in = src.format.payload_type
        self.audio_out = dst.format.payload_type
        src_event = src.format.event_payload_type
        dst_event = dst.format.event_payload_type
        self.event_in = src_event if src_event is not None else -1
        self.event_out = dst_event if dst_event is not None else -1
        self.frame_ticks = dst.frame_ticks
        self.time = time
        self.in_ssrc = -1
        self.seq_off = 0
        self.ts_off = 0
        self.paused = dst.player is not None
        self.forwarding = False
        self.dropped = 0

    def resync(self) -> None:
        """Recompute offsets at the next packet (after a pause or a mode change)."""
        self.in_ssrc = -1
        self.forwarding = False

    def _realign(self, seq: int, ts: int, ssrc: int) -> None:
        # a new source continues our sequence space where our last packet left it
        sender = self.dst.sender
        now = self.time()
        if self.forwarding:
            out_ts = (sender.ts + self.frame_ticks) & 0xFFFFFFFF
        else:
            out_ts, _ = sender.next_timestamp(now)
        self.seq_off = (sender.seq + 1 - seq) & 0xFFFF
        self.ts_off = (out_ts - ts) & 0xFFFFFFFF
        self.in_ssrc = ssrc
        self.forwarding = True
        sender.time = now
        sender.span = self.frame_ticks

    def __call__(self, data: bytes | memoryview, pt: int, seq: int, ts: int, ssrc: int) -> None:
        """Forward one packet; a ``memoryview`` (the stream's receive buffer, which this
        sink borrows) is rewritten in place and sent, ``bytes`` are copied first. Runs for
        every relayed packet: each attribute is read once, the usual case tested first."""
        if self.paused:
            return
        if pt == self.audio_in:
            out_pt = self.audio_out
        elif pt == self.event_in and self.event_out >= 0:
            out_pt = self.event_out
        elif pt == CN_PAYLOAD_TYPE:
            out_pt = CN_PAYLOAD_TYPE
        else:
            self.dropped += 1
            return
        if ssrc == self.in_ssrc:
            out_pt |= data[1] & 0x80
        else:
            self._realign(seq, ts, ssrc)
            out_pt |= 0x80  # RFC 3550 5.1: marker on a discontinuity
        dst = self.dst
        remote = dst.remote
        transport = dst.transport
        if remote is None or transport is None or dst.closed or not dst.sending:
            return
        sender = dst.sender
        if data.__class__ is not memoryview:
            data = bytearray(data)
        sender.seq = s = (seq + self.seq_off) & 0xFFFF
        sender.ts = t = (ts + self.ts_off) & 0xFFFFFFFF
        _pack_pt_seq_ts_ssrc(data, 1, out_pt, s, t, sender.ssrc)
        try:
            transport.sendto(data, remote)
        except OSError:
            return  # a full socket buffer or an unreachable peer: lost, as on a wire
        sender.packets += 1
        sender.octets += len(data) - 12


TalkerCallback = Callable[["Bridge", Hashable, bool], None]


class Bridge:
    """Legs joined together; relays when it can, mixes when it must.

    ``always_mix`` makes a conference: it keeps mixing even with two same-codec legs,
    so a third can join without a switch.
    """

    def __init__(
        self,
        name: str,
        time: Callable[[], float],
        *,
        always_mix: bool = False,
        on_talker: TalkerCallback | None = None,
    ) -> None:
        self.name = name
        self.always_mix = always_mix
        self.legs: list[Leg] = []
        self.mixer = Mixer(BRIDGE_RATE * FRAME_MS // 1000)
        self.recorders: list[tuple[Recorder, bool]] = []
        self.announcement: Player | None = None  # mixed into what every member hears
        self.relaying = False
        self.on_talker = on_talker
        self._time = time
        self.closed = False

    def __repr__(self) -> str:
        mode = "relay" if self.relaying else "mix"
        return f"Bridge({self.name!r}, {mode}, legs={[leg.id for leg in self.legs]})"

    def add(self, leg: Leg, *, muted: bool = False, deaf: bool = False, gain: float = 1.0) -> None:
        """Join ``leg``; it must not be in another bridge."""
        if leg.bridge is not None:
            raise ValueError(f"leg {leg.id} is already in {leg.bridge!r}")
        self.mixer.add(leg.id, muted=muted, deaf=deaf, gain=gain)
        self.legs.append(leg)
        leg.bridge = self
        self.update_mode()

    def remove(self, leg: Leg) -> None:
        """Take ``leg`` out; its stream stops receiving the bridge's audio."""
        if leg.bridge is not self:
            raise ValueError(f"leg {leg.id} is not in {self!r}")
        self.mixer.remove(leg.id)
        self.legs.remove(leg)
        leg.bridge = None
        leg.relay_out = None
        leg.stream.on_audio = leg.take_audio
        leg.reset_intake()
        self.update_mode()

    def add_recorder(self, recorder: Recorder, *, stereo: bool) -> None:
        """Tap the bridge: stereo is the first two legs' inbound audio, else the full mix."""
        self.recorders.append((recorder, stereo))
        self.update_mode()

    def remove_recorder(self, recorder: Recorder) -> None:
        """Stop tapping; the bridge may go back to relaying."""
        self.recorders = [(r, s) for r, s in self.recorders if r is not recorder]
        self.update_mode()

    def can_relay(self) -> bool:
        """Two legs, same codec, no taps: the fast path applies."""
        return (
            not self.always_mix
            and not self.recorders
            and self.announcement is None
            and len(self.legs) == 2
            and self.legs[0].codec_key == self.legs[1].codec_key
            and not any(self._tapped(leg) for leg in self.legs)
        )

    def _tapped(self, leg: Leg) -> bool:
        """A leg whose audio someone must hear decoded (or that is muted/deaf) stops relaying."""
        return bool(
            leg.recorders
            or leg.inband is not None
            or self.mixer.is_muted(leg.id)
            or self.mixer.is_deaf(leg.id)
        )

    def update_mode(self) -> None:
        """Switch between relaying and mixing after any membership or tap change."""
        relay = self.can_relay() and not self.closed
        now = self._time()
        for leg in self.legs:
            sender = leg.stream.sender
            if self.relaying and sender.time is not None:
                sender.time, sender.span = now, leg.frame_ticks  # continue after relayed packets
        if relay:
            a, b = self.legs
            a.relay_out = RelayPath(a, b, self._time)
            b.relay_out = RelayPath(b, a, self._time)
            a.stream.on_audio = a.relay_out
            b.stream.on_audio = b.relay_out
        else:
            for leg in self.legs:
                if self.relaying or leg.relay_out is not None:
                    leg.reset_intake()
                leg.relay_out = None
                leg.stream.on_audio = leg.take_audio
        self.relaying = relay

    def set_muted(self, leg: Leg, muted: bool) -> None:
        """Mute ``leg`` towards the others."""
        self.mixer.set_muted(leg.id, muted)
        self.update_mode()

    def set_deaf(self, leg: Leg, deaf: bool) -> None:
        """Stop sending the mix to ``leg``."""
        self.mixer.set_deaf(leg.id, deaf)
        self.update_mode()

    def set_gain(self, leg: Leg, gain: float) -> None:
        """Gain on what ``leg`` says."""
        self.mixer.set_gain(leg.id, gain)

    def record(self, frames: np.ndarray) -> None:
        """Feed the bridge's recorders with this tick's inbound frames (one row per leg)."""
        mixed: np.ndarray | None = None
        for recorder, stereo in self.recorders:
            if stereo:
                pair = (
                    frames[:2] if len(frames) >= 2 else np.vstack([frames, np.zeros_like(frames)])
                )
                recorder.write(pair.T)
            else:
                if mixed is None:
                    total = frames.astype(np.int32).sum(axis=0)
                    mixed = np.clip(total, -32768, 32767).astype(np.int16)
                recorder.write(mixed)

    def close(self) -> None:
        """Release every leg (their streams stay open)."""
        self.closed = True
        for leg in list(self.legs):
            self.remove(leg)


def mix_bridges(bridges: Sequence[Bridge], now: float) -> MixBatch | None:
    """One 20 ms step for every mixing bridge at once: pull, decode, mix, encode, send.

    Decoding, mixing and encoding are batched over all legs of all bridges (one numpy
    call per codec rather than per leg), which is what lets one core mix hundreds of
    participants; only packet I/O and jitter buffering remain per leg.
    """
    bridges = [b for b in bridges if b.legs and not b.relaying]
    if not bridges:
        return None
    legs = [leg for b in bridges for leg in b.legs]
    frames = _decode_all(legs, now)
    batch = mix_all([b.mixer for b in bridges], frames)
    pos = 0
    for bridge in bridges:
        if bridge.announcement is not None:
            _announce(bridge, batch.frames[pos : pos + len(bridge.legs)])
        pos += len(bridge.legs)
    _encode_and_send(legs, batch.frames, now)
    pos = 0
    for bridge, result in zip(bridges, batch.results, strict=True):
        heard_rows = frames[pos : pos + len(bridge.legs)]
        pos += len(bridge.legs)
        if bridge.recorders:
            bridge.record(heard_rows)
        for k, leg in enumerate(bridge.legs):
            if leg.inband is None and not leg.recorders:
                continue
            heard, out = heard_rows[k], result.frames[k]
            if leg.inband is not None:
                leg.detect_inband(heard, now)
            for recorder, stereo in leg.recorders:  # this leg's own view: heard | sent to it
                if stereo:
                    recorder.write(np.stack([heard, out], axis=1))
                else:
                    both = np.clip(heard.astype(np.int32) + out, -32768, 32767)
                    recorder.write(both.astype(np.int16))
        if bridge.on_talker is not None:
            for key in result.started_talking:
                bridge.on_talker(bridge, key, True)
            for key in result.stopped_talking:
                bridge.on_talker(bridge, key, False)
    return batch


def _announce(bridge: Bridge, rows: np.ndarray) -> None:
    """Add the announcement's next frame to what every non-deaf member hears (in place)."""
    assert bridge.announcement is not None
    frame = bridge.announcement.next_frame()
    if frame is None:
        return
    heard = rows.astype(np.int32) + frame * bridge.mixer.hears[:, None].astype(np.int32)
    rows[:] = np.clip(heard, -32768, 32767)


def _decode_all(legs: list[Leg], now: float) -> np.ndarray:
    """Every leg's frame for this tick at the bridge rate, batch-decoding plain packets."""
    frames = np.zeros((len(legs), BRIDGE_FRAME), np.int16)
    groups: dict[tuple[str, int], list[tuple[int, bytes, Leg]]] = {}
    for row, leg in enumerate(legs):
        item = leg.jitter.get(now)
        if item is None:
            continue
        key = leg.batch_key
        if (
            key is not None
            and type(item) is RtpPacket
            and item.payload_type == leg.audio_pt
            and len(item.payload) == leg.frame_bytes
        ):
            entries = groups.get(key)
            if entries is None:
                entries = groups[key] = []
            entries.append((row, item.payload, leg))
        else:
            frames[row] = leg.frame_from(item, BRIDGE_RATE)
    for entries in groups.values():
        decoder = entries[0][2].decoder
        pcm = decoder.decode(b"".join([e[1] for e in entries])).reshape(-1, BRIDGE_FRAME)
        if len(entries) == len(legs):
            frames[:] = pcm
        else:
            frames[[e[0] for e in entries]] = pcm
        for k, (_, _, leg) in enumerate(entries):
            leg.batch_decoded(pcm, k)
    return frames


def _encode_and_send(legs: list[Leg], out: np.ndarray, now: float) -> None:
    """Encode each leg's mix (batched per stateless codec) and send it.

    Deaf legs get their (silent) row too: a stream that stops makes phones and NATs
    think the call died.
    """
    groups: dict[tuple[str, int], list[tuple[int, Leg]]] = {}
    for row, leg in enumerate(legs):
        if leg.player is not None:
            continue  # a prompt for this leg alone overrides the mix
        key = leg.batch_key
        if key is None:
            leg.send_frame(out[row], BRIDGE_RATE, now)
            continue
        entries = groups.get(key)
        if entries is None:
            entries = groups[key] = []
        entries.append((row, leg))
    for entries in groups.values():
        block = out if len(entries) == len(legs) else out[[e[0] for e in entries]]
        first = entries[0][1]
        data = first.encoder.encode(block)
        size = first.frame_bytes
        for k, (_, leg) in enumerate(entries):
            leg.stream.send_payload(
                data[k * size : (k + 1) * size], leg.audio_pt, leg.frame_ticks, now
            )
