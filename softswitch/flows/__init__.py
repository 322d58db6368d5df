"""The call-flow API: a flow is ``async def flow(call: Call) -> None``.

A flow answers, plays prompts, reads digits and hangs up through :class:`Call`; the switch
finds it by name in a :class:`FlowRegistry` (``@flow`` functions from configured modules
and the ``softswitch.flows`` entry points) and runs it with a :class:`FlowRunner`. The guide
is docs/flows.md; :mod:`softswitch.testing` runs flows on a simulated call.
"""

from softswitch.flows.call import (
    Call,
    CallEvent,
    CallState,
    ConferenceSeam,
    DialSeam,
    Prompt,
    RecordResult,
    Timeouts,
)
from softswitch.flows.clock import Clock, FakeClock, LoopClock
from softswitch.flows.errors import (
    CallStateError,
    DialFailed,
    FlowError,
    FlowNotFound,
    FlowRegistrationError,
    FlowTimeout,
    Hangup,
    NoValidInput,
    PromptNotFound,
)
from softswitch.flows.media_port import EngineMediaPort, MediaPort, SimulatedMediaPort
from softswitch.flows.prompts import DEFAULT_PROMPTS, PromptLibrary
from softswitch.flows.registry import ENTRY_POINT_GROUP, FlowFunc, FlowInfo, FlowRegistry, flow
from softswitch.flows.runner import FlowOutcome, FlowRunner, FlowSession, run_call

__all__ = [
    "DEFAULT_PROMPTS",
    "ENTRY_POINT_GROUP",
    "Call",
    "CallEvent",
    "CallState",
    "CallStateError",
    "Clock",
    "ConferenceSeam",
    "DialFailed",
    "DialSeam",
    "EngineMediaPort",
    "FakeClock",
    "FlowError",
    "FlowFunc",
    "FlowInfo",
    "FlowNotFound",
    "FlowOutcome",
    "FlowRegistrationError",
    "FlowRegistry",
    "FlowRunner",
    "FlowSession",
    "FlowTimeout",
    "Hangup",
    "LoopClock",
    "MediaPort",
    "NoValidInput",
    "Prompt",
    "PromptLibrary",
    "PromptNotFound",
    "RecordResult",
    "SimulatedMediaPort",
    "Timeouts",
    "flow",
    "run_call",
]
