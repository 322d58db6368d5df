"""Brute-force and scanner defence for the SIP door: pure, bounded, driven by ``now``.

Why: svcrack-style tools try thousands of passwords per minute. Counting authentication
failures per source address in a sliding window and then refusing that source outright — even
with a correct password, so a lucky guess is worthless — stops them, while phones at other
addresses keep working. Memory is bounded because attackers control how many source addresses
we see (spoofed UDP): the least recently active trackers are dropped first, blocks last.
"""

from __future__ import annotations

import ipaddress
from collections import OrderedDict, deque
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = [
    "DEFAULT_SCANNER_AGENTS",
    "BruteForceGuard",
    "ScannerFilter",
    "SourceBlocked",
    "source_key",
]

DEFAULT_SCANNER_AGENTS: tuple[str, ...] = (
    "friendly-scanner",
    "sipvicious",
    "sipcli",
    "sip-scan",
    "vaxsipuseragent",
    "sundayddr",
    "iwar",
    "pplsip",
    "smap",
    "sipptk",
)


def source_key(host: str, ipv6_prefix: int = 64) -> str:
    """The unit we count failures for: an IPv4 address, or an IPv6 /64 by default.

    One IPv6 host usually owns a whole /64, so counting single addresses would let it rotate
    through 2**64 of them. Anything that is not an IP literal is used as given.
    """
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return host
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network(f"{address}/{ipv6_prefix}", strict=False))
    return str(address)


@dataclass(frozen=True, slots=True)
class SourceBlocked:
    """A source crossed the failure threshold; the caller logs it as a security event."""

    source: str
    failures: int
    until: float


class BruteForceGuard:
    """Failures per source in a sliding window -> block that source for ``block_for`` seconds."""

    def __init__(
        self,
        *,
        max_failures: int = 10,
        window: float = 60.0,
        block_for: float = 900.0,
        max_sources: int = 100_000,
    ) -> None:
        if max_failures < 1 or window <= 0 or block_for <= 0 or max_sources < 1:
            raise ValueError("guard limits must be positive")
        self.max_failures = max_failures
        self.window = window
        self.block_for = block_for
        self._max_sources = max_sources
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()
        self._blocked: OrderedDict[str, float] = OrderedDict()

    @property
    def tracked_sources(self) -> int:
        """How many sources are remembered (for metrics and the bounded-memory test)."""
        return len(self._failures) + len(self._blocked)

    def is_blocked(self, source: str, now: float) -> bool:
        """True while ``source`` serves its block: drop or 403 its requests before any auth."""
        until = self._blocked.get(source)
        if until is None:
            return False
        if now < until:
            return True
        del self._blocked[source]
        return False

    def blocked_until(self, source: str, now: float) -> float | None:
        """End of the current block, for the API and the security log."""
        return self._blocked[source] if self.is_blocked(source, now) else None

    def record_failure(self, source: str, now: float) -> SourceBlocked | None:
        """Count one wrong answer; returns the block event when this one crosses the limit."""
        if self.is_blocked(source, now):
            return None
        times = self._failures.pop(source, None) or deque(maxlen=self.max_failures)
        while times and times[0] <= now - self.window:
            times.popleft()
        times.append(now)
        if len(times) >= self.max_failures:
            return self._block(source, len(times), now)
        self._failures[source] = times
        self._evict(now)
        return None

    def unblock(self, source: str) -> bool:
        """Lift a block by hand (an administrator who locked out a ward's NAT address)."""
        self._failures.pop(source, None)
        return self._blocked.pop(source, None) is not None

    def _block(self, source: str, failures: int, now: float) -> SourceBlocked:
        until = now + self.block_for
        self._blocked[source] = until
        self._evict(now)
        return SourceBlocked(source=source, failures=failures, until=until)

    def _evict(self, now: float) -> None:
        """Keep at most ``max_sources`` entries: expired blocks, then oldest trackers, go first."""
        while self._blocked and next(iter(self._blocked.values())) <= now:
            self._blocked.popitem(last=False)
        while self.tracked_sources > self._max_sources and self._failures:
            self._failures.popitem(last=False)
        while len(self._blocked) > self._max_sources:
            self._blocked.popitem(last=False)


class ScannerFilter:
    """Recognises known attack tools by User-Agent (case-insensitive substring match).

    A determined attacker changes the header, so this only sheds noise cheaply; the
    brute-force guard remains the real defence.
    """

    def __init__(self, agents: Iterable[str] = DEFAULT_SCANNER_AGENTS) -> None:
        self.agents = tuple(agent.lower() for agent in agents if agent.strip())

    def is_scanner(self, user_agent: str | None) -> bool:
        """True when the User-Agent (or Server) header names a known scanner."""
        if not user_agent:
            return False
        lowered = user_agent.lower()
        return any(agent in lowered for agent in self.agents)
