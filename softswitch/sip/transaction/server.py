"""Server transactions: INVITE (RFC 3261 17.2.1 with RFC 6026) and non-INVITE (17.2.2).

Every response the TU sends is serialized once and kept as bytes, so a retransmitted request is
answered by resending those bytes. The INVITE machine sends `100 Trying` itself when the TU has
not answered within 200 ms (17.2.1), retransmits a non-2xx final on Timer G until the ACK comes
and gives up on Timer H. After a 2xx it enters RFC 6026's Accepted state: INVITE
retransmissions are absorbed (the TU retransmits its 2xx itself) and ACKs are passed to the TU
until Timer L.
"""

from __future__ import annotations

from enum import Enum
from typing import Any

from softswitch.sip.builders import make_response
from softswitch.sip.destination import Destination
from softswitch.sip.message import Request, Response
from softswitch.sip.transaction.base import Observer, Transaction
from softswitch.sip.transaction.events import AckReceived, Output
from softswitch.sip.transaction.table import Action, MachineEnum, Table, complete_table
from softswitch.sip.transaction.timers import Timers

__all__ = [
    "INVITE_SERVER_TABLE",
    "NON_INVITE_SERVER_TABLE",
    "InviteServerInput",
    "InviteServerState",
    "InviteServerTransaction",
    "NonInviteServerInput",
    "NonInviteServerState",
    "NonInviteServerTransaction",
    "ServerTransaction",
]


class ServerTransaction(Transaction):
    """Receives one request (and its retransmissions) and carries the TU's responses.

    It keeps only the bytes of its last response, not the request: a busy switch holds tens of
    thousands of server transactions waiting out Timer J, and the TU has the request anyway.
    """

    __slots__ = ("_last",)

    REQUEST: Enum

    def __init__(
        self,
        transaction_id: int,
        destination: Destination,
        timers: Timers,
        initial: Enum,
        observer: Observer | None = None,
    ) -> None:
        super().__init__(transaction_id, initial, destination, timers, observer)
        self._last = b""  # the last response sent, for retransmission

    def receive_request(self, request: Request | None, now: float) -> list[Output]:
        """A retransmission of the request matched this transaction (17.2.3).

        The request itself is not needed (the answer is the last response, kept as bytes),
        so the layer may pass None for one it matched without parsing.
        """
        out: list[Output] = []
        self._step(self.REQUEST, now, out, request)
        self._fire_due(now, out)
        return out

    def send_response(self, response: Response, now: float) -> list[Output]:
        """The TU answers. Raises TransactionError when the state allows no such response."""
        out: list[Output] = []
        self._step(self._classify(response.status), now, out, response)
        self._fire_due(now, out)
        return out

    def _classify(self, status: int) -> Enum:
        raise NotImplementedError

    def _on_resend(self, now: float, out: list[Output], message: Any) -> None:
        if self._last:
            self._transmit(self._last, out)

    def _on_send(self, now: float, out: list[Output], message: Any) -> None:
        self._last = message.serialize()
        self._transmit(self._last, out)


# -- INVITE server ---------------------------------------------------------------------------
class InviteServerState(MachineEnum):
    PROCEEDING = "Proceeding"
    COMPLETED = "Completed"
    CONFIRMED = "Confirmed"
    ACCEPTED = "Accepted"
    TERMINATED = "Terminated"


class InviteServerInput(MachineEnum):
    REQUEST = "INVITE retransmission"
    ACK = "ACK"
    SEND_PROVISIONAL = "TU 1xx"
    SEND_SUCCESS = "TU 2xx"
    SEND_FAILURE = "TU 300-699"
    TIMER_TRYING = "200 ms without a TU answer"
    TIMER_G = "Timer G"
    TIMER_H = "Timer H"
    TIMER_I = "Timer I"
    TIMER_L = "Timer L"
    TRANSPORT_ERROR = "transport error"


_TU_INVITE_RESPONSES = (
    InviteServerInput.SEND_PROVISIONAL,
    InviteServerInput.SEND_SUCCESS,
    InviteServerInput.SEND_FAILURE,
)


