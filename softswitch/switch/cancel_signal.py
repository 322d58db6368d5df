"""An INVITE's CANCEL as an event that can also be awaited as a plain future.

The B2BUA waits for the first answer among a call's forks *or* the caller's CANCEL with
`asyncio.wait`, which takes futures: an `asyncio.Event` needed a task per INVITE only to
wait on it (created, stepped and cancelled on every call). `when_set` hands out a future
that `set` resolves, with no task.
"""

from __future__ import annotations

import asyncio

__all__ = ["CancelSignal"]


class CancelSignal(asyncio.Event):
    """An `asyncio.Event` (``set``, ``is_set``, ``wait`` as usual) plus `when_set`."""

    def __init__(self) -> None:
        super().__init__()
        self._futures: list[asyncio.Future[None]] = []

    def when_set(self) -> asyncio.Future[None]:
        """A future done once the event is set (at once if it is); cancel it to stop waiting."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if self.is_set():
            future.set_result(None)
        else:
            self._futures.append(future)
        return future

    def set(self) -> None:
        super().set()
        futures, self._futures = self._futures, []
        for future in futures:
            if not future.done():
                future.set_result(None)
