"""What a call is, apart from SIP: its record, the outcome of its legs, and the status mapping.

The B2BUA relays call-control outcomes between two legs (sippy's idea): a leg is tried, rings,
is answered or ends with a cause. The pieces that decide *what* the caller hears and *what*
the call record says live here as pure functions, so queues, IVR and conferences (later
issues) reuse them and tests check them without sockets.
"""

from __future__ import annotations

from collections.abc import Iterable

from softswitch.store.cdr import CallRecord, Disposition, HangupSide

__all__ = [
    "CallRecord",
    "Disposition",
    "HangupSide",
    "best_failure",
    "disposition_for",
]


# RFC 3261 16.7 step 6 lets a forking element pick the "best" final response; for a caller a
# busy signal says more than "unavailable", which says more than "not found" or a timeout.
_PREFERENCE = (600, 603, 486, 480, 404, 408)


def best_failure(statuses: Iterable[int]) -> int:
    """The status to answer the caller when every fork failed (480 when there was none)."""
    seen = [s for s in statuses if s >= 300]
    if not seen:
        return 480
    for wanted in _PREFERENCE:
        if wanted in seen:
            return wanted
    six = [s for s in seen if s >= 600]
    if six:
        return six[0]
    four = [s for s in seen if 400 <= s < 500 and s != 487]
    if four:
        return min(four)
    return 503 if any(s >= 500 for s in seen) else 480


def disposition_for(status: int, *, cancelled: bool = False) -> Disposition:
    """The CDR disposition of a call that was not answered, from the caller's final status."""
    if cancelled:
        return Disposition.CANCELLED
    if status in (486, 600, 603):
        return Disposition.BUSY
    if status in (408, 480, 487):
        return Disposition.NO_ANSWER
    return Disposition.FAILED
