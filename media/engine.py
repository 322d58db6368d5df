"""The media engine facade the SIP layer uses: legs, bridges, prompts, recordings, digits.

Everything here runs on one event loop. One :class:`~media.clock.ClockDriver` ticks every
20 ms for the whole engine: each tick mixes every mixing bridge, advances every prompt and
recording, and sends a slice of the RTCP reports, so all mixing is aligned to the same
monotonic deadlines. Relayed packets never wait for the tick; they are forwarded from the
receive callback (see :mod:`media.bridge`).

Blocking work (decoding prompt files, writing recordings) goes to the default executor.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import logging
import random
import time
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Self

import numpy as np

from media.bridge import BRIDGE_RATE, Bridge, Leg, MediaFormat, convert_rate, mix_bridges
from media.clock import ClockDriver, ClockStats
from media.dtmf import (
    DtmfDigit,
    InbandDtmfDetector,
    TelephoneEvent,
    TelephoneEventParseError,
    TelephoneEventReceiver,
    TelephoneEventSender,
)
from media.player import Player, PromptCache
from media.recorder import Recorder
from media.silence import SilenceWatch
from media.socketpool import SocketPool
from media.stream import Address, Direction, PortPool, StreamStats, open_stream, rtp_payload
from media.tones import ToneGenerator, ToneSpec

__all__ = ["DigitStream", "EngineStats", "MediaEngine", "PlayResult", "Recording", "tone_clip"]

log = logging.getLogger(__name__)

_TICKS_PER_SECOND = 50
_FLUSH_TICKS = 50  # recordings reach the disk every second
PromptItem = str | Path | np.ndarray | ToneSpec
DigitCallback = Callable[[Leg, DtmfDigit], None]
TalkerCallback = Callable[[Bridge, Hashable, bool], None]


@dataclass(frozen=True, slots=True)
class PlayResult:
    """How a prompt ended: played through, or interrupted (by which digit, if any)."""

    completed: bool
    digit: DtmfDigit | None
    frames: int


@dataclass(frozen=True, slots=True)
class EngineStats:
    """Engine-wide figures for monitoring."""

    clock: ClockStats
    legs: int
    bridges: int
    relaying_bridges: int
    recordings: int


class Recording:
    """A running recording of a leg or a bridge; :meth:`MediaEngine.stop_recording` ends it."""

    def __init__(self, recorder: Recorder, target: Leg | Bridge, stereo: bool) -> None:
        self.recorder = recorder
        self.target = target
        self.stereo = stereo
        self.writing: asyncio.Future[None] | None = None

    @property
    def path(self) -> Path:
        """Final file path."""
        return self.recorder.path


class DigitStream:
    """Async iterator over one leg's digits (see :meth:`MediaEngine.digits`)."""

    def __init__(self, unsubscribe: Callable[[asyncio.Queue[DtmfDigit]], None]) -> None:
        self.queue: asyncio.Queue[DtmfDigit] = asyncio.Queue()
        self._unsubscribe = unsubscribe

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> DtmfDigit:
        return await self.queue.get()

    async def aclose(self) -> None:
        """Stop receiving digits."""
        self._unsubscribe(self.queue)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


@dataclass(slots=True)
class _Playback:
    player: Player
    barge_in: bool
    done: asyncio.Future[PlayResult]
    digit: DtmfDigit | None = None


