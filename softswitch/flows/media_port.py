"""The seam between a :class:`~softswitch.flows.call.Call` and the call it controls.

A :class:`MediaPort` starts things and reports back through futures and callbacks; it never
blocks. The Call does every wait itself (with a timeout, on its clock), which is what lets the
test kit run a flow on a fake clock. Two implementations:

- :class:`EngineMediaPort`: a live call, over :class:`media.MediaEngine` and the call's leg,
  with the B2BUA's answer/hangup callables for the SIP side;
- :class:`SimulatedMediaPort`: a scripted caller on a :class:`~softswitch.flows.clock.Clock`,
  used by :mod:`softswitch.testing`.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import soundfile as sf

from media import Leg, MediaEngine, Recording
from media.tones import ToneSpec
from softswitch.flows.clock import Clock, TimerHandle

__all__ = [
    "DigitSink",
    "EngineMediaPort",
    "MediaPort",
    "PlayItem",
    "SimulatedMediaPort",
    "SimulatedPlay",
    "prompt_seconds",
]

log = logging.getLogger(__name__)

PlayItem = Path | ToneSpec
DigitSink = Callable[[str], None]
_UNKNOWN_PROMPT_SECONDS = 1.0


class MediaPort(Protocol):
    """What a Call asks of the call it controls; every operation returns at once."""

    def answer(self) -> asyncio.Future[None]:
        """Answer (200 OK, media flowing); resolves when the caller's side is connected."""

    def hangup(self, cause: str) -> None:
        """End the call from our side (BYE, or a final error reply before answer)."""

    def listen(self, on_digit: DigitSink, on_silence: Callable[[], None]) -> None:
        """Report each digit as it ends, and silence while recording."""

    def play(self, items: Sequence[PlayItem], *, barge_in: bool) -> asyncio.Future[bool]:
        """Play back to back; True when played through, False when a digit or stop ended it."""

    def stop(self) -> None:
        """Stop what plays now (its future resolves False)."""

    def start_recording(self, path: Path, silence_timeout: float) -> asyncio.Future[None]:
        """Record what the caller says into ``path``; silence reported through listen()."""

    def stop_recording(self) -> asyncio.Future[Path]:
        """End the recording; resolves once the file is complete."""

    def close(self) -> None:
        """The call is over: stop prompts and recordings, drop callbacks."""


def _done(loop: asyncio.AbstractEventLoop, value: Any = None) -> asyncio.Future[Any]:
    future = loop.create_future()
    future.set_result(value)
    return future


# -- live calls -------------------------------------------------------------------------------


class EngineMediaPort:
    """A live call: prompts and recordings through the media engine, SIP through callbacks.

    ``answer`` is the B2BUA's coroutine that sends 200 OK and waits for the ACK (for a call the
    B2BUA already answered it returns at once); ``hangup(cause)`` sends BYE. A recording
    reports the caller's silence through the engine (media/silence.py).
    """

    def __init__(
        self,
        engine: MediaEngine,
        leg: Leg,
        *,
        answer: Callable[[], Awaitable[None]],
        hangup: Callable[[str], None],
    ) -> None:
        self._engine = engine
        self._leg = leg
        self._answer = answer
        self._hangup = hangup
        self._pump: asyncio.Task[None] | None = None
        self._playing: asyncio.Task[object] | None = None
        self._recording: Recording | None = None
        self._on_silence: Callable[[], None] | None = None
        self._loop = asyncio.get_running_loop()

    @property
    def engine(self) -> MediaEngine:
        """The media engine (features such as conferences bridge the leg themselves)."""
        return self._engine

    @property
    def leg(self) -> Leg:
        """The call's media leg."""
        return self._leg

    def answer(self) -> asyncio.Future[None]:
        return asyncio.ensure_future(self._answer())

    def hangup(self, cause: str) -> None:
        self.close()
        self._hangup(cause)

    def listen(self, on_digit: DigitSink, on_silence: Callable[[], None]) -> None:
        self._on_silence = on_silence
        stream = self._engine.digits(self._leg)  # subscribed now: no digit missed

        async def pump() -> None:
            async with stream:
                async for digit in stream:
                    on_digit(digit.digit)

        self._pump = asyncio.ensure_future(pump())

    def play(self, items: Sequence[PlayItem], *, barge_in: bool) -> asyncio.Future[bool]:
        task = asyncio.ensure_future(self._engine.play(self._leg, list(items), barge_in=barge_in))
        self._playing = task
        result: asyncio.Future[bool] = self._loop.create_future()

        def finished(t: asyncio.Task[object]) -> None:
            if result.done():
                return
            if t.cancelled():
                result.set_result(False)
            elif t.exception() is not None:
                result.set_exception(t.exception())  # type: ignore[arg-type]
            else:
                result.set_result(bool(t.result().completed))  # type: ignore[attr-defined]

        task.add_done_callback(finished)
        return result

    def stop(self) -> None:
        self._engine.stop_playback(self._leg)
        if self._playing is not None:
            self._playing.cancel()  # still loading the files: never start playing
            self._playing = None

    def start_recording(self, path: Path, silence_timeout: float) -> asyncio.Future[None]:
        async def start() -> None:
            self._recording = await self._engine.record(
                self._leg, path, stereo=False, on_silence=self._on_silence,
                silence_timeout=silence_timeout)

        return asyncio.ensure_future(start())

    def stop_recording(self) -> asyncio.Future[Path]:
        recording, self._recording = self._recording, None
        if recording is None:
            raise RuntimeError("no recording is running")
        return asyncio.ensure_future(self._engine.stop_recording(recording))

    def close(self) -> None:
        self.stop()
        if self._pump is not None:
            self._pump.cancel()
            self._pump = None
        if self._recording is not None:
            recording, self._recording = self._recording, None
            task = asyncio.ensure_future(self._engine.stop_recording(recording))
            task.add_done_callback(_log_failure)


