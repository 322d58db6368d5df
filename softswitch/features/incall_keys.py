"""In-call feature keys: DTMF sequences pressed during a bridged call (``##`` + number, ``*1``).

Phones without a transfer or record button still have a keypad. Once a call's legs are
connected, every RFC 4733 digit from either phone goes through a `KeyMatcher` instead of being
relayed: a digit that cannot start a registered sequence is sent on to the other phone at once
(regenerated, so the far end's IVR still works), a sequence that matches runs its handler, and
the keys of a feature never reach the other party. A sequence registered ``with_number`` then
collects digits up to ``#`` or a pause (``##1002#`` or ``##1002`` and wait).

`KeyMatcher` is sans-IO (time passed in, tested with a fake clock); `InCallKeys` is the thin
asyncio adapter over the media engine's digit streams and the B2BUA's `on_bridged` hook.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from media import DigitStream, DtmfDigit, Leg, MediaEngine
from softswitch.switch.b2bua import B2bua
from softswitch.switch.legs import Call, CallLeg, CallState

__all__ = ["InCallKeys", "KeyHandler", "KeyMatcher", "KeyPress", "Matched", "Passed"]

log = logging.getLogger(__name__)

DIGITS = frozenset("0123456789*#ABCD")
END_OF_NUMBER = "#"


@dataclass(frozen=True, slots=True)
class Passed:
    """Digits that belong to the conversation: send them on to the other phone."""

    digits: str


@dataclass(frozen=True, slots=True)
class Matched:
    """A registered sequence was keyed (with its number, if it takes one)."""

    sequence: str
    argument: str


Outcome = Passed | Matched


class KeyMatcher:
    """Matches one phone's digits against the registered sequences (sans-IO).

    ``sequences`` maps each sequence to whether a number follows it. A prefix of a sequence
    is held until the next digit decides or ``timeout`` seconds pass (then it is passed on);
    a number ends with ``#`` or the same pause.
    """

    def __init__(self, sequences: Mapping[str, bool], timeout: float) -> None:
        for sequence in sequences:
            if not sequence or not set(sequence) <= DIGITS:
                raise ValueError(f"feature key sequence {sequence!r} is not DTMF digits")
        self.sequences = dict(sequences)
        self.timeout = timeout
        self._held = ""  # a prefix of some sequence
        self._collecting: str | None = None  # the matched sequence whose number we collect
        self._number = ""
        self.deadline: float | None = None

    def feed(self, digit: str, now: float) -> list[Outcome]:
        """One digit ended; returns what to do now."""
        if self._collecting is not None:
            if digit == END_OF_NUMBER:
                return [self._finish_number()]
            self._number += digit
            self.deadline = now + self.timeout
            return []
        self._held += digit
        out: list[Outcome] = []
        while self._held and not self._is_prefix(self._held):
            out.append(Passed(self._held[0]))  # the head can start nothing: it is speech
            self._held = self._held[1:]
        if self._held in self.sequences:
            sequence, self._held = self._held, ""
            if self.sequences[sequence]:
                self._collecting, self._number = sequence, ""
                self.deadline = now + self.timeout
            else:
                self.deadline = None
                out.append(Matched(sequence, ""))
        else:
            self.deadline = now + self.timeout if self._held else None
        return _merge(out)

    def poll(self, now: float) -> list[Outcome]:
        """The pause after a prefix or a number: pass the prefix on, or end the number."""
        if self.deadline is None or now < self.deadline:
            return []
        if self._collecting is not None:
            return [self._finish_number()]
        held, self._held, self.deadline = self._held, "", None
        return [Passed(held)] if held else []

    def _finish_number(self) -> Matched:
        assert self._collecting is not None
        matched = Matched(self._collecting, self._number)
        self._collecting, self._number, self.deadline = None, "", None
        return matched

    def _is_prefix(self, held: str) -> bool:
        return any(sequence.startswith(held) for sequence in self.sequences)


def _merge(outcomes: list[Outcome]) -> list[Outcome]:
    """Consecutive passed digits as one Passed."""
    merged: list[Outcome] = []
    for outcome in outcomes:
        last = merged[-1] if merged else None
        if isinstance(outcome, Passed) and isinstance(last, Passed):
            merged[-1] = Passed(last.digits + outcome.digits)
        else:
            merged.append(outcome)
    return merged


@dataclass(frozen=True, slots=True)
class KeyPress:
    """A feature keyed on ``leg`` of ``call`` (``argument``: the number after it, if any)."""

    call: Call
    leg: CallLeg
    sequence: str
    argument: str


KeyHandler = Callable[[KeyPress], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class _Key:
    handler: KeyHandler
    with_number: bool


class InCallKeys:
    """Watches the digits of every connected call's phones and dispatches feature keys."""

    def __init__(self, b2bua: B2bua, media: MediaEngine, *, timeout: float = 3.0) -> None:
        self.media = media
        self.timeout = timeout
        self._keys: dict[str, _Key] = {}
        # legs whose digits are held, by media leg; watched from their first digit on
        self._armed: dict[Leg, tuple[CallLeg, CallLeg]] = {}
        self._watchers: dict[CallLeg, asyncio.Task[None]] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._next_digit = media.on_digit  # whoever listened before us still hears every digit
        media.on_digit = self._on_digit
        b2bua.on_bridged(self._bridged)

    def register(self, sequence: str, handler: KeyHandler, *, with_number: bool = False) -> None:
        """Run ``handler`` when ``sequence`` (e.g. ``*1``, ``##`` with a number) is keyed on a
        connected call; calls connected from now on are watched."""
        KeyMatcher({sequence: with_number}, self.timeout)  # validates
        if sequence in self._keys:
            raise ValueError(f"feature key {sequence!r} is already registered")
        self._keys[sequence] = _Key(handler, with_number)

    @property
    def sequences(self) -> dict[str, bool]:
        return {sequence: key.with_number for sequence, key in self._keys.items()}

    async def close(self) -> None:
        """Stop watching and wait for running handlers."""
        for task in self._watchers.values():
            task.cancel()
        self._watchers.clear()
        self._armed.clear()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    # -- which legs are watched -----------------------------------------------------------
    def _bridged(self, call: Call) -> None:
        if call.a is not None and call.b is not None:
            self.watch_pair(call.a, call.b)

    def watch_pair(self, x: CallLeg, y: CallLeg) -> None:
        """Watch two legs talking to each other (one call's, or two calls' joined by a
        transfer or a pickup); digits not meant for a feature go to the other one.

        The legs' RFC 4733 events are held from now on, but a leg's matcher starts with its
        first digit (`_on_digit`): most calls never key one, and a watcher task per leg was
        a cost of every call set-up."""
        for leg in (x, y):
            self.unwatch(leg)
        if not self._keys:
            return
        for leg, other in ((x, y), (y, x)):
            self.media.keep_events(leg.media)
            self._armed[leg.media] = (leg, other)
            leg.call.on_end.append(lambda cause, side, leg=leg: self.unwatch(leg))

    def unwatch(self, leg: CallLeg) -> None:
        """Stop matching ``leg``'s digits (its call ended, or a transfer detached it)."""
        armed = self._armed.get(leg.media)
        task = self._watchers.pop(leg, None)
        if armed is not None and armed[0] is leg:
            del self._armed[leg.media]
        elif task is None:
            return
        else:
            task.cancel()
        self.media.keep_events(leg.media, False)

    def _on_digit(self, media_leg: Leg, digit: DtmfDigit) -> None:
        """Every digit of every leg (the engine's hook): an armed leg's first one starts its
        matcher, which subscribes before any later digit and is handed this one first."""
        armed = self._armed.pop(media_leg, None)
        if armed is not None:
            leg, other = armed
            self._watchers[leg] = self._spawn(
                self._watch(leg, other, self.media.digits(media_leg), digit.digit))
        if self._next_digit is not None:
            self._next_digit(media_leg, digit)

    # -- one phone's digits ---------------------------------------------------------------
    async def _watch(self, leg: CallLeg, other: CallLeg, digits: DigitStream,
                     first: str) -> None:
        loop = asyncio.get_running_loop()
        matcher = KeyMatcher(self.sequences, self.timeout)
        forwarding = asyncio.Lock()
        async with digits:
            outcomes = matcher.feed(first, loop.time())
            while True:
                for outcome in outcomes:
                    if isinstance(outcome, Passed):
                        self._spawn(self._forward(leg, other, outcome.digits, forwarding))
                    else:
                        log.info("call %s: feature key %s%s from %s side", leg.call.id,
                                 outcome.sequence, outcome.argument, leg.side)
                        key = self._keys[outcome.sequence]
                        self._spawn(key.handler(KeyPress(leg.call, leg, outcome.sequence,
                                                         outcome.argument)))
                if leg.call.state is not CallState.ANSWERED:
                    return
                wait = None if matcher.deadline is None else max(0.0, matcher.deadline - loop.time())
                try:
                    digit = await asyncio.wait_for(anext(digits), wait)
                except TimeoutError:
                    outcomes = matcher.poll(loop.time())
                else:
                    outcomes = matcher.feed(digit.digit, loop.time())

    async def _forward(self, leg: CallLeg, other: CallLeg, digits: str,
                       lock: asyncio.Lock) -> None:
        """Digits that were not a feature go on to the other phone, in order."""
        async with lock:
            if other.call.state is not CallState.ANSWERED:
                return
            try:
                await self.media.send_digits(other.media, digits)
            except ValueError as exc:  # the other phone negotiated no telephone-event
                log.info("call %s: digits %s not passed on: %s", leg.call.id, digits, exc)

    def _spawn(self, work: Awaitable[Any]) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._done)
        return task

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("in-call feature key failed", exc_info=task.exception())
