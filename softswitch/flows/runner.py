"""Running a flow for one call: hang-up cancels it, errors end the call politely.

The switch hands the runner a :class:`~softswitch.flows.media_port.MediaPort` for an inbound
leg; the runner builds the :class:`~softswitch.flows.call.Call`, starts the flow as its own
task and returns a :class:`FlowSession`. The B2BUA calls :meth:`FlowSession.caller_hung_up`
on the caller's BYE. Whatever the flow does, one call's failure never reaches another: an
exception is logged, the caller hears ``sorry_error`` and the call is hung up.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from softswitch.flows.call import (
    Call,
    CallEvent,
    CallState,
    ConferenceSeam,
    DialSeam,
    Timeouts,
)
from softswitch.flows.clock import Clock, LoopClock
from softswitch.flows.errors import Hangup, NoValidInput
from softswitch.flows.media_port import MediaPort
from softswitch.flows.prompts import PromptLibrary
from softswitch.flows.registry import FlowFunc, lookup

__all__ = ["FlowOutcome", "FlowRunner", "FlowSession", "run_call"]

log = logging.getLogger(__name__)

APOLOGY_SECONDS = 15.0  # the apology and goodbye prompts are short; never wait longer


@dataclass(frozen=True, slots=True)
class FlowOutcome:
    """How a flow ended: ``flow`` (returned or hung up), ``caller`` (hung up first),
    ``no_input`` (a menu ran out of retries) or ``error`` (with the exception's text)."""

    ended_by: str
    error: str | None = None


async def _say_then_hang_up(call: Call, prompt: str, cause: str) -> None:
    """A last prompt, bounded in time, then hang up; a failure here is only logged."""
    try:
        if call.state is CallState.ANSWERED and not call.caller_hung_up:
            timeouts = call.timeouts
            call.timeouts = Timeouts(timeouts.answer, APOLOGY_SECONDS, timeouts.media)
            await call.play(prompt, barge_in=False)
    except Hangup:
        return
    except Exception:
        log.exception("call %s: could not play %s", call.call_id, prompt)
    await call.hangup(cause)


async def run_call(flow: FlowFunc, call: Call, name: str = "") -> FlowOutcome:
    """Run ``flow`` on ``call`` to its end and hang up if the flow did not."""
    try:
        await flow(call)
    except asyncio.CancelledError:  # Hangup is one; so is the switch stopping
        if call.caller_hung_up:
            return FlowOutcome("caller")
        await call.hangup("switch stopping")
        raise
    except NoValidInput as exc:
        log.info("call %s: flow %s: %s", call.call_id, name, exc)
        await _say_then_hang_up(call, "goodbye", "no valid input")
        return FlowOutcome("no_input", str(exc))
    except Exception as exc:
        log.exception("call %s: flow %s failed", call.call_id, name)
        await _say_then_hang_up(call, "sorry_error", "flow error")
        return FlowOutcome("error", f"{type(exc).__name__}: {exc}")
    if call.caller_hung_up:
        return FlowOutcome("caller")
    await call.hangup("flow ended")
    return FlowOutcome("flow")


class FlowSession:
    """A flow running for one call: its :class:`Call`, its task, and the hang-up input."""

    def __init__(self, call: Call, task: asyncio.Task[FlowOutcome]) -> None:
        self.call = call
        self.task = task

    def caller_hung_up(self) -> None:
        """The caller's BYE (or CANCEL): cancel the flow at its current await."""
        if not self.call.caller_left() and not self.task.done():
            self.task.cancel("caller hung up")

    async def wait(self) -> FlowOutcome:
        """The outcome, once the flow and its clean-up are over."""
        try:
            return await asyncio.shield(self.task)
        except asyncio.CancelledError:
            if self.task.cancelled() and self.call.caller_hung_up:
                return FlowOutcome("caller")
            raise


class FlowRunner:
    """Starts flows by name for calls the switch routed to a ``Flow`` destination."""

    def __init__(
        self,
        flows: Mapping[str, FlowFunc],
        *,
        prompts: PromptLibrary | None = None,
        recordings: Path = Path("recordings"),
        language: str = "zh",
        clock: Clock | None = None,
        timeouts: Timeouts | None = None,
        on_event: Callable[[str, CallEvent], None] | None = None,
    ) -> None:
        self.flows = flows
        self.prompts = prompts or PromptLibrary()
        self.recordings = recordings
        self.language = language
        self.timeouts = timeouts
        self._clock = clock
        self._on_event = on_event
        self.conferences: ConferenceSeam | None = None  # set by the conference feature
        self.dialer: DialSeam | None = None  # set by the dialing feature

    def start(
        self,
        name: str,
        port: MediaPort,
        *,
        call_id: str,
        caller: str,
        dialled: str,
        variables: Mapping[str, Any] | None = None,
        language: str | None = None,
    ) -> FlowSession:
        """Start flow ``name`` for a call; raises FlowNotFound (the switch answers 404)."""
        flow = lookup(self.flows, name)
        on_event = self._on_event
        call = Call(
            port,
            clock=self._clock or LoopClock(),
            prompts=self.prompts,
            caller=caller,
            dialled=dialled,
            call_id=call_id,
            language=language or self.language,
            variables=variables,
            recordings=self.recordings,
            timeouts=self.timeouts,
            on_event=(lambda event: on_event(call_id, event)) if on_event else None,
            conferences=self.conferences,
            dialer=self.dialer,
        )
        task = asyncio.ensure_future(self._run(flow, call, name, port))
        return FlowSession(call, task)

    @staticmethod
    async def _run(flow: FlowFunc, call: Call, name: str, port: MediaPort) -> FlowOutcome:
        try:
            outcome = await run_call(flow, call, name)
        finally:
            port.close()
        log.info("call %s: flow %s ended by %s", call.call_id, name, outcome.ended_by)
        return outcome
