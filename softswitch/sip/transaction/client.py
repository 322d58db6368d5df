"""Client transactions: INVITE (RFC 3261 17.1.1 with RFC 6026) and non-INVITE (17.1.2).

The request is serialized once in `start`; retransmissions resend the same bytes. The INVITE
machine builds the ACK for a non-2xx final response itself, keeps it as bytes and resends it for
each retransmitted final response. RFC 6026 adds the Accepted state: after a 2xx the
transaction lives on for Timer M so further 2xx (retransmissions, other forks) still reach the
TU, which ACKs them; after that they arrive as `StrayResponse` at the layer.

In Proceeding the RFC sets no timer, so a silent peer would hold the transaction forever; we
bound the wait with Timer C (`TimerSettings.c`, 3 minutes like RFC 3261 16.6) and, once the TU
has cancelled, with 64*T1 (9.1).
"""

from __future__ import annotations

from enum import Enum
from typing import Any

from softswitch.sip.destination import Destination
from softswitch.sip.errors import TransactionError
from softswitch.sip.message import Request, Response
from softswitch.sip.transaction.base import Observer, Transaction
from softswitch.sip.transaction.derive import build_ack
from softswitch.sip.transaction.events import Output, ResponseReceived
from softswitch.sip.transaction.table import Action, MachineEnum, Table, complete_table
from softswitch.sip.transaction.timers import Timers

__all__ = [
    "INVITE_CLIENT_TABLE",
    "NON_INVITE_CLIENT_TABLE",
    "ClientTransaction",
    "InviteClientInput",
    "InviteClientState",
    "InviteClientTransaction",
    "NonInviteClientInput",
    "NonInviteClientState",
    "NonInviteClientTransaction",
]


class ClientTransaction(Transaction):
    """Sends one request and passes the responses that matter up to the TU."""

    __slots__ = ("_interval", "_request_bytes", "request")

    def __init__(
        self,
        transaction_id: int,
        request: Request,
        destination: Destination,
        timers: Timers,
        initial: Enum,
        observer: Observer | None = None,
    ) -> None:
        super().__init__(transaction_id, initial, destination, timers, observer)
        self.request = request
        self._request_bytes = b""
        self._interval = timers.T1

    def start(self, now: float) -> list[Output]:
        """Send the request for the first time and start the timers of the initial state."""
        if self._request_bytes:
            raise TransactionError(f"{self.KIND} transaction {self.id} already started")
        self._request_bytes = self.request.serialize()
        out: list[Output] = []
        self._transmit(self._request_bytes, out)
        self._start_timers(now)
        return out

    def receive_response(self, response: Response, now: float) -> list[Output]:
        """A response matched this transaction (17.1.3)."""
        out: list[Output] = []
        self._step(self._classify(response.status), now, out, response)
        self._fire_due(now, out)
        return out

    def _start_timers(self, now: float) -> None:
        raise NotImplementedError

    def _classify(self, status: int) -> Enum:
        raise NotImplementedError

    def _on_pass_up(self, now: float, out: list[Output], message: Any) -> None:
        out.append(ResponseReceived(self.id, message))


# -- INVITE client ---------------------------------------------------------------------------
class InviteClientState(MachineEnum):
    CALLING = "Calling"
    PROCEEDING = "Proceeding"
    COMPLETED = "Completed"
    ACCEPTED = "Accepted"
    TERMINATED = "Terminated"


class InviteClientInput(MachineEnum):
    PROVISIONAL = "1xx"
    SUCCESS = "2xx"
    FAILURE = "300-699"
    CANCEL = "TU cancels"
    TIMER_A = "Timer A"
    TIMER_B = "Timer B"
    TIMER_C = "Timer C"
    TIMER_D = "Timer D"
    TIMER_M = "Timer M"
    TRANSPORT_ERROR = "transport error"