def _invite_server_table() -> Table:
    S, I, A = InviteServerState, InviteServerInput, Action
    table: dict[tuple[Enum, Enum], tuple[Enum, Action]] = {
        (S.PROCEEDING, I.REQUEST): (S.PROCEEDING, A.RESEND),
        (S.PROCEEDING, I.SEND_PROVISIONAL): (S.PROCEEDING, A.SEND),
        (S.PROCEEDING, I.SEND_SUCCESS): (S.ACCEPTED, A.ACCEPT),
        (S.PROCEEDING, I.SEND_FAILURE): (S.COMPLETED, A.COMPLETE),
        (S.PROCEEDING, I.TIMER_TRYING): (S.PROCEEDING, A.SEND_TRYING),
        (S.COMPLETED, I.REQUEST): (S.COMPLETED, A.RESEND),
        (S.COMPLETED, I.ACK): (S.CONFIRMED, A.CONFIRM),
        (S.COMPLETED, I.TIMER_G): (S.COMPLETED, A.RETRANSMIT),
        (S.COMPLETED, I.TIMER_H): (S.TERMINATED, A.TIMEOUT),
        (S.CONFIRMED, I.TIMER_I): (S.TERMINATED, A.TERMINATE),
        (S.ACCEPTED, I.ACK): (S.ACCEPTED, A.PASS_ACK),
        (S.ACCEPTED, I.SEND_SUCCESS): (S.ACCEPTED, A.SEND),
        (S.ACCEPTED, I.TIMER_L): (S.TERMINATED, A.TERMINATE),
    }
    # Absorbed: INVITE retransmissions in Confirmed/Accepted (RFC 6026 8.5), ACK
    # retransmissions in Confirmed, a stray ACK in Proceeding, stale timers.
    return complete_table(
        table, S, I, terminated=S.TERMINATED, transport_error=I.TRANSPORT_ERROR,
        tu_calls=_TU_INVITE_RESPONSES,
    )


INVITE_SERVER_TABLE = _invite_server_table()


class InviteServerTransaction(ServerTransaction):
    """INVITE server transaction (Figure 7 of RFC 3261 as amended by RFC 6026)."""

    __slots__ = ("_interval", "_unanswered", "response_to_tag")

    KIND = "INVITE server"
    TABLE = INVITE_SERVER_TABLE
    TERMINATED = InviteServerState.TERMINATED
    TRANSPORT_ERROR = InviteServerInput.TRANSPORT_ERROR
    REQUEST = InviteServerInput.REQUEST

    def __init__(
        self,
        transaction_id: int,
        request: Request,
        destination: Destination,
        timers: Timers,
        now: float,
        observer: Observer | None = None,
    ) -> None:
        super().__init__(
            transaction_id, destination, timers, InviteServerState.PROCEEDING, observer
        )
        self._interval = timers.T1
        # Kept only until the first response, to build 100 Trying from it (17.2.1).
        self._unanswered: Request | None = request
        # To tag of our final response: an RFC 2543 ACK matches on it (17.2.3).
        self.response_to_tag: str | None = None
        self._arm(InviteServerInput.TIMER_TRYING, now + timers.trying)

    def receive_ack(self, request: Request, now: float) -> list[Output]:
        """An ACK matched this transaction: it confirms a non-2xx or goes to the TU after 2xx."""
        out: list[Output] = []
        self._step(InviteServerInput.ACK, now, out, request)
        self._fire_due(now, out)
        return out

    def _classify(self, status: int) -> Enum:
        if status < 200:
            return InviteServerInput.SEND_PROVISIONAL
        if status < 300:
            return InviteServerInput.SEND_SUCCESS
        return InviteServerInput.SEND_FAILURE

    def _on_send(self, now: float, out: list[Output], message: Any) -> None:
        self._deadlines.pop(InviteServerInput.TIMER_TRYING, None)
        self._unanswered = None
        super()._on_send(now, out, message)

    def _on_send_trying(self, now: float, out: list[Output], message: Any) -> None:
        if self._unanswered is not None:
            self._last = make_response(self._unanswered, 100).serialize()
            self._unanswered = None
            self._transmit(self._last, out)

    def _on_accept(self, now: float, out: list[Output], message: Any) -> None:
        self._deadlines.clear()
        self._final(message, out)
        self._arm(InviteServerInput.TIMER_L, now + self.timers.L)

    def _on_complete(self, now: float, out: list[Output], message: Any) -> None:
        self._deadlines.clear()
        self._final(message, out)
        if self.timers.G is not None:
            self._arm(InviteServerInput.TIMER_G, now + self.timers.G)
        self._arm(InviteServerInput.TIMER_H, now + self.timers.H)

    def _final(self, response: Response, out: list[Output]) -> None:
        self._unanswered = None
        self._last = response.serialize()
        self.response_to_tag = response.to.tag
        self._transmit(self._last, out)

    def _on_retransmit(self, now: float, out: list[Output], message: Any) -> None:
        self._transmit(self._last, out)
        self._interval = min(2 * self._interval, self.timers.T2)
        self._arm(InviteServerInput.TIMER_G, now + self._interval)

    def _on_confirm(self, now: float, out: list[Output], message: Any) -> None:
        self._deadlines.clear()
        self._arm(InviteServerInput.TIMER_I, now + self.timers.I)

    def _on_pass_ack(self, now: float, out: list[Output], message: Any) -> None:
        out.append(AckReceived(self.id, message))