class MediaEngine:
    """Allocates RTP legs and moves audio between them; knows nothing of SIP.

    ``port_range`` (inclusive first, exclusive last) bounds the UDP ports used; ``None``
    lets the OS choose (tests). ``on_digit`` and ``on_talker`` receive DTMF digits and
    talker changes from every leg and bridge. ``run_clock=False`` leaves ticking to the
    caller through :meth:`tick`, the seam tests use instead of waiting on real time.
    ``socket_pool`` closed legs' socket pairs are kept bound for later legs
    (:mod:`media.socketpool`); 0 closes them at once.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port_range: tuple[int, int] | None = (16384, 32768),
        rtcp_mux: bool = False,
        rtcp_interval: float = 5.0,
        prompt_cache: PromptCache | None = None,
        on_digit: DigitCallback | None = None,
        on_talker: TalkerCallback | None = None,
        run_clock: bool = True,
        socket_pool: int = 0,
    ) -> None:
        self.host = host
        self.run_clock = run_clock
        self.rtcp_mux = rtcp_mux
        self.prompts = prompt_cache or PromptCache()
        self.on_digit = on_digit
        self.on_talker = on_talker
        # A random start: several engines on one host (tests, a restart while the old
        # process's sockets linger) would otherwise all try the first ports of the range.
        self._pool = (PortPool(*port_range, start=random.randrange(1 << 16))
                      if port_range is not None else None)
        self._sockets = SocketPool(
            socket_pool, on_close=self._pool.release if self._pool is not None else None)
        self._rtcp_ticks = max(1, round(rtcp_interval * _TICKS_PER_SECOND))
        self._legs: dict[str, Leg] = {}
        self._bridges: list[Bridge] = []
        self._playbacks: dict[Leg | Bridge, _Playback] = {}
        self._recordings: list[Recording] = []
        self._dtmf_rx: dict[Leg, TelephoneEventReceiver] = {}
        self._dtmf_open: set[Leg] = set()
        self._busy: dict[Leg, None] = {}  # legs with a prompt, recorder or detector (ordered)
        self._silence: dict[Leg, tuple[SilenceWatch, Callable[[], None]]] = {}
        self._digit_queues: dict[Leg, list[asyncio.Queue[DtmfDigit]]] = {}
        self._rtcp_slots: dict[int, list[Leg]] = {}
        self._ids = itertools.count(1)
        self._manual_ticks = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._driver: ClockDriver | None = None

    # -- lifecycle -----------------------------------------------------------------------

    async def start(self) -> None:
        """Start the 20 ms clock on the running loop."""
        self._loop = asyncio.get_running_loop()
        if not self.run_clock:
            return
        if self._driver is None:
            self._driver = ClockDriver(self._loop, self._on_tick)
        self._driver.start()

    async def close(self) -> None:
        """Stop everything: prompts end, recordings are finalised, sockets closed."""
        for leg in list(self._legs.values()):
            await self.close_leg(leg)
        for bridge in list(self._bridges):
            await self.close_bridge(bridge)
        self._sockets.close()
        if self._driver is not None:
            self._driver.stop()

    def _time(self) -> float:
        assert self._loop is not None, "MediaEngine.start() was not awaited"
        return self._loop.time()

    # -- legs ----------------------------------------------------------------------------

    async def open_leg(
        self,
        fmt: MediaFormat | None = None,
        *,
        leg_id: str | None = None,
        remote: Address | None = None,
        inband_dtmf: bool = False,
    ) -> Leg:
        """Bind a new RTP port for a call leg; its local address goes into our SDP."""
        if self._loop is None:
            await self.start()
        leg_id = leg_id or f"leg-{next(self._ids)}"
        if leg_id in self._legs:
            raise ValueError(f"leg id {leg_id!r} already in use")
        stream = await open_stream(self.host, pool=self._pool, rtcp_mux=self.rtcp_mux,
                                   sockets=self._sockets)
        leg = Leg(leg_id, stream, fmt or MediaFormat(), self._time)
        leg.on_digit = self._emit_digit
        stream.on_audio = leg.take_audio
        stream.on_event = functools.partial(self._on_event, leg)
        self._legs[leg_id] = leg
        self._dtmf_rx[leg] = TelephoneEventReceiver(leg.encoder.clock_rate)
        if inband_dtmf:
            leg.inband = InbandDtmfDetector()
            self._track(leg)
        if remote is not None:
            stream.set_remote(remote)
        self._rtcp_slots.setdefault(hash(leg_id) % self._rtcp_ticks, []).append(leg)
        return leg

    def configure(
        self,
        leg: Leg,
        *,
        remote: Address | None = None,
        fmt: MediaFormat | None = None,
        direction: Direction | None = None,
    ) -> None:
        """Apply an offer/answer: the peer's address, a new format and/or our direction
        (``None`` leaves each as it was; hold is a direction, not a cleared address)."""
        if direction is not None:
            leg.stream.set_direction(Direction(direction))
        if remote is not None:
            leg.stream.set_remote(remote)
        if fmt is not None:
            leg.configure(fmt)
            self._dtmf_rx[leg] = TelephoneEventReceiver(leg.encoder.clock_rate)
            if leg.bridge is not None:
                leg.bridge.update_mode()

    def leg(self, leg_id: str) -> Leg:
        """Look a leg up by id."""
        return self._legs[leg_id]

    async def close_leg(self, leg: Leg) -> None:
        """Stop its prompt and recordings, leave its bridge, close its sockets."""
        if self._legs.get(leg.id) is not leg:
            return
        self.stop_playback(leg)
        for rec in [r for r in self._recordings if r.target is leg]:
            await self.stop_recording(rec)
        if self._legs.get(leg.id) is leg:  # not closed by someone else meanwhile
            self._drop_leg(leg)

    def close_leg_now(self, leg: Leg) -> bool:
        """:meth:`close_leg` without a task when nothing needs awaiting (a call ends hundreds
        of times a second, and few legs are recorded): False, and nothing done, when a
        recording of the leg must be finished first, i.e. when ``close_leg`` is needed."""
        if any(rec.target is leg for rec in self._recordings):
            return False
        if self._legs.get(leg.id) is leg:
            self.stop_playback(leg)
            self._drop_leg(leg)
        return True

    def _drop_leg(self, leg: Leg) -> None:
        """Leave the bridge, forget the leg everywhere, give its sockets back."""
        if leg.bridge is not None:
            bridge = leg.bridge
            bridge.remove(leg)
            self._forget_empty(bridge)
        del self._legs[leg.id]
        self._busy.pop(leg, None)
        self._silence.pop(leg, None)
        self._dtmf_rx.pop(leg, None)
        self._dtmf_open.discard(leg)
        self._digit_queues.pop(leg, None)
        slot = self._rtcp_slots.get(hash(leg.id) % self._rtcp_ticks)  # as open_leg put it
        if slot is not None and leg in slot:
            slot.remove(leg)
        idle = leg.stream.close_keeping_sockets()
        if idle is not None:
            self._sockets.give(idle)  # the pool closes it (and frees the port) when full
        elif self._pool is not None:
            self._pool.release(leg.stream.local[1])

    def stats(self, leg: Leg) -> StreamStats:
        """Per-stream counters and RTCP statistics."""
        return leg.stream.stats()

    def packets_received(self, leg: Leg) -> int:
        """RTP packets received on the leg so far: what dead-media detection samples every
        few seconds per call, without building the RTCP statistics of :meth:`stats`."""
        return leg.stream.packets_received

    def engine_stats(self) -> EngineStats:
        """Engine-wide figures: the clock's late/skipped ticks above all."""
        clock = self._driver.stats() if self._driver else ClockStats(0, 0, 0, 0.0)
        return EngineStats(
            clock=clock,
            legs=len(self._legs),
            bridges=len(self._bridges),
            relaying_bridges=sum(b.relaying for b in self._bridges),
            recordings=len(self._recordings),
        )

    # -- bridges -------------------------------------------------------------------------

    def bridge(self, a: Leg, b: Leg) -> Bridge:
        """Connect two legs: relayed if their codecs match, otherwise transcoded."""
        bridge = Bridge(f"{a.id}<->{b.id}", self._time, on_talker=self.on_talker)
        bridge.add(a)
        try:
            bridge.add(b)
        except ValueError:
            bridge.remove(a)
            raise
        self._bridges.append(bridge)
        self._refresh_pause(a)
        self._refresh_pause(b)
        return bridge

    def conference(self, name: str) -> Bridge:
        """An empty mixing bridge; legs join with :meth:`join`."""
        bridge = Bridge(name, self._time, always_mix=True, on_talker=self.on_talker)
        self._bridges.append(bridge)
        return bridge

    def join(
        self,
        bridge: Bridge,
        leg: Leg,
        *,
        muted: bool = False,
        deaf: bool = False,
        gain: float = 1.0,
    ) -> None:
        """Add a leg to a bridge (a monitor is ``muted=True``: it listens only)."""
        bridge.add(leg, muted=muted, deaf=deaf, gain=gain)
        for member in bridge.legs:
            self._refresh_pause(member)

    def leave(self, leg: Leg) -> None:
        """Take a leg out of its bridge; a two-party bridge left with one leg is dissolved."""
        bridge = leg.bridge
        if bridge is None:
            return
        bridge.remove(leg)
        self._refresh_pause(leg)
        self._forget_empty(bridge)

    async def close_bridge(self, bridge: Bridge) -> None:
        """Stop its recordings and release its legs."""
        for rec in [r for r in self._recordings if r.target is bridge]:
            await self.stop_recording(rec)
        bridge.close()
        if bridge in self._bridges:
            self._bridges.remove(bridge)

    def _forget_empty(self, bridge: Bridge) -> None:
        if bridge.always_mix or len(bridge.legs) > 1:
            return
        if any(r.target is bridge for r in self._recordings):
            return  # its recording must be stopped explicitly
        bridge.close()
        if bridge in self._bridges:
            self._bridges.remove(bridge)

    def _refresh_pause(self, leg: Leg) -> None:
        """While a prompt plays to ``leg``, relayed packets towards it are held back."""
        bridge = leg.bridge
        if bridge is None or not bridge.relaying:
            return
        for other in bridge.legs:
            path = other.relay_out
            if other is leg or path is None:
                continue
            paused = leg.player is not None
            if path.paused and not paused:
                path.resync()
            path.paused = paused

    # -- prompts -------------------------------------------------------------------------

    async def play(
        self,
        target: Leg | Bridge,
        items: Sequence[PromptItem],
        *,
        loop: bool = False,
        barge_in: bool = True,
        timeout: float | None = None,
    ) -> PlayResult:
        """Play files, int16 arrays and tones to a leg, or to everyone in a bridge.

        Items play back to back. A tone contributes one cadence period (one second if
        continuous), so ``play(leg, [tone("itu", "ringback")], loop=True)`` rings until
        cancelled. On a leg, a digit stops the prompt when ``barge_in``; on a bridge (an
        announcement, a paging message) it is mixed into what every non-deaf member hears.
        Any prompt already playing to the target is cancelled first. Cancelling this
        coroutine (the caller hung up) stops the prompt at once.
        """
        is_bridge = isinstance(target, Bridge)
        rate = target.sample_rate if isinstance(target, Leg) else BRIDGE_RATE
        aio_loop = asyncio.get_running_loop()
        clips = []
        for item in items:
            if isinstance(item, np.ndarray):
                clips.append(item)
            elif isinstance(item, ToneSpec):
                clips.append(tone_clip(item, rate))
            else:
                clips.append(await aio_loop.run_in_executor(None, self.prompts.load, item, rate))
        self.stop_playback(target)
        player = Player(clips, rate * 20 // 1000, loop=loop)
        playback = _Playback(player, barge_in and not is_bridge, aio_loop.create_future())
        self._playbacks[target] = playback
        if isinstance(target, Bridge):
            target.announcement = player
            target.update_mode()
        else:
            target.player = player
            self._track(target)
            self._refresh_pause(target)
        try:
            return await asyncio.wait_for(asyncio.shield(playback.done), timeout)
        except TimeoutError:
            return self._finish_playback(target, completed=False)
        finally:
            if self._playbacks.get(target) is playback:
                self._finish_playback(target, completed=False)

    def stop_playback(self, target: Leg | Bridge) -> None:
        """Cancel the prompt playing to a leg or bridge, if any."""
        if target in self._playbacks:
            self._finish_playback(target, completed=False)

    def _finish_playback(self, target: Leg | Bridge, *, completed: bool) -> PlayResult:
        playback = self._playbacks.pop(target)
        if not completed:
            playback.player.cancel("stopped")
        result = PlayResult(completed, playback.digit, playback.player.frames_played)
        if not playback.done.done():
            playback.done.set_result(result)
        if isinstance(target, Bridge):
            target.announcement = None
            target.update_mode()
        else:
            target.player = None
            self._track(target)
            self._refresh_pause(target)
        return result

    # -- recordings ----------------------------------------------------------------------

    async def record(
        self,
        target: Leg | Bridge,
        path: str | Path,
        *,
        stereo: bool = True,
        on_silence: Callable[[], None] | None = None,
        silence_timeout: float = 0.0,
    ) -> Recording:
        """Record a leg (stereo: caller | what we play) or a bridge (stereo: leg 1 | leg 2).

        Recording a relayed bridge switches it to the mixing path for the duration. For a leg,
        ``on_silence`` is called once when what the leg sends has been quiet for
        ``silence_timeout`` seconds (the end of a voicemail message).
        """
        aio_loop = asyncio.get_running_loop()
        recorder = await aio_loop.run_in_executor(
            None, lambda: Recorder(path, sample_rate=BRIDGE_RATE, channels=2 if stereo else 1)
        )
        recording = Recording(recorder, target, stereo)
        if isinstance(target, Bridge):
            target.add_recorder(recorder, stereo=stereo)
        else:
            target.recorders.append((recorder, stereo))
            if on_silence is not None and silence_timeout > 0:
                self._silence[target] = (SilenceWatch(silence_timeout, BRIDGE_RATE), on_silence)
            self._track(target)
            if target.bridge is not None:
                target.bridge.update_mode()
        self._recordings.append(recording)
        return recording

    async def stop_recording(self, recording: Recording) -> Path:
        """Detach, write the rest and close the file; returns its path."""
        if recording not in self._recordings:
            return recording.path
        self._recordings.remove(recording)
        target = recording.target
        if isinstance(target, Bridge):
            target.remove_recorder(recording.recorder)
        else:
            target.recorders = [(r, s) for r, s in target.recorders if r is not recording.recorder]
            self._silence.pop(target, None)
            self._track(target)
            if target.bridge is not None:
                target.bridge.update_mode()
        if recording.writing is not None:
            await recording.writing
        await asyncio.get_running_loop().run_in_executor(None, recording.recorder.close)
        return recording.path

    def _flush_recordings(self) -> None:
        loop = self._loop
        assert loop is not None
        for rec in self._recordings:
            if rec.writing is not None and not rec.writing.done():
                continue  # the disk is slow: keep buffering, write next second
            block = rec.recorder.take_pending()
            rec.writing = loop.run_in_executor(None, rec.recorder.write_block, block)

    # -- digits --------------------------------------------------------------------------

    def digits(self, leg: Leg) -> DigitStream:
        """Digits from ``leg`` as they end; subscribed from this call on, so none is missed
        between asking and iterating. ``aclose()`` (or leaving ``async with``) unsubscribes."""
        stream = DigitStream(functools.partial(self._unsubscribe, leg))
        self._digit_queues.setdefault(leg, []).append(stream.queue)
        return stream

    def _unsubscribe(self, leg: Leg, queue: asyncio.Queue[DtmfDigit]) -> None:
        queues = self._digit_queues.get(leg, [])
        if queue in queues:
            queues.remove(queue)

    def keep_events(self, leg: Leg, keep: bool = True) -> None:
        """Stop (or resume) relaying ``leg``'s RFC 4733 events to its bridge partner: a
        feature-key matcher reads the digits and sends on only those meant for the peer."""
        leg.keep_events = keep

    def inject_digit(self, leg: Leg, digit: DtmfDigit) -> None:
        """A digit that arrived out of band (SIP INFO dtmf-relay): same path as the others."""
        self._emit_digit(leg, digit)

    async def send_digits(
        self, leg: Leg, digits: str, *, duration_ms: int = 100, gap_ms: int = 60
    ) -> None:
        """Send DTMF to the peer as RFC 4733 events (start, updates, three end packets)."""
        pt = leg.format.event_payload_type
        if pt is None:
            raise ValueError(f"leg {leg.id} negotiated no telephone-event payload type")
        loop = asyncio.get_running_loop()
        sender = TelephoneEventSender(leg.encoder.clock_rate)
        for digit in digits:
            start = loop.time()
            onset, _ = leg.stream.sender.next_timestamp(start)
            for packet in sender.plan(digit, duration_ms, onset):
                delay = start + packet.offset - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
                leg.stream.send_event(packet.event.serialize(), pt, packet.timestamp, packet.marker)
                self._realign_relay_towards(leg)
            rtp = leg.stream.sender
            if rtp.time is None or rtp.time < start:  # no audio went out meanwhile: the
                rtp.ts, rtp.time = onset, start  # press occupied the timeline, so the next
                rtp.span = duration_ms * leg.encoder.clock_rate // 1000  # press starts later
            await asyncio.sleep(gap_ms / 1000)

    def _realign_relay_towards(self, leg: Leg) -> None:
        """Packets we inserted moved ``leg``'s sequence numbers: relayed ones must follow."""
        bridge = leg.bridge
        if bridge is None or not bridge.relaying:
            return
        for other in bridge.legs:
            if other is not leg and other.relay_out is not None:
                other.relay_out.resync()

    def _on_event(self, leg: Leg, data: bytes, pt: int, seq: int, ts: int, ssrc: int) -> None:
        """RFC 4733 packet: detect digits, and forward it when the leg is relayed."""
        try:
            event = TelephoneEvent.parse(rtp_payload(data))
        except (TelephoneEventParseError, ValueError):
            leg.stream.malformed += 1
            return
        rx = self._dtmf_rx[leg]
        for digit in rx.receive(ts, event, self._time(), marker=bool(data[1] & 0x80)):
            self._emit_digit(leg, digit)
        if rx.deadline is not None:
            self._dtmf_open.add(leg)
        if leg.relay_out is not None and not leg.keep_events:
            leg.relay_out(data, pt, seq, ts, ssrc)

    def _emit_digit(self, leg: Leg, digit: DtmfDigit) -> None:
        playback = self._playbacks.get(leg)
        if playback is not None and playback.barge_in:
            playback.digit = digit
            self._finish_playback(leg, completed=False)
        for queue in self._digit_queues.get(leg, []):
            queue.put_nowait(digit)
        if self.on_digit is not None:
            self.on_digit(leg, digit)

    # -- the tick ------------------------------------------------------------------------

    def tick(self, now: float | None = None) -> None:
        """Run one tick by hand (engines built with ``run_clock=False``: tests, simulations)."""
        if self.run_clock:
            raise RuntimeError("the engine's own clock is running; do not tick it by hand")
        self._on_tick(self._manual_ticks, self._time() if now is None else now)
        self._manual_ticks += 1

    def _on_tick(self, index: int, now: float) -> None:
        try:
            mix_bridges(self._bridges, now)
        except Exception:  # a mixing bug must not stop prompts, recordings and RTCP
            log.exception("mixing failed at tick %d", index)
        for bridge in [b for b in self._bridges if b.announcement is not None]:
            if bridge.announcement is not None and bridge.announcement.done:
                self._finish_playback(bridge, completed=not bridge.announcement.cancelled)
        for leg in self._solo_legs():
            try:
                self._tick_leg(leg, now)
            except Exception:
                log.exception("tick of leg %s failed", leg.id)
        if self._dtmf_open:
            self._poll_dtmf(now)
        if index % _FLUSH_TICKS == 0 and self._recordings:
            self._flush_recordings()
        for leg in self._rtcp_slots.get(index % self._rtcp_ticks, ()):
            leg.stream.send_rtcp_report(now, time.time())

    def _track(self, leg: Leg) -> None:
        """Keep the set of legs with per-tick work current, so a tick never scans them all."""
        if leg.player is not None or leg.recorders or leg.inband is not None:
            self._busy[leg] = None
        else:
            self._busy.pop(leg, None)

    def _solo_legs(self) -> list[Leg]:
        """Legs with per-tick work that no mixing bridge does for them."""
        return [
            leg
            for leg in self._busy
            if leg.bridge is None or leg.bridge.relaying or leg.player is not None
        ]

    def _tick_leg(self, leg: Leg, now: float) -> None:
        mixing = leg.bridge is not None and not leg.bridge.relaying
        inbound: np.ndarray | None = None
        if leg.bridge is None and (leg.recorders or leg.inband is not None):
            inbound = leg.pull_frame(BRIDGE_RATE, now)
            leg.detect_inband(inbound, now)
        outbound: np.ndarray | None = None
        playback = self._playbacks.get(leg)
        if playback is not None:
            outbound = playback.player.next_frame()
            if outbound is None:
                self._finish_playback(leg, completed=not playback.player.cancelled)
            else:
                leg.send_frame(outbound, leg.sample_rate, now)
        if leg.recorders and not mixing:
            heard = inbound if inbound is not None else np.zeros(BRIDGE_RATE // 50, np.int16)
            watch = self._silence.get(leg)
            if watch is not None and watch[0].feed(heard):
                self._report_silence(leg, watch[1])
            said = (
                convert_rate(outbound, leg.sample_rate, BRIDGE_RATE)
                if outbound is not None
                else np.zeros_like(heard)
            )
            for recorder, stereo in leg.recorders:
                if stereo:
                    recorder.write(np.stack([heard, said], axis=1))
                else:
                    total = heard.astype(np.int32) + said
                    recorder.write(np.clip(total, -32768, 32767).astype(np.int16))

    def _report_silence(self, leg: Leg, callback: Callable[[], None]) -> None:
        del self._silence[leg]
        try:
            callback()
        except Exception:
            log.exception("silence callback of leg %s failed", leg.id)

    def _poll_dtmf(self, now: float) -> None:
        for leg in list(self._dtmf_open):
            rx = self._dtmf_rx.get(leg)
            if rx is None or rx.deadline is None:
                self._dtmf_open.discard(leg)
                continue
            for digit in rx.poll(now):
                self._emit_digit(leg, digit)
            if rx.deadline is None:
                self._dtmf_open.discard(leg)


def tone_clip(spec: ToneSpec, sample_rate: int) -> np.ndarray:
    """One cadence period of a tone (one second when continuous), for playlists."""
    period_ms = sum(on + off for on, off in spec.cadence) or 1000
    generator = ToneGenerator(spec, sample_rate)
    frames = -(-period_ms // 20)
    return np.concatenate([generator.next_frame() for _ in range(frames)])