def _invite_client_table() -> Table:
    S, I, A = InviteClientState, InviteClientInput, Action
    table: dict[tuple[Enum, Enum], tuple[Enum, Action]] = {
        (S.CALLING, I.PROVISIONAL): (S.PROCEEDING, A.PROCEED),
        (S.CALLING, I.SUCCESS): (S.ACCEPTED, A.ACCEPT),
        (S.CALLING, I.FAILURE): (S.COMPLETED, A.COMPLETE),
        (S.CALLING, I.CANCEL): (S.CALLING, A.DEFER_CANCEL),
        (S.CALLING, I.TIMER_A): (S.CALLING, A.RETRANSMIT),
        (S.CALLING, I.TIMER_B): (S.TERMINATED, A.TIMEOUT),
        (S.PROCEEDING, I.PROVISIONAL): (S.PROCEEDING, A.PASS_UP),
        (S.PROCEEDING, I.SUCCESS): (S.ACCEPTED, A.ACCEPT),
        (S.PROCEEDING, I.FAILURE): (S.COMPLETED, A.COMPLETE),
        (S.PROCEEDING, I.CANCEL): (S.PROCEEDING, A.GUARD_CANCEL),
        (S.PROCEEDING, I.TIMER_C): (S.TERMINATED, A.TIMEOUT),
        (S.COMPLETED, I.FAILURE): (S.COMPLETED, A.RESEND),
        (S.COMPLETED, I.TIMER_D): (S.TERMINATED, A.TERMINATE),
        (S.ACCEPTED, I.SUCCESS): (S.ACCEPTED, A.PASS_UP),
        (S.ACCEPTED, I.TIMER_M): (S.TERMINATED, A.TERMINATE),
    }
    # Everything else is absorbed: stale timers, 1xx/3xx-6xx after a final, a CANCEL that
    # comes too late (RFC 3261 9.1: nothing to cancel once a final response arrived).
    return complete_table(
        table, S, I, terminated=S.TERMINATED, transport_error=I.TRANSPORT_ERROR,
    )


INVITE_CLIENT_TABLE = _invite_client_table()


class InviteClientTransaction(ClientTransaction):
    """INVITE client transaction (Figure 5 of RFC 3261 as amended by RFC 6026)."""

    __slots__ = ("_ack_bytes", "cancel_pending")

    KIND = "INVITE client"
    TABLE = INVITE_CLIENT_TABLE
    TERMINATED = InviteClientState.TERMINATED
    TRANSPORT_ERROR = InviteClientInput.TRANSPORT_ERROR

    def __init__(
        self,
        transaction_id: int,
        request: Request,
        destination: Destination,
        timers: Timers,
        observer: Observer | None = None,
    ) -> None:
        super().__init__(
            transaction_id, request, destination, timers, InviteClientState.CALLING, observer
        )
        self._ack_bytes = b""
        # The TU asked to cancel before any provisional response: the layer sends the CANCEL
        # when one arrives (RFC 3261 9.1).
        self.cancel_pending = False

    def cancel(self, now: float) -> list[Output]:
        """Record that the TU cancels (the layer builds and sends the CANCEL itself)."""
        out: list[Output] = []
        self._step(InviteClientInput.CANCEL, now, out, None)
        return out

    def _start_timers(self, now: float) -> None:
        if self.timers.A is not None:
            self._arm(InviteClientInput.TIMER_A, now + self.timers.A)
        self._arm(InviteClientInput.TIMER_B, now + self.timers.B)

    def _classify(self, status: int) -> Enum:
        if status < 200:
            return InviteClientInput.PROVISIONAL
        if status < 300:
            return InviteClientInput.SUCCESS
        return InviteClientInput.FAILURE

    def _on_proceed(self, now: float, out: list[Output], message: Any) -> None:
        self._deadlines.clear()
        self._arm(InviteClientInput.TIMER_C, now + self.timers.C)
        out.append(ResponseReceived(self.id, message))

    def _on_accept(self, now: float, out: list[Output], message: Any) -> None:
        self._deadlines.clear()
        self._arm(InviteClientInput.TIMER_M, now + self.timers.M)
        out.append(ResponseReceived(self.id, message))

    def _on_complete(self, now: float, out: list[Output], message: Any) -> None:
        self._deadlines.clear()
        self._ack_bytes = build_ack(self.request, message).serialize()
        self._transmit(self._ack_bytes, out)
        self._arm(InviteClientInput.TIMER_D, now + self.timers.D)
        out.append(ResponseReceived(self.id, message))

    def _on_resend(self, now: float, out: list[Output], message: Any) -> None:
        self._transmit(self._ack_bytes, out)

    def _on_retransmit(self, now: float, out: list[Output], message: Any) -> None:
        self._transmit(self._request_bytes, out)
        self._interval *= 2
        self._arm(InviteClientInput.TIMER_A, now + self._interval)

    def _on_defer_cancel(self, now: float, out: list[Output], message: Any) -> None:
        self.cancel_pending = True

    def _on_guard_cancel(self, now: float, out: list[Output], message: Any) -> None:
        self.cancel_pending = False
        guard = now + self.timers.cancel_guard
        current = self._deadlines.get(InviteClientInput.TIMER_C)
        if current is None or guard < current:
            self._arm(InviteClientInput.TIMER_C, guard)


