"""The asyncio side of RFC 3262 for the caller's leg: one timer that resends the pending
reliable 18x (the rules live in the sans-IO `sip/reliable.py`)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from softswitch.sip.message import Request, Response
from softswitch.sip.reliable import ReliableProvisionals

__all__ = ["ReliableLeg"]


class ReliableLeg:
    """Reliable 18x to a caller that requires 100rel; `give_up` runs after 64*T1 unanswered."""

    def __init__(self, invite: Request, t1: float, resend: Callable[[Response], None],
                 give_up: Callable[[], None]) -> None:
        self._state = ReliableProvisionals(invite, t1)
        self._loop = asyncio.get_running_loop()
        self._resend = resend
        self._give_up = give_up
        self._timer: asyncio.TimerHandle | None = None

    def headers(self) -> list[tuple[str, str]] | None:
        """Require + RSeq for the next 18x, or None while one is unacknowledged (the caller
        already hears ringing or early media: the later 18x is not needed)."""
        return None if self._state.busy else self._state.headers()

    def sent(self, response: Response) -> None:
        self._state.sent(response, self._loop.time())
        self._arm()

    def prack(self, request: Request) -> None:
        """Match the caller's PRACK; raises RackMismatch (481) or RemoteProtocolError (400)."""
        self._state.prack(request)
        self._arm()

    def final_sent(self) -> None:
        self._state.final_sent()
        self._arm()

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _arm(self) -> None:
        self.close()
        deadline = self._state.next_deadline()
        if deadline is not None:
            self._timer = self._loop.call_at(deadline, self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        try:
            response = self._state.due(self._loop.time())
        except TimeoutError:
            self._give_up()
            return
        if response is not None:
            self._resend(response)
        self._arm()
