"""Waiting for the first answer among a call's forked INVITEs.

One copy for both kinds of leg B: a caller's call (`B2bua`, which also stops waiting on the
caller's CANCEL) and a call the switch places itself (`originate.py`). The caller of
`first_answer` decides what to do with the outcome: connect the winner, CANCEL the forks
still ringing, fail with the best failure.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field

from softswitch.sip.message import Response
from softswitch.switch.cancel_signal import CancelSignal
from softswitch.switch.legs import Call, Fork

__all__ = ["ForkOutcome", "first_answer"]

# A fork's 401/407 from a trunk: the future of its authorized retry, or None (trunks.py).
Retry = Callable[[Call, Fork, Response], "asyncio.Future[Response] | None"]
# A 2xx that came after the winner's: ACK it, then BYE it.
DropLate = Callable[[Fork, Response], None]


@dataclass
class ForkOutcome:
    """How the wait ended: a winner, or the forks still ringing and the failures seen."""

    winner: tuple[Fork, Response] | None = None
    pending: dict[asyncio.Future[Response], Fork] = field(default_factory=dict)
    failures: list[int] = field(default_factory=list)


async def first_answer(call: Call, timeout: float, *, retry: Retry, drop_late: DropLate,
                       stop: CancelSignal | None = None) -> ForkOutcome:
    """Wait for the first 2xx of ``call.forks``, every fork failing, ``stop`` being set or
    ``timeout`` seconds: a 2xx after the winner's in the same round is dropped."""
    loop = asyncio.get_running_loop()
    outcome = ForkOutcome(pending={fork.future: fork for fork in call.forks})
    pending = outcome.pending
    stopped = stop.when_set() if stop is not None else None
    deadline = loop.time() + timeout
    try:
        while pending and outcome.winner is None and not (stopped and stopped.done()):
            left = deadline - loop.time()
            if left <= 0:
                break
            waiting = [*pending, stopped] if stopped is not None else list(pending)
            done, _ = await asyncio.wait(waiting, timeout=left,
                                         return_when=asyncio.FIRST_COMPLETED)
            for future in done:
                fork = pending.pop(future, None) if future is not stopped else None
                if fork is None:
                    continue
                response = future.result()
                again = retry(call, fork, response)
                if again is not None:
                    pending[again] = fork
                elif response.status >= 300:
                    outcome.failures.append(response.status)
                    fork.status = response.status
                elif outcome.winner is None:
                    outcome.winner = (fork, response)
                else:
                    drop_late(fork, response)
    finally:
        if stopped is not None:
            stopped.cancel()
    return outcome
