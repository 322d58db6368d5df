"""The final answers sent statelessly, remembered for their retransmissions (sans-IO).

Why: a request answered without a server transaction (the registrar's 401) would otherwise be
answered anew when the UDP client retransmits it, and a fresh challenge carries a fresh nonce.
RFC 3261 8.2.7 allows that, but a client that already took the first 401 sees a second,
different one as an unexpected message (SIPp aborts the registration). Remembering the bytes
keeps retransmissions byte-identical, as a transaction would, at the cost of a dict entry:
no transaction object, no timer heap entry, no Timer J wake-up; expiry is pruned as new
answers come in. Retransmissions are then matched from their raw bytes, unparsed.
"""

from __future__ import annotations

from collections import deque

from softswitch.sip.destination import Destination
from softswitch.sip.transaction.keys import ServerKey

__all__ = ["StatelessAnswers"]


class StatelessAnswers:
    """``remember(key, data, destination, now)`` for ``lifetime`` seconds, at most ``limit``."""

    def __init__(self, lifetime: float, limit: int = 200_000) -> None:
        if lifetime <= 0 or limit < 1:
            raise ValueError("lifetime and limit must be positive")
        self.lifetime = lifetime
        self._limit = limit
        self._answers: dict[ServerKey, tuple[bytes, Destination]] = {}
        self._order: deque[tuple[float, ServerKey]] = deque()

    def __len__(self) -> int:
        return len(self._answers)

    def remember(self, key: ServerKey, data: bytes, destination: Destination, now: float) -> None:
        self._prune(now)
        if key not in self._answers:
            self._order.append((now + self.lifetime, key))
        self._answers[key] = (data, destination)
        while len(self._answers) > self._limit:
            self._answers.pop(self._order.popleft()[1], None)

    def lookup(self, key: ServerKey, now: float) -> tuple[bytes, Destination] | None:
        """The answer to resend for a retransmission of ``key``, or None."""
        answer = self._answers.get(key)
        if answer is not None and self._order[0][0] <= now:
            self._prune(now)
            answer = self._answers.get(key)
        return answer

    def _prune(self, now: float) -> None:
        order = self._order
        while order and order[0][0] <= now:
            self._answers.pop(order.popleft()[1], None)
