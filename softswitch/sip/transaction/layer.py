"""The transaction layer: owns every transaction, routes messages to them, runs their timers.

Sans-IO like the transactions it holds: the transport adapter feeds parsed messages and the
time, and sends the `Transmit` outputs; the core (TU) reads the other outputs. Timers are kept
in one heap of (deadline, id) with lazy deletion: a transaction whose deadline moves gets a new
entry and the old one is skipped when it surfaces, so `next_deadline` and `handle_timers` stay
O(log n) with tens of thousands of transactions alive.
"""

from __future__ import annotations

import heapq
from itertools import count
from typing import Any

from softswitch.sip.destination import Destination
from softswitch.sip.errors import LocalProtocolError, RemoteProtocolError, TransactionError
from softswitch.sip.inbound import response_destination
from softswitch.sip.message import Request, Response
from softswitch.sip.transaction.base import Observer, Transaction
from softswitch.sip.transaction.client import (
    ClientTransaction,
    InviteClientState,
    InviteClientTransaction,
    NonInviteClientTransaction,
)
from softswitch.sip.transaction.derive import build_cancel
from softswitch.sip.transaction.events import (
    Output,
    RequestReceived,
    StrayAck,
    StrayResponse,
)
from softswitch.sip.transaction.keys import (
    ClientKey,
    ServerKey,
    is_rfc3261_branch,
    rfc2543_key,
    server_key,
)
from softswitch.sip.transaction.server import (
    InviteServerTransaction,
    NonInviteServerTransaction,
    ServerTransaction,
)
from softswitch.sip.transaction.timers import TimerSettings
from softswitch.sip.values import Via

__all__ = ["TransactionLayer"]

# Rebuild the heap when stale entries outnumber live ones by this factor (plus a floor).
_HEAP_SLACK = 2
_HEAP_FLOOR = 256


