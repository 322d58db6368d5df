"""RFC 3262 reliable provisional responses (100rel/PRACK), both roles, as pure bookkeeping.

UAS side (`ReliableProvisionals`, for a caller whose INVITE says `Require: 100rel`): a 18x
carries `Require: 100rel` and `RSeq` (section 3, a random start below 2**31, then +1); it is
retransmitted at T1, 2*T1, ... until a PRACK whose `RAck` names it arrives, and given up after
64*T1 (the caller then gets a 5xx, section 3). Only one may be unacknowledged at a time; a
PRACK that matches nothing gets 481.

UAC side (`prack_for`): a 18x that requires 100rel is acknowledged with a PRACK carrying
`RAck: <RSeq> <CSeq number> <method>` (section 7.2); retransmissions and out-of-order ones
(an RSeq not one above the last) get none (section 4).

When the caller only *supports* 100rel the switch answers it unreliably, as the RFC allows.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from softswitch.sip.errors import RemoteProtocolError
from softswitch.sip.grammar import is_digits
from softswitch.sip.message import Request, Response

__all__ = ["ReliableProvisionals", "RackMismatch", "prack_for", "requires_100rel"]


def _tokens(message: Request | Response, name: str) -> set[str]:
    return {t.strip().lower() for t in message.headers.get_list(name)}


def requires_100rel(message: Request | Response) -> bool:
    return "100rel" in _tokens(message, "require")


class RackMismatch(RemoteProtocolError):
    """A PRACK that acknowledges no unacknowledged reliable response: answer 481."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason, 481)


def _rack(request: Request) -> tuple[int, int, str]:
    parts = (request.headers.get("rack") or "").split()
    if len(parts) != 3 or not is_digits(parts[0]) or not is_digits(parts[1]):
        raise RemoteProtocolError("PRACK without a valid RAck header", 400)
    return int(parts[0]), int(parts[1]), parts[2].upper()


@dataclass(slots=True)
class _Pending:
    rseq: int
    response: Response
    resend_at: float
    interval: float
    give_up_at: float


class ReliableProvisionals:
    """Our reliable 18x to one INVITE: RSeq numbering, retransmission, PRACK matching."""

    def __init__(self, invite: Request, t1: float = 0.5) -> None:
        self.invite_cseq = invite.cseq.number
        self.t1 = t1
        self._next_rseq = secrets.randbelow(2**31 - 1) + 1
        self._pending: _Pending | None = None

    @property
    def busy(self) -> bool:
        """An earlier reliable 18x is not acknowledged yet: no second one may be sent."""
        return self._pending is not None

    def headers(self) -> list[tuple[str, str]]:
        """Require + RSeq for the next reliable 18x (call `sent` with the response after)."""
        return [("Require", "100rel"), ("RSeq", str(self._next_rseq))]

    def sent(self, response: Response, now: float) -> None:
        self._pending = _Pending(self._next_rseq, response, now + self.t1, self.t1,
                                 now + 64 * self.t1)
        self._next_rseq += 1

    def prack(self, request: Request) -> None:
        """Match a PRACK; raises RackMismatch (481) or RemoteProtocolError (400)."""
        rseq, cseq, method = _rack(request)
        pending = self._pending
        if pending is None or (rseq, cseq, method) != (pending.rseq, self.invite_cseq, "INVITE"):
            raise RackMismatch("PRACK matches no unacknowledged reliable response")
        self._pending = None

    def final_sent(self) -> None:
        """A final response ends the retransmissions (section 3)."""
        self._pending = None

    def next_deadline(self) -> float | None:
        pending = self._pending
        return None if pending is None else min(pending.resend_at, pending.give_up_at)

    def due(self, now: float) -> Response | None:
        """The 18x to send again at ``now``, if any; raises TimeoutError after 64*T1."""
        pending = self._pending
        if pending is None:
            return None
        if now >= pending.give_up_at:
            self._pending = None
            raise TimeoutError("reliable provisional response never acknowledged")
        if now < pending.resend_at:
            return None
        pending.interval *= 2
        pending.resend_at = now + pending.interval
        return pending.response


def prack_for(response: Response, last_rseq: int | None) -> tuple[int, str] | None:
    """(RSeq, RAck value) to PRACK a reliable 18x with, or None: not reliable, a
    retransmission, out of order or malformed (all of which get no PRACK)."""
    if not 100 < response.status < 200 or not requires_100rel(response):
        return None
    text = (response.headers.get("rseq") or "").strip()
    if not is_digits(text) or len(text) > 10:
        return None
    rseq = int(text)
    if last_rseq is not None and rseq != last_rseq + 1:
        return None
    cseq = response.cseq
    return rseq, f"{rseq} {cseq.number} {cseq.method}"
