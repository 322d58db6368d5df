"""Run a flow against a simulated caller on a fake clock: scripted keys in, prompts out.

The tester advances time only when the flow is blocked on the call (a prompt playing, a
wait for a key), jumping straight to the next deadline, so a flow that waits minutes runs in
microseconds and nothing sleeps. Keys come in two ways:

- a string, typed by a *patient* caller who listens to every prompt to its end and presses
  the next key when the flow waits for one; ``.`` means "press nothing this time" (the
  wait times out);
- a list of ``(seconds, keys)``: keys pressed at those times, whatever the flow is doing
  (type-ahead and barge-in), a quarter of a second apart.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from softswitch.flows.call import CallEvent, Timeouts, Waiting
from softswitch.flows.clock import FakeClock
from softswitch.flows.media_port import PlayItem, SimulatedMediaPort, SimulatedPlay, prompt_seconds
from softswitch.flows.prompts import PromptLibrary
from softswitch.flows.registry import FlowFunc
from softswitch.flows.runner import FlowOutcome, FlowRunner

__all__ = ["FlowResult", "FlowStuck", "FlowTester", "run_flow"]

KEY_GAP = 0.25
_KEYS = set("0123456789*#ABCD")


class FlowStuck(AssertionError):
    """The flow waits for something no script or timer will ever bring, or ran too long."""


@dataclass(frozen=True, slots=True)
class FlowResult:
    """What a simulated call saw: prompts, digits collected, events and how it ended."""

    prompts: tuple[str, ...]
    plays: tuple[SimulatedPlay, ...]
    collected: tuple[str, ...]
    events: tuple[CallEvent, ...]
    outcome: FlowOutcome
    duration: float
    variables: Mapping[str, Any]
    recordings: tuple[Path, ...]
    hangup_cause: str | None

    @property
    def ended_by(self) -> str:
        """``flow``, ``caller``, ``no_input`` or ``error`` (see FlowOutcome)."""
        return self.outcome.ended_by

    @property
    def actions(self) -> tuple[str, ...]:
        """The kinds of events in order: answer, play, collected, menu, record, hangup..."""
        return tuple(event.kind for event in self.events)


class FlowTester:
    """One simulated call of ``flow``; :meth:`run` plays it out (see the module docstring)."""

    def __init__(
        self,
        flow: FlowFunc,
        *,
        digits: str | Sequence[tuple[float, str]] = "",
        hangup_after: float | None = None,
        caller: str = "1001",
        dialled: str = "8000",
        language: str = "zh",
        variables: Mapping[str, Any] | None = None,
        prompts: PromptLibrary | None = None,
        prompt_seconds: Callable[[PlayItem], float] = prompt_seconds,
        speech_seconds: float = 2.0,
        recordings: Path | None = None,
        timeouts: Timeouts | None = None,
        max_seconds: float = 3600.0,
    ) -> None:
        keys = digits if isinstance(digits, str) else "".join(k for _, k in digits)
        if bad := set(keys) - _KEYS - ({"."} if isinstance(digits, str) else set()):
            raise ValueError(f"not keys: {sorted(bad)}")
        self.flow = flow
        self.digits = digits
        self.hangup_after = hangup_after
        self.caller = caller
        self.dialled = dialled
        self.language = language
        self.variables = variables
        self.prompts = prompts or PromptLibrary()
        self.prompt_seconds = prompt_seconds
        self.speech_seconds = speech_seconds
        self.recordings = recordings or Path(tempfile.gettempdir()) / "softswitch-flowtest"
        self.timeouts = timeouts
        self.max_seconds = max_seconds
        self.clock = FakeClock()

    async def run(self) -> FlowResult:
        """Play the call out and report it."""
        clock = self.clock
        port = SimulatedMediaPort(clock, prompt_seconds=self.prompt_seconds,
                                  speech_seconds=self.speech_seconds)
        events: list[CallEvent] = []
        name = getattr(self.flow, "__name__", "flow")
        runner = FlowRunner({name: self.flow}, prompts=self.prompts, recordings=self.recordings,
                            language=self.language, clock=clock, timeouts=self.timeouts,
                            on_event=lambda _, event: events.append(event))
        session = runner.start(name, port, call_id="flowtest", caller=self.caller,
                               dialled=self.dialled, variables=self.variables)
        call = session.call
        blocked = asyncio.Event()
        call.on_wait = blocked.set
        patient: deque[str] = deque()
        if isinstance(self.digits, str):
            patient.extend(self.digits)
        else:
            for at, keys in self.digits:
                for i, key in enumerate(keys):
                    clock.call_at(at + i * KEY_GAP, partial(port.press, key))
        if self.hangup_after is not None:
            clock.call_at(self.hangup_after, session.caller_hung_up)
        try:
            while not session.task.done():
                woken = asyncio.ensure_future(blocked.wait())
                await asyncio.wait({session.task, woken}, return_when=asyncio.FIRST_COMPLETED)
                woken.cancel()
                if session.task.done():
                    break
                blocked.clear()
                self._unblock(call.waiting, port, patient)
        finally:
            if not session.task.done():
                session.task.cancel()
                await asyncio.gather(session.task, return_exceptions=True)
        outcome = await session.wait()
        return FlowResult(
            prompts=tuple(name for play in port.plays for name in play.items),
            plays=tuple(port.plays),
            collected=tuple(e.detail[0] for e in events if e.kind == "collected"),
            events=tuple(events),
            outcome=outcome,
            duration=clock.time(),
            variables=dict(call.variables),
            recordings=tuple(port.recorded),
            hangup_cause=port.hung_up,
        )

    def _unblock(self, waiting: Waiting | None, port: SimulatedMediaPort,
                 patient: deque[str]) -> None:
        """Press the next patient key or move time on until the flow's wait ends."""
        if waiting is None:
            return
        kind = waiting.kind
        silent = False
        while not waiting.done():
            if kind in ("digit", "record") and patient and not silent:
                key = patient.popleft()
                if key == ".":
                    silent = True
                else:
                    port.press(key)
                continue
            if self.clock.time() > self.max_seconds:
                raise FlowStuck(f"the flow still runs after {self.max_seconds} simulated seconds")
            if not self.clock.fire_next():
                raise FlowStuck(f"the flow waits ({kind}) for something that never comes")


async def run_flow(flow: FlowFunc, **options: Any) -> FlowResult:
    """``await run_flow(my_flow, digits="1234#1", hangup_after=30)``: see :class:`FlowTester`."""
    return await FlowTester(flow, **options).run()