# -- non-INVITE server -----------------------------------------------------------------------
class NonInviteServerState(MachineEnum):
    TRYING = "Trying"
    PROCEEDING = "Proceeding"
    COMPLETED = "Completed"
    TERMINATED = "Terminated"


class NonInviteServerInput(MachineEnum):
    REQUEST = "request retransmission"
    SEND_PROVISIONAL = "TU 1xx"
    SEND_FINAL = "TU 200-699"
    TIMER_J = "Timer J"
    TRANSPORT_ERROR = "transport error"


def _non_invite_server_table() -> Table:
    S, I, A = NonInviteServerState, NonInviteServerInput, Action
    table: dict[tuple[Enum, Enum], tuple[Enum, Action]] = {
        (S.TRYING, I.SEND_PROVISIONAL): (S.PROCEEDING, A.SEND),
        (S.TRYING, I.SEND_FINAL): (S.COMPLETED, A.COMPLETE),
        (S.PROCEEDING, I.REQUEST): (S.PROCEEDING, A.RESEND),
        (S.PROCEEDING, I.SEND_PROVISIONAL): (S.PROCEEDING, A.SEND),
        (S.PROCEEDING, I.SEND_FINAL): (S.COMPLETED, A.COMPLETE),
        (S.COMPLETED, I.REQUEST): (S.COMPLETED, A.RESEND),
        (S.COMPLETED, I.TIMER_J): (S.TERMINATED, A.TERMINATE),
    }
    # Absorbed: retransmissions in Trying (17.2.2: discarded), stale timers.
    return complete_table(
        table, S, I, terminated=S.TERMINATED, transport_error=I.TRANSPORT_ERROR,
        tu_calls=(I.SEND_PROVISIONAL, I.SEND_FINAL),
    )


NON_INVITE_SERVER_TABLE = _non_invite_server_table()


class NonInviteServerTransaction(ServerTransaction):
    """Non-INVITE server transaction (Figure 8 of RFC 3261)."""

    __slots__ = ()

    KIND = "non-INVITE server"
    TABLE = NON_INVITE_SERVER_TABLE
    TERMINATED = NonInviteServerState.TERMINATED
    TRANSPORT_ERROR = NonInviteServerInput.TRANSPORT_ERROR
    REQUEST = NonInviteServerInput.REQUEST

    def __init__(
        self,
        transaction_id: int,
        destination: Destination,
        timers: Timers,
        observer: Observer | None = None,
    ) -> None:
        super().__init__(transaction_id, destination, timers, NonInviteServerState.TRYING, observer)

    def _classify(self, status: int) -> Enum:
        if status < 200:
            return NonInviteServerInput.SEND_PROVISIONAL
        return NonInviteServerInput.SEND_FINAL

    def _on_complete(self, now: float, out: list[Output], message: Any) -> None:
        self._on_send(now, out, message)
        self._arm(NonInviteServerInput.TIMER_J, now + self.timers.J)
