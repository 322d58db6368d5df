"""Dead media detection: a phone that should send RTP and has sent nothing for a while.

A phone that crashed, lost its network or was unplugged never sends BYE; its peer would sit
in silence until the maximum call duration. The B2BUA samples each leg's received-packet
counter and ends the call once one leg's counter has not moved for ``timeout`` seconds. A
leg the peer is not expected to send on (we asked it to be sendonly/inactive: hold) is
excused while that lasts. Pure: counters and ``now`` come in as arguments.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["RtpWatch"]


class RtpWatch:
    """Tracks when each leg's received-packet counter last moved."""

    def __init__(self, timeout: float, legs: int, now: float) -> None:
        if timeout <= 0:
            raise ValueError("an RTP timeout must be above 0")
        self.timeout = timeout
        self._counts: list[int | None] = [0] * legs  # nothing received before the start
        self._moved: list[float] = [now] * legs

    @property
    def interval(self) -> float:
        """How often to sample: a quarter of the timeout, so it fires at most 25% late."""
        return self.timeout / 4

    def observe(self, counts: Sequence[int | None], now: float) -> int | None:
        """Sample the counters (None: that leg is not expected to send right now).

        Returns the index of a leg silent for ``timeout`` seconds, or None."""
        if len(counts) != len(self._counts):
            raise ValueError(f"expected {len(self._counts)} counters, got {len(counts)}")
        for i, count in enumerate(counts):
            if count is None or count != self._counts[i]:
                self._moved[i] = now
            self._counts[i] = count
        for i, moved in enumerate(self._moved):
            if now - moved >= self.timeout:
                return i
        return None