def _log_failure(task: asyncio.Future[Any]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("finishing a recording failed", exc_info=task.exception())


# -- simulated calls --------------------------------------------------------------------------


@functools.lru_cache(maxsize=1024)
def _file_seconds(path: Path) -> float:
    try:
        return float(sf.info(str(path)).duration)
    except (sf.LibsndfileError, RuntimeError, OSError):
        return _UNKNOWN_PROMPT_SECONDS


def prompt_seconds(item: PlayItem) -> float:
    """How long an item plays: a file's length, one cadence period of a tone."""
    if isinstance(item, ToneSpec):
        return (sum(on + off for on, off in item.cadence) or 1000) / 1000
    return _file_seconds(Path(item))


@dataclass(frozen=True, slots=True)
class SimulatedPlay:
    """One prompt started on a simulated call: what, when, and whether it played through."""

    items: tuple[str, ...]
    started: float
    barge_in: bool


class SimulatedMediaPort:
    """A scripted caller on a clock: prompts last as long as their files, digits are pressed
    with :meth:`press`, the caller hangs up through the runner. ``speech_seconds`` is how long
    the caller talks into a recording before falling silent."""

    def __init__(
        self,
        clock: Clock,
        *,
        prompt_seconds: Callable[[PlayItem], float] = prompt_seconds,
        speech_seconds: float = 2.0,
    ) -> None:
        self.clock = clock
        self.plays: list[SimulatedPlay] = []
        self.hung_up: str | None = None
        self.recorded: list[Path] = []
        self._seconds = prompt_seconds
        self._speech = speech_seconds
        self._on_digit: DigitSink | None = None
        self._on_silence: Callable[[], None] | None = None
        self._playing: tuple[asyncio.Future[bool], TimerHandle, bool] | None = None
        self._recording: tuple[Path, float, TimerHandle] | None = None
        self._loop = asyncio.get_running_loop()

    def answer(self) -> asyncio.Future[None]:
        return _done(self._loop)

    def hangup(self, cause: str) -> None:
        self.hung_up = cause
        self.close()

    def listen(self, on_digit: DigitSink, on_silence: Callable[[], None]) -> None:
        self._on_digit, self._on_silence = on_digit, on_silence

    def play(self, items: Sequence[PlayItem], *, barge_in: bool) -> asyncio.Future[bool]:
        self.stop()
        names = tuple(_name_of(item) for item in items)
        self.plays.append(SimulatedPlay(names, self.clock.time(), barge_in))
        future: asyncio.Future[bool] = self._loop.create_future()
        seconds = sum(self._seconds(item) for item in items)
        timer = self.clock.call_at(self.clock.time() + seconds, lambda: self._end_play(True))
        self._playing = (future, timer, barge_in)
        return future

    def stop(self) -> None:
        self._end_play(False)

    def _end_play(self, completed: bool) -> None:
        if self._playing is None:
            return
        future, timer, _ = self._playing
        self._playing = None
        timer.cancel()
        if not future.done():
            future.set_result(completed)

    def press(self, digit: str) -> None:
        """The caller presses a key: it interrupts a barge-in prompt and reaches the call."""
        if self._playing is not None and self._playing[2]:
            self._end_play(False)
        if self._on_digit is not None:
            self._on_digit(digit)

    def start_recording(self, path: Path, silence_timeout: float) -> asyncio.Future[None]:
        when = self.clock.time() + self._speech + silence_timeout
        timer = self.clock.call_at(when, self._silence)
        self._recording = (Path(path), self.clock.time(), timer)
        return _done(self._loop)

    def _silence(self) -> None:
        if self._on_silence is not None:
            self._on_silence()

    def stop_recording(self) -> asyncio.Future[Path]:
        if self._recording is None:
            raise RuntimeError("no recording is running")
        path, started, timer = self._recording
        self._recording = None
        timer.cancel()
        frames = int((self.clock.time() - started) * 8000)
        sf.write(str(path), np.zeros(frames, np.int16), 8000, subtype="PCM_16")  # silence
        self.recorded.append(path)
        return _done(self._loop, path)

    def close(self) -> None:
        self.stop()
        if self._recording is not None:
            self._recording[2].cancel()
            self._recording = None
        self._on_digit = self._on_silence = None


def _name_of(item: PlayItem) -> str:
    return f"tone:{item.name}" if isinstance(item, ToneSpec) else Path(item).stem
