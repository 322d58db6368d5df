"""The security log writer: events are batched into one commit, and bounded under attack.

Why batch: a scanner produces failures faster than one fsync per event allows; the log is
evidence, not state a reply depends on, so it is written shortly after (``flush_delay``) in one
transaction. Why bounded: attackers control how many events they cause; past ``max_pending``
unwritten events the surplus is counted in ``dropped`` instead of growing memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence

from softswitch.store.records import SecurityEvent

__all__ = ["SecurityLog"]

log = logging.getLogger(__name__)

Writer = Callable[[Sequence[SecurityEvent]], Awaitable[None]]


class SecurityLog:
    """``record(event)`` now, written by ``writer`` within ``flush_delay`` seconds."""

    def __init__(
        self, writer: Writer, *, flush_delay: float = 0.2, max_pending: int = 10_000
    ) -> None:
        self._writer = writer
        self._delay = flush_delay
        self._max_pending = max_pending
        self._pending: list[SecurityEvent] = []
        self._task: asyncio.Task[None] | None = None
        self._closing = asyncio.Event()
        self.dropped = 0

    def record(self, event: SecurityEvent) -> None:
        """Queue one event and make sure a flush is scheduled."""
        if len(self._pending) >= self._max_pending:
            self.dropped += 1
            return
        self._pending.append(event)
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._flush_later())

    async def _flush_later(self) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._closing.wait(), self._delay)
        await self.flush()

    async def flush(self) -> None:
        """Write everything queued so far (also called on shutdown and before reads in tests)."""
        batch, self._pending = self._pending, []
        if not batch:
            return
        try:
            await self._writer(batch)
        except Exception:  # the log must never take the SIP path down with it
            log.exception("could not write %d security events", len(batch))

    async def close(self) -> None:
        """Write what is left (ends the wait of a scheduled flush, never cuts a write short)."""
        self._closing.set()
        if self._task is not None:
            await self._task
        await self.flush()
