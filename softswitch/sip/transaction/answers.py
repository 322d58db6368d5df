"""Server transactions reduced to a dict entry, for handlers that only ever answer finally (sans-IO).

Why: the registrar answers every REGISTER with one final response and no provisional one.
For that, a non-INVITE server transaction (RFC 3261 17.2.2) does two things only: while the
request is being worked on (Trying) it swallows retransmissions, and once answered
(Completed) it resends the same final response to each retransmission until Timer J (64*T1
over UDP). That is kept here as one entry per request: ``start`` marks it in progress,
``remember`` stores the answer's bytes, ``lookup`` tells a retransmission what to do. No
transaction object, no timer heap entry, no Timer J wake-up: entries expire lazily as new
ones come in. Retransmissions are matched from their raw bytes, unparsed.

Identical bytes matter: a fresh challenge would carry a fresh nonce, and a client that took
the first 401 sees a second, different one as an unexpected message (SIPp aborts the call).

Entries are plain tuples of strings, bytes and numbers, so CPython's cyclic collector stops
tracking them the first time it sees them: at 2,000 REGISTERs a second about 128,000 entries
are alive, and kept as tracked objects (a `Destination` is a NamedTuple, which stays tracked)
they made every older-generation collection walk them all, pausing the switch for up to 60 ms.
"""

from __future__ import annotations

from collections import deque

from softswitch.sip.destination import Destination
from softswitch.sip.transaction.keys import ServerKey

__all__ = ["IN_PROGRESS", "StatelessAnswers"]

# What `lookup` returns for a request whose answer is still being worked out.
IN_PROGRESS: tuple[bytes, Destination] = (b"", Destination("", 0))
# A Destination's fields as a plain tuple (a NamedTuple stays tracked by the collector).
_Fields = tuple[str, int, str, int | None]


class StatelessAnswers:
    """Entries live ``lifetime`` seconds after their last change; at most ``limit`` of them."""

    def __init__(self, lifetime: float, limit: int = 200_000) -> None:
        if lifetime <= 0 or limit < 1:
            raise ValueError("lifetime and limit must be positive")
        self.lifetime = lifetime
        self._limit = limit
        # key -> (deadline, answer, the destination's fields); b"" while in progress
        self._entries: dict[ServerKey, tuple[float, bytes, _Fields]] = {}
        self._order: deque[tuple[float, ServerKey]] = deque()

    def __len__(self) -> int:
        return len(self._entries)

    def start(self, key: ServerKey, now: float) -> None:
        """The request is being worked on: its retransmissions are swallowed (Trying)."""
        self._put(key, IN_PROGRESS[0], IN_PROGRESS[1], now)

    def remember(self, key: ServerKey, data: bytes, destination: Destination, now: float) -> None:
        """The final answer, resent as is to retransmissions (Completed)."""
        self._put(key, data, destination, now)

    def lookup(self, key: ServerKey, now: float) -> tuple[bytes, Destination] | None:
        """The answer to resend for a retransmission of ``key``, `IN_PROGRESS`, or None."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry[0] <= now:
            self._prune(now)
            return None
        return IN_PROGRESS if not entry[1] else (entry[1], Destination(*entry[2]))

    def _put(self, key: ServerKey, data: bytes, destination: Destination, now: float) -> None:
        self._prune(now)
        deadline = now + self.lifetime
        self._entries[key] = (deadline, data, (*destination,))
        self._order.append((deadline, key))
        while len(self._entries) > self._limit:
            self._drop(*self._order.popleft())

    def _prune(self, now: float) -> None:
        order = self._order
        while order and order[0][0] <= now:
            self._drop(*order.popleft())

    def _drop(self, deadline: float, key: ServerKey) -> None:
        """Forget ``key`` unless it changed after this deadline was queued."""
        entry = self._entries.get(key)
        if entry is not None and entry[0] == deadline:
            del self._entries[key]