class TransactionLayer:
    """All client and server transactions of one switch (RFC 3261 section 17)."""

    def __init__(
        self, settings: TimerSettings | None = None, *, observer: Observer | None = None
    ) -> None:
        self.settings = settings if settings is not None else TimerSettings()
        self._reliable = self.settings.derive(reliable=True)
        self._unreliable = self.settings.derive(reliable=False)
        self._observer = observer
        self._ids = count(1)
        self._transactions: dict[int, Transaction] = {}
        self._clients: dict[ClientKey, ClientTransaction] = {}
        self._servers: dict[ServerKey, ServerTransaction] = {}
        # id -> (the index that holds it, its key there), to unlink it when it terminates
        self._index_of: dict[int, tuple[dict[Any, Any], ClientKey | ServerKey]] = {}
        self._heap: list[tuple[float, int, Transaction]] = []
        self._scheduled: dict[int, float] = {}

    def __len__(self) -> int:
        return len(self._transactions)

    def get(self, transaction_id: int) -> Transaction | None:
        """The live transaction with this id, or None once it has terminated."""
        return self._transactions.get(transaction_id)

    # -- from the network ---------------------------------------------------------------------
    def receive_request(
        self, request: Request, source: Destination, now: float, *, via: Via | None = None
    ) -> list[Output]:
        """Route a validated request: absorb retransmissions, or open a server transaction.

        `via` is the request's top Via when the caller has parsed it already (the inbound
        filter has: `stamp_received` returns it), which saves parsing it again.
        Raises RemoteProtocolError when the top Via (or, for RFC 2543 peers, From/To/CSeq)
        cannot be parsed; `check_request` has normally refused such requests already.
        """
        method = request.method
        if via is None:
            via = request.top_via
        if method == "ACK":
            return self._receive_ack(request, via, source, now)
        key = server_key(request, via, method)
        existing = self._servers.get(key)
        if existing is not None:
            out = existing.receive_request(request, now)
            self._settle(existing)
            return out
        timers = self._reliable if source.reliable else self._unreliable
        transaction_id = next(self._ids)
        destination = response_destination(via, source)
        transaction: ServerTransaction
        if method == "INVITE":
            transaction = InviteServerTransaction(
                transaction_id, request, destination, timers, now, self._observer
            )
        else:
            transaction = NonInviteServerTransaction(
                transaction_id, destination, timers, self._observer
            )
        self._register(transaction, self._servers, key)
        self._settle(transaction)
        return [RequestReceived(transaction_id, request, source)]

    def absorb_retransmission(self, key: ServerKey, now: float) -> list[Output] | None:
        """Answer a retransmitted request from its server transaction, or None if unknown.

        `key` comes from `inbound.retransmission_key`, read off the raw bytes: a request that
        matches a live server transaction costs a dict lookup instead of a parse (the cheap
        half of overload control, RFC 3261 17.2.3 matching). None means "parse it".
        """
        existing = self._servers.get(key)
        if existing is None:
            return None
        out = existing.receive_request(None, now)
        self._settle(existing)
        return out

    def receive_response(
        self, response: Response, now: float, *, via: Via | None = None
    ) -> list[Output]:
        """Route a response to its client transaction (17.1.3); unmatched ones go up as stray.

        `via` is the top Via if the caller parsed it already. A response whose Via or CSeq
        cannot be parsed matches nothing and is dropped.
        """
        try:
            branch = (via if via is not None else response.top_via).params.get("branch")
            method = response.cseq.method
        except RemoteProtocolError:
            return []
        transaction = self._clients.get((branch, method)) if branch else None
        if transaction is None:
            return [StrayResponse(response)]
        out = transaction.receive_response(response, now)
        if (
            isinstance(transaction, InviteClientTransaction)
            and transaction.cancel_pending
            and transaction.state is InviteClientState.PROCEEDING
        ):
            self._send_cancel(transaction, now, out)
        self._settle(transaction)
        return out

    def transport_error(self, transaction_id: int, now: float) -> list[Output]:
        """The adapter could not send a `Transmit` of this transaction (17.1.4, 17.2.4)."""
        transaction = self._transactions.get(transaction_id)
        if transaction is None:
            return []
        out = transaction.transport_error(now)
        self._settle(transaction)
        return out

    # -- from the TU --------------------------------------------------------------------------
    def send_request(
        self, request: Request, destination: Destination, now: float
    ) -> tuple[int, list[Output]]:
        """Open a client transaction for `request` and send it to `destination`.

        The request needs a top Via whose branch starts with the magic cookie (use
        `new_branch()`); ACK has no client transaction (RFC 3261 17.1) and is refused.
        """
        method = request.method
        if method == "ACK":
            raise TransactionError("ACK is sent without a transaction (RFC 3261 17.1)")
        try:
            branch = request.top_via.params.get("branch")
            cseq_method = request.cseq.method
        except RemoteProtocolError as exc:
            raise LocalProtocolError(f"Cannot send {method}: {exc.reason}") from None
        if branch is None or not is_rfc3261_branch(branch):
            raise LocalProtocolError(f"{method} needs a top Via branch starting with z9hG4bK")
        if cseq_method != method:
            raise LocalProtocolError(f"CSeq method {cseq_method} does not match {method}")
        key = (branch, method)
        if key in self._clients:
            raise TransactionError(f"A {method} client transaction with branch {branch} exists")
        transaction_id = next(self._ids)
        timers = self._reliable if destination.reliable else self._unreliable
        transaction: ClientTransaction
        if method == "INVITE":
            transaction = InviteClientTransaction(
                transaction_id, request, destination, timers, self._observer
            )
        else:
            transaction = NonInviteClientTransaction(
                transaction_id, request, destination, timers, self._observer
            )
        self._register(transaction, self._clients, key)
        out = transaction.start(now)
        self._settle(transaction)
        return transaction_id, out

    def send_response(self, transaction_id: int, response: Response, now: float) -> list[Output]:
        """Send the TU's response through its server transaction."""
        transaction = self._transactions.get(transaction_id)
        if not isinstance(transaction, ServerTransaction):
            raise TransactionError(f"No server transaction {transaction_id}")
        out = transaction.send_response(response, now)
        self._settle(transaction)
        return out

    def cancel(self, transaction_id: int, now: float) -> tuple[int | None, list[Output]]:
        """Cancel a pending INVITE client transaction (RFC 3261 9.1).

        Returns the id of the CANCEL's own client transaction and its outputs. Before any
        provisional response the CANCEL must wait: it is sent when the first one arrives and
        the id returned is None. After a final response there is nothing to cancel (None, []).
        Cancelling twice returns the CANCEL already running.
        """
        transaction = self._transactions.get(transaction_id)
        if not isinstance(transaction, InviteClientTransaction):
            raise TransactionError(f"No INVITE client transaction {transaction_id}")
        out: list[Output] = []
        cancel_id: int | None = None
        if transaction.state is InviteClientState.PROCEEDING:
            cancel_id = self._send_cancel(transaction, now, out)
        else:
            out.extend(transaction.cancel(now))
        self._settle(transaction)
        return cancel_id, out

    def find_cancelled(self, cancel: Request) -> int | None:
        """The INVITE server transaction a received CANCEL targets (9.2), or None (then 481)."""
        found = self._servers.get(server_key(cancel, cancel.top_via, "INVITE"))
        return found.id if isinstance(found, InviteServerTransaction) else None

    # -- time ---------------------------------------------------------------------------------
    def next_deadline(self) -> float | None:
        """The earliest deadline of any transaction, or None when no timer runs."""
        heap = self._heap
        scheduled = self._scheduled
        while heap:
            deadline, transaction_id, _ = heap[0]
            if scheduled.get(transaction_id) == deadline:
                return deadline
            heapq.heappop(heap)
        return None

    def handle_timers(self, now: float) -> list[Output]:
        """Fire every timer due at `now`; terminated transactions are forgotten."""
        out: list[Output] = []
        heap = self._heap
        scheduled = self._scheduled
        while heap and heap[0][0] <= now:
            deadline, transaction_id, transaction = heapq.heappop(heap)
            if scheduled.get(transaction_id) != deadline:
                continue  # stale entry: the deadline moved or the transaction is gone
            del scheduled[transaction_id]
            out.extend(transaction.handle_timer(now))
            self._settle(transaction)
        return out

    # -- bookkeeping --------------------------------------------------------------------------
    def _receive_ack(
        self, request: Request, via: Via, source: Destination, now: float
    ) -> list[Output]:
        key = server_key(request, via, "INVITE")
        found = self._servers.get(key)
        if found is None and key[0] == "rfc2543":
            # An RFC 2543 ACK carries the To tag of our response, the INVITE had none.
            candidate = self._servers.get(rfc2543_key(request, via, "INVITE", None))
            if (
                isinstance(candidate, InviteServerTransaction)
                and candidate.response_to_tag is not None
                and candidate.response_to_tag == key[2]
            ):
                found = candidate
        if not isinstance(found, InviteServerTransaction):
            return [StrayAck(request, source)]
        out = found.receive_ack(request, now)
        self._settle(found)
        return out

    def _send_cancel(self, invite: InviteClientTransaction, now: float, out: list[Output]) -> int:
        branch = invite.request.top_via.params.get("branch") or ""
        running = self._clients.get((branch, "CANCEL"))
        if running is not None:
            return running.id
        out.extend(invite.cancel(now))
        cancel_id, cancel_out = self.send_request(
            build_cancel(invite.request), invite.destination, now
        )
        out.extend(cancel_out)
        return cancel_id

    def _register(
        self, transaction: Transaction, index: dict[Any, Any], key: ClientKey | ServerKey
    ) -> None:
        index[key] = transaction
        self._transactions[transaction.id] = transaction
        self._index_of[transaction.id] = (index, key)

    def _settle(self, transaction: Transaction) -> None:
        """After any input: forget a terminated transaction, or (re)schedule its deadline."""
        transaction_id = transaction.id
        if transaction.terminated:
            if self._transactions.pop(transaction_id, None) is not None:
                index, key = self._index_of.pop(transaction_id)
                del index[key]
            self._scheduled.pop(transaction_id, None)
            return
        deadline = transaction.next_deadline()
        if deadline is None:
            self._scheduled.pop(transaction_id, None)
        elif self._scheduled.get(transaction_id) != deadline:
            self._scheduled[transaction_id] = deadline
            heapq.heappush(self._heap, (deadline, transaction_id, transaction))
            if len(self._heap) > _HEAP_SLACK * len(self._scheduled) + _HEAP_FLOOR:
                self._compact()

    def _compact(self) -> None:
        """Drop stale heap entries in one O(n) pass; amortised over the pushes that made them."""
        self._heap = [
            (deadline, tid, self._transactions[tid]) for tid, deadline in self._scheduled.items()
        ]
        heapq.heapify(self._heap)
