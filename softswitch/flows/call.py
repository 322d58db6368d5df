"""The :class:`Call` a flow scripts: answer, play, say, collect, menu, record, hang up.

Every await goes through one private wait that has a timeout on the call's clock and wakes
with :class:`~softswitch.flows.errors.Hangup` when the caller leaves, so a flow is cancelled
at the await it is in and its ``finally`` blocks run. Digits are kept in a type-ahead buffer:
a key pressed during a prompt stops it (barge-in) and is the first key the next ``collect``
or ``menu`` reads, as callers who know the menu expect.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol, TypeVar

from media.tones import BEEP, ToneSpec
from softswitch.flows import say
from softswitch.flows.clock import Clock
from softswitch.flows.errors import CallStateError, FlowTimeout, Hangup, NoValidInput
from softswitch.flows.media_port import MediaPort, PlayItem
from softswitch.flows.prompts import PromptLibrary

__all__ = [
    "Call",
    "CallEvent",
    "CallState",
    "ConferenceSeam",
    "Prompt",
    "RecordResult",
    "Timeouts",
    "Waiting",
]

T = TypeVar("T")
Prompt = str | Path | ToneSpec
"""A prompt name ("welcome"), an audio file, or a tone."""

_TIMEOUT = object()
_HANGUP = object()


class CallState(StrEnum):
    RINGING = "ringing"
    ANSWERED = "answered"
    ENDED = "ended"


@dataclass(frozen=True, slots=True)
class Timeouts:
    """Limits on waits that normally end on their own (seconds)."""

    answer: float = 10.0
    prompt: float = 600.0  # a prompt list longer than this is a mistake, not a message
    media: float = 10.0  # starting or finishing a recording


@dataclass(frozen=True, slots=True)
class CallEvent:
    """Something a flow did or the caller did, for logs and the test kit."""

    at: float
    kind: str  # answer, play, skipped, interrupted, collected, menu, record, recorded,
    #            hangup, caller_hangup
    detail: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RecordResult:
    """A finished recording: where, how long, and why it ended (key, silence, max, hangup)."""

    path: Path
    seconds: float
    ended_by: str


@dataclass(frozen=True, slots=True)
class Waiting:
    """What a flow awaits now: ``kind`` is answer, play, digit, record or media."""

    future: asyncio.Future[Any]  # the call's own waiter: a key, silence or hang-up settle it
    source: asyncio.Future[Any]  # what the port reports on (its callbacks run a step later)
    kind: str

    def done(self) -> bool:
        """True once the flow will resume at its next step."""
        return self.future.done() or self.source.done()


class ConferenceSeam(Protocol):
    """What :meth:`Call.conference` hands the caller to (softswitch.features.conference)."""

    async def join(self, call: Call, port: MediaPort, room: str) -> None: ...


class DialSeam(Protocol):
    """What :meth:`Call.dial` asks to ring a number and connect the caller to it
    (softswitch.features.dialing on the switch): returns when the far end hangs up, raises
    DialFailed when nobody answers; the caller hanging up cancels it (Hangup)."""

    async def dial(self, call: Call, port: MediaPort, number: str, timeout: float) -> None: ...


class Call:
    """One call as a flow sees it. Built by the runner (or the test kit), not by flows."""

    def __init__(
        self,
        port: MediaPort,
        *,
        clock: Clock,
        prompts: PromptLibrary,
        caller: str,
        dialled: str,
        call_id: str = "",
        language: str = "zh",
        variables: Mapping[str, Any] | None = None,
        recordings: Path = Path("recordings"),
        timeouts: Timeouts | None = None,
        on_event: Callable[[CallEvent], None] | None = None,
        conferences: ConferenceSeam | None = None,
        dialer: DialSeam | None = None,
    ) -> None:
        self.caller = caller
        self.dialled = dialled
        self.call_id = call_id
        self.language = language
        self.variables: dict[str, Any] = dict(variables or {})
        self.state = CallState.RINGING
        self.timeouts = timeouts or Timeouts()
        self.on_wait: Callable[[], None] | None = None  # the test kit's "flow is blocked" hook
        self._port = port
        self._clock = clock
        self._prompts = prompts
        self._recordings = recordings
        self._on_event = on_event
        self._conferences = conferences
        self._dialer = dialer
        self._digits: deque[str] = deque()
        self._wait: Waiting | None = None
        self._caller_gone = False
        self._recording_ends: set[str] = set()
        self._barge_in = False
        self._record_ids = itertools.count(1)
        self._loop = asyncio.get_running_loop()
        port.listen(self._digit_arrived, self._silence_heard)

    # -- state ----------------------------------------------------------------------------

    @property
    def waiting(self) -> Waiting | None:
        """What the flow awaits now, None while it runs (the test kit drives time by it)."""
        return self._wait

    @property
    def caller_hung_up(self) -> bool:
        """True once the caller left (the flow is being cancelled)."""
        return self._caller_gone

    def _event(self, kind: str, *detail: str) -> None:
        if self._on_event is not None:
            self._on_event(CallEvent(self._clock.time(), kind, tuple(detail)))

    def _check_live(self, *, answered: bool = True) -> None:
        if self._caller_gone:
            raise Hangup("the caller hung up")
        if self.state is CallState.ENDED:
            raise CallStateError("the call has ended")
        if answered and self.state is not CallState.ANSWERED:
            raise CallStateError("answer() the call first")

    async def _wait_for(self, future: asyncio.Future[Any], timeout: float | None, kind: str) -> Any:
        """Await ``future``: its result, or ``_TIMEOUT`` after ``timeout``; raises Hangup."""
        waiter: asyncio.Future[Any] = self._loop.create_future()

        def settle(value: object) -> None:
            if not waiter.done():
                waiter.set_result(value)

        def copy(done: asyncio.Future[Any]) -> None:
            if waiter.done():
                return
            if done.cancelled():
                waiter.cancel()
            elif done.exception() is not None:
                waiter.set_exception(done.exception())  # type: ignore[arg-type]
            else:
                waiter.set_result(done.result())

        future.add_done_callback(copy)
        timer = (
            self._clock.call_at(self._clock.time() + timeout, lambda: settle(_TIMEOUT))
            if timeout is not None
            else None
        )
        self._wait = Waiting(waiter, future, kind)
        try:
            if self.on_wait is not None:
                self.on_wait()
            result = await waiter
        finally:
            self._wait = None
            future.remove_done_callback(copy)
            if timer is not None:
                timer.cancel()
        if result is _HANGUP:
            raise Hangup("the caller hung up")
        return result

    def caller_left(self) -> bool:
        """The caller hung up: wake the flow's current wait with Hangup. False when the flow
        is not waiting on the call (the runner then cancels its task). After the flow's own
        hangup this does nothing, so the switch may report every end of the call here."""
        if self._caller_gone or self.state is CallState.ENDED:
            return True  # already gone, or the flow hung up itself: nothing to interrupt
        self._caller_gone = True
        self._event("caller_hangup")
        self.state = CallState.ENDED
        if self._wait is not None and not self._wait.future.done():
            self._wait.future.set_result(_HANGUP)
            return True
        return False

    # -- answer / hangup ------------------------------------------------------------------

    async def answer(self) -> None:
        """Answer the call; a second answer does nothing."""
        self._check_live(answered=False)
        if self.state is CallState.ANSWERED:
            return
        if await self._wait_for(self._port.answer(), self.timeouts.answer, "answer") is _TIMEOUT:
            raise FlowTimeout(f"answer not confirmed within {self.timeouts.answer} s")
        self.state = CallState.ANSWERED
        self._event("answer")

    async def hangup(self, cause: str = "normal") -> None:
        """End the call from our side; a second hangup, or one after the caller's, does nothing."""
        if self.state is CallState.ENDED:
            return
        self.state = CallState.ENDED
        self._event("hangup", cause)
        self._port.hangup(cause)

    # -- prompts --------------------------------------------------------------------------

    def _resolve(self, prompt: Prompt | Sequence[Prompt]) -> list[PlayItem]:
        items = [prompt] if isinstance(prompt, str | Path | ToneSpec) else list(prompt)
        resolved: list[PlayItem] = []
        for item in items:
            if isinstance(item, str):
                resolved.append(self._prompts.path(item, self.language))
            elif isinstance(item, Path | ToneSpec):
                resolved.append(item)
            else:
                raise TypeError(f"cannot play {item!r}: use a prompt name, a Path or a tone")
        return resolved

    async def play(self, prompt: Prompt | Sequence[Prompt], *, barge_in: bool = True) -> bool:
        """Play one prompt or a list back to back; True when heard to the end.

        With ``barge_in`` a key stops the prompt and is kept for the next collect; a key
        typed before the prompt began skips it altogether.
        """
        self._check_live()
        items = self._resolve(prompt)
        if not items:
            return True
        names = [p.name if isinstance(p, ToneSpec) else Path(p).stem for p in items]
        if barge_in and self._digits:
            self._event("skipped", *names)
            return False
        self._event("play", *names)
        playing = self._port.play(items, barge_in=barge_in)
        self._barge_in = barge_in
        try:
            completed = await self._wait_for(playing, self.timeouts.prompt, "play")
        finally:
            self._barge_in = False
            if not playing.done():
                self._port.stop()
        if completed is _TIMEOUT:
            raise FlowTimeout(f"prompt {names} still playing after {self.timeouts.prompt} s")
        if not completed:
            self._event("interrupted", *names)
        return bool(completed)

    async def say_digits(self, digits: str, *, barge_in: bool = True) -> bool:
        """Read keys one by one (phone numbers, ticket codes)."""
        return await self.play(say.digit_pieces(digits, self.language), barge_in=barge_in)

    async def say_number(self, n: int, *, barge_in: bool = True) -> bool:
        """Read a whole number (0 .. 10**12-1)."""
        return await self.play(say.number_pieces(n, self.language), barge_in=barge_in)

    async def say_money(self, amount: Decimal | int | str, *, barge_in: bool = True) -> bool:
        """Read an amount in yuan, to the fen."""
        return await self.play(say.money_pieces(amount, self.language), barge_in=barge_in)

    async def say_date(
        self, day: dt.date, *, year: bool = False, weekday: bool = True, barge_in: bool = True
    ) -> bool:
        """Read a date (month, day, optionally year and weekday)."""
        pieces = say.date_pieces(day, self.language, year=year, weekday=weekday)
        return await self.play(pieces, barge_in=barge_in)

    async def say_time(self, at: dt.time, *, barge_in: bool = True) -> bool:
        """Read a clock time with its part of the day."""
        return await self.play(say.time_pieces(at, self.language), barge_in=barge_in)

    # -- digits ---------------------------------------------------------------------------

    def _digit_arrived(self, digit: str) -> None:
        wait = self._wait
        if wait is not None and wait.kind == "record" and digit in self._recording_ends:
            if not wait.future.done():
                wait.future.set_result(f"key {digit}")
            return
        self._digits.append(digit)
        if wait is None or wait.future.done():
            return
        if wait.kind == "digit":
            wait.future.set_result(self._digits.popleft())
        elif wait.kind == "play" and self._barge_in:
            self._port.stop()  # barge-in does not depend on the port doing it too

    def flush_digits(self) -> str:
        """Drop the type-ahead buffer (before a question whose answer must be fresh)."""
        dropped = "".join(self._digits)
        self._digits.clear()
        return dropped

    async def _next_digit(self, timeout: float) -> str | None:
        if self._digits:
            return self._digits.popleft()
        never: asyncio.Future[str] = self._loop.create_future()  # a digit resolves the wait
        try:
            digit = await self._wait_for(never, timeout, "digit")
        finally:
            never.cancel()
        return None if digit is _TIMEOUT else digit

    async def collect(
        self,
        max_digits: int,
        *,
        timeout: float = 5.0,
        inter_digit_timeout: float = 3.0,
        terminator: str = "#",
        prompt: Prompt | Sequence[Prompt] | None = None,
    ) -> str:
        """Read up to ``max_digits`` keys, after playing ``prompt`` (barge-in) if given.

        Ends on the terminator (not included), on ``max_digits``, ``timeout`` seconds
        without a first key, or ``inter_digit_timeout`` between keys. Returns what was
        typed; "" when nothing was.
        """
        if max_digits < 1:
            raise ValueError(f"max_digits must be at least 1, not {max_digits}")
        self._check_live()
        if prompt is not None:
            await self.play(prompt)
        typed = ""
        while len(typed) < max_digits:
            digit = await self._next_digit(inter_digit_timeout if typed else timeout)
            if digit is None or digit in terminator:
                break
            typed += digit
        self._event("collected", typed)
        return typed

    async def menu(
        self,
        prompt: Prompt | Sequence[Prompt],
        options: Mapping[str, T],
        *,
        retries: int = 3,
        invalid: Prompt | None = "invalid",
        no_input: Prompt | None = "timeout",
        timeout: float = 5.0,
    ) -> T:
        """Play ``prompt`` and return the option for the key pressed.

        A wrong key plays ``invalid``, silence plays ``no_input``, and the prompt is asked
        again, ``retries`` times in all; then NoValidInput (the runner says goodbye).
        """
        if not options or any(len(key) != 1 for key in options):
            raise ValueError(f"menu keys must be single keys, not {list(options)}")
        for _ in range(retries):
            key = await self.collect(1, timeout=timeout, terminator="", prompt=prompt)
            if key in options:
                self._event("menu", key)
                return options[key]
            retry = invalid if key else no_input
            if retry is not None:
                await self.play(retry)
        raise NoValidInput(f"no valid choice among {sorted(options)} after {retries} tries")

    # -- recording ------------------------------------------------------------------------

    def _silence_heard(self) -> None:
        if self._wait is not None and self._wait.kind == "record" and not self._wait.future.done():
            self._wait.future.set_result("silence")

    async def record(
        self,
        *,
        max_seconds: float = 60.0,
        silence_timeout: float = 5.0,
        terminator: str = "#",
        beep: bool = True,
        path: Path | None = None,
    ) -> RecordResult:
        """Record the caller after a beep until a terminator key, silence or ``max_seconds``.

        The file is kept when the caller hangs up mid-message (voicemail needs that); the
        Hangup is raised after it is complete.
        """
        self._check_live()
        if beep:
            await self.play(BEEP, barge_in=False)
        if path is None:
            self._recordings.mkdir(parents=True, exist_ok=True)
            name = f"{self.call_id or 'call'}-{next(self._record_ids)}.wav"
            path = self._recordings / name
        started = await self._wait_for(
            self._port.start_recording(path, silence_timeout), self.timeouts.media, "media")
        if started is _TIMEOUT:
            raise FlowTimeout(f"recording did not start within {self.timeouts.media} s")
        began = self._clock.time()
        self._event("record", str(path))
        self._recording_ends = set(terminator)
        ended_by = "hangup"
        never: asyncio.Future[str] = self._loop.create_future()
        try:
            reason = await self._wait_for(never, max_seconds, "record")
            ended_by = "max" if reason is _TIMEOUT else reason
        finally:
            never.cancel()
            self._recording_ends = set()
            seconds = self._clock.time() - began
            stopping = self._port.stop_recording()
            if ended_by == "hangup":
                stopping.add_done_callback(lambda f: None if f.cancelled() else f.exception())
        done = await self._wait_for(stopping, self.timeouts.media, "media")
        if done is _TIMEOUT:
            raise FlowTimeout(f"recording {path} not finished within {self.timeouts.media} s")
        self._event("recorded", ended_by, f"{seconds:.1f}")
        return RecordResult(Path(done), seconds, ended_by)

    # -- later issues -------------------------------------------------------------------

    async def dial(self, number: str, *, timeout: float = 30.0) -> None:
        """Ring ``number`` (the caller hears ringing) and connect the caller to whoever
        answers; returns when that party hangs up, with the caller back in the flow.
        Raises DialFailed when nobody answers within ``timeout``; the caller hanging up
        raises Hangup (and ends the dialled call). A caller not yet answered is answered
        when the dialled party answers, so an unanswered dial costs the caller nothing."""
        if self._dialer is None:
            raise CallStateError("this switch cannot place calls for flows")
        self._check_live(answered=False)
        self._event("dial", number)
        await self._dialer.dial(self, self._port, number, timeout)
        self._event("dialled", number)

    async def bridge(self, number: str, *, timeout: float = 30.0) -> None:
        """Connect the caller to ``number`` and end the call when the conversation ends."""
        await self.dial(number, timeout=timeout)
        await self.hangup("bridged call ended")

    async def transfer(self, number: str, *, timeout: float = 30.0) -> None:
        """Hand the caller to ``number``: the flow's part ends here, the call ends with the
        conversation (a bridge under its usual name; DialFailed leaves the flow in charge)."""
        self._event("transfer", number)
        await self.bridge(number, timeout=timeout)

    async def conference(self, room: str) -> None:
        """Put the caller into conference ``room`` (answering first, asking the room's PIN)
        until they leave, are removed, or the room ends; a hang-up raises Hangup here."""
        if self._conferences is None:
            raise CallStateError("this switch serves no conferences")
        self._check_live(answered=False)
        await self._conferences.join(self, self._port, room)

    async def enqueue(self, queue: str) -> None:
        """Put the caller into ACD ``queue`` until an agent answers."""
        raise NotImplementedError("Call.enqueue arrives with the queue (ACD) feature")
