"""What the four transaction machines share: the table-driven step and deadline timers.

A transaction never reads a clock and never sleeps: each method takes `now`, returns a list of
outputs, and `next_deadline()` says when `handle_timer(now)` wants to be called again
(aioquic's `get_timer`/`handle_timer`). Timers are deadlines keyed by the input they feed into
the table, so a timer firing is just another input.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum
from typing import Any, ClassVar

from softswitch.sip.destination import Destination
from softswitch.sip.errors import TransactionError
from softswitch.sip.transaction.events import (
    Output,
    TransactionTerminated,
    TransactionTimeout,
    Transmit,
    TransportFailure,
)
from softswitch.sip.transaction.table import Action, Table
from softswitch.sip.transaction.timers import Timers

__all__ = ["Observer", "Transaction"]

# Called after every transition with (transaction, old state, input, new state): a seam for
# tests and tracing that costs one `is None` check when unused.
Observer = Callable[["Transaction", Enum, Enum, Enum], None]

_Handler = Callable[[Any, float, list[Output], Any], None]


class Transaction:
    """Base of the four machines. Subclasses set TABLE, TERMINATED and TRANSPORT_ERROR and
    implement `_on_<action>` for each action their table uses."""

    __slots__ = ("_deadlines", "_observer", "destination", "id", "state", "timers")

    KIND: ClassVar[str]
    TABLE: ClassVar[Table]
    TERMINATED: ClassVar[Enum]
    TRANSPORT_ERROR: ClassVar[Enum]
    _HANDLERS: ClassVar[dict[Action, _Handler]]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "TABLE" in cls.__dict__:
            cls._HANDLERS = {
                action: getattr(cls, "_on_" + action.value)
                for _, action in cls.TABLE.values()
                if action is not Action.IGNORE and action is not Action.REJECT
            }

    def __init__(
        self,
        transaction_id: int,
        initial: Enum,
        destination: Destination,
        timers: Timers,
        observer: Observer | None,
    ) -> None:
        self.id = transaction_id
        self.state = initial
        self.destination = destination
        self.timers = timers
        self._deadlines: dict[Enum, float] = {}
        self._observer = observer

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.id} {self.state.name}>"

    @property
    def terminated(self) -> bool:
        return self.state is self.TERMINATED

    def next_deadline(self) -> float | None:
        """When `handle_timer` should next be called, or None when no timer runs."""
        deadlines = self._deadlines
        if not deadlines:
            return None
        return min(deadlines.values())

    def handle_timer(self, now: float) -> list[Output]:
        """Fire every timer whose deadline is at or before `now`, earliest first."""
        out: list[Output] = []
        self._fire_due(now, out)
        return out

    def transport_error(self, now: float) -> list[Output]:
        """The transport could not send for us: inform the TU, terminate (17.1.4, 17.2.4)."""
        out: list[Output] = []
        self._step(self.TRANSPORT_ERROR, now, out, None)
        return out

    # -- machinery ------------------------------------------------------------------------
    def _step(self, event: Enum, now: float, out: list[Output], message: Any) -> None:
        previous = self.state
        entry = self.TABLE.get((previous, event))
        if entry is None:
            raise TransactionError(
                f"{self.KIND} transaction {self.id}: no transition from {previous.name} "
                f"on {event.name}"
            )
        target, action = entry
        if action is Action.REJECT:
            raise TransactionError(
                f"{self.KIND} transaction {self.id}: {event.name} is not allowed in state "
                f"{previous.name}"
            )
        self.state = target
        if action is not Action.IGNORE:
            self._HANDLERS[action](self, now, out, message)
        if target is self.TERMINATED and previous is not target:
            self._deadlines.clear()
            out.append(TransactionTerminated(self.id))
        if self._observer is not None:
            self._observer(self, previous, event, target)

    def _fire_due(self, now: float, out: list[Output]) -> None:
        deadlines = self._deadlines
        while deadlines:
            event = min(deadlines, key=deadlines.__getitem__)
            if deadlines[event] > now:
                return
            del deadlines[event]
            self._step(event, now, out, None)

    def _arm(self, timer: Enum, at: float) -> None:
        self._deadlines[timer] = at

    def _transmit(self, data: bytes, out: list[Output]) -> None:
        out.append(Transmit(data, self.destination, self.id))

    # -- actions every machine has ----------------------------------------------------------
    def _on_timeout(self, now: float, out: list[Output], message: Any) -> None:
        out.append(TransactionTimeout(self.id))

    def _on_terminate(self, now: float, out: list[Output], message: Any) -> None:
        """Wait timers (D, I, J, K, L, M) end quietly; `_step` reports the termination."""

    def _on_fail(self, now: float, out: list[Output], message: Any) -> None:
        out.append(TransportFailure(self.id))