# -- non-INVITE client -----------------------------------------------------------------------
class NonInviteClientState(MachineEnum):
    TRYING = "Trying"
    PROCEEDING = "Proceeding"
    COMPLETED = "Completed"
    TERMINATED = "Terminated"


class NonInviteClientInput(MachineEnum):
    PROVISIONAL = "1xx"
    FINAL = "200-699"
    TIMER_E = "Timer E"
    TIMER_F = "Timer F"
    TIMER_K = "Timer K"
    TRANSPORT_ERROR = "transport error"


def _non_invite_client_table() -> Table:
    S, I, A = NonInviteClientState, NonInviteClientInput, Action
    table: dict[tuple[Enum, Enum], tuple[Enum, Action]] = {
        (S.TRYING, I.PROVISIONAL): (S.PROCEEDING, A.PASS_UP),
        (S.TRYING, I.FINAL): (S.COMPLETED, A.COMPLETE),
        (S.TRYING, I.TIMER_E): (S.TRYING, A.RETRANSMIT),
        (S.TRYING, I.TIMER_F): (S.TERMINATED, A.TIMEOUT),
        (S.PROCEEDING, I.PROVISIONAL): (S.PROCEEDING, A.PASS_UP),
        (S.PROCEEDING, I.FINAL): (S.COMPLETED, A.COMPLETE),
        (S.PROCEEDING, I.TIMER_E): (S.PROCEEDING, A.RETRANSMIT),
        (S.PROCEEDING, I.TIMER_F): (S.TERMINATED, A.TIMEOUT),
        (S.COMPLETED, I.TIMER_K): (S.TERMINATED, A.TERMINATE),
    }
    # Response retransmissions in Completed are absorbed (17.1.2.2); stale timers ignored.
    return complete_table(
        table, S, I, terminated=S.TERMINATED, transport_error=I.TRANSPORT_ERROR,
    )


NON_INVITE_CLIENT_TABLE = _non_invite_client_table()


class NonInviteClientTransaction(ClientTransaction):
    """Non-INVITE client transaction (Figure 6 of RFC 3261)."""

    __slots__ = ()

    KIND = "non-INVITE client"
    TABLE = NON_INVITE_CLIENT_TABLE
    TERMINATED = NonInviteClientState.TERMINATED
    TRANSPORT_ERROR = NonInviteClientInput.TRANSPORT_ERROR

    def __init__(
        self,
        transaction_id: int,
        request: Request,
        destination: Destination,
        timers: Timers,
        observer: Observer | None = None,
    ) -> None:
        super().__init__(
            transaction_id, request, destination, timers, NonInviteClientState.TRYING, observer
        )

    def _start_timers(self, now: float) -> None:
        if self.timers.E is not None:
            self._arm(NonInviteClientInput.TIMER_E, now + self.timers.E)
        self._arm(NonInviteClientInput.TIMER_F, now + self.timers.F)

    def _classify(self, status: int) -> Enum:
        return NonInviteClientInput.PROVISIONAL if status < 200 else NonInviteClientInput.FINAL

    def _on_complete(self, now: float, out: list[Output], message: Any) -> None:
        self._deadlines.clear()
        self._arm(NonInviteClientInput.TIMER_K, now + self.timers.K)
        out.append(ResponseReceived(self.id, message))

    def _on_retransmit(self, now: float, out: list[Output], message: Any) -> None:
        self._transmit(self._request_bytes, out)
        # Trying backs off up to T2; Proceeding retransmits every T2 (17.1.2.2).
        if self.state is NonInviteClientState.PROCEEDING:
            self._interval = self.timers.T2
        else:
            self._interval = min(2 * self._interval, self.timers.T2)
        self._arm(NonInviteClientInput.TIMER_E, now + self._interval)
