"""What can go wrong in a call flow, and who is told.

::

    asyncio.CancelledError
     └── Hangup               the caller hung up; raised at the flow's current await
    Exception
     └── FlowError
          ├── CallStateError  an operation the call's state does not allow (play after hangup)
          ├── DialFailed      dial/bridge/transfer: nobody answered (busy, no answer...)
          ├── NoValidInput    a menu or prompt got no usable answer after its retries
          ├── FlowTimeout     an internal await (answer, prompt, recording) overran its limit
          ├── PromptNotFound  no audio file for a prompt name in the call's language
          └── FlowNotFound    no flow registered under a name
    FlowRegistrationError (also ConfigError): a [flows] entry or entry point cannot be loaded

``Hangup`` derives from ``CancelledError`` so that ``except Exception`` in a flow never
swallows it, and ``finally`` blocks still run.
"""

from __future__ import annotations

import asyncio

from softswitch.config import ConfigError

__all__ = [
    "CallStateError",
    "DialFailed",
    "FlowError",
    "FlowNotFound",
    "FlowRegistrationError",
    "FlowTimeout",
    "Hangup",
    "NoValidInput",
    "PromptNotFound",
]


class Hangup(asyncio.CancelledError):
    """The caller hung up: the flow is being cancelled at this await."""


class FlowError(Exception):
    """Base class of the flow API's own errors."""


class CallStateError(FlowError):
    """The call is not in a state that allows this operation (pyVoIP's InvalidStateError)."""


class DialFailed(FlowError):
    """The number a flow dialled did not answer: ``status`` as a caller would hear it
    (486 busy, 408 no answer, 480 not registered, 403 not allowed, 404 unknown)."""

    def __init__(self, number: str, status: int, reason: str) -> None:
        super().__init__(f"{number}: {status} {reason}")
        self.number = number
        self.status = status
        self.reason = reason


class NoValidInput(FlowError):
    """The caller gave no valid answer within the retries; the runner says goodbye."""


class FlowTimeout(FlowError, TimeoutError):
    """An operation that should end on its own (answer, prompt, recording) did not."""


class PromptNotFound(FlowError, LookupError):
    """No audio for this prompt name, in the call's language or the fallback one."""


class FlowNotFound(FlowError, LookupError):
    """No flow is registered under this name."""


class FlowRegistrationError(ConfigError):
    """A flow named in the configuration or an entry point cannot be imported or is invalid."""
