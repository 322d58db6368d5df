"""Transition tables: `{(state, input): (next_state, action)}` and their text rendering.

A table is data (h2's `_transitions`): it is total, so every (state, input) pair is written out,
including the ones the RFC says to ignore (`Action.IGNORE`) and the ones that are a TU error
(`Action.REJECT`). Tests walk the pairs; `describe` draws the diagram used in the docs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import Enum

__all__ = ["Action", "MachineEnum", "Table", "complete_table", "describe"]


class MachineEnum(Enum):
    """Enum with identity hashing: states, inputs and actions key the tables looked up for
    every message, and Enum's own `__hash__` (hashing the name in Python) is measurably slow."""

    __hash__ = object.__hash__


class Action(MachineEnum):
    """What a transaction does on a transition; each machine implements those it uses."""

    IGNORE = "ignore"  # absorb: nothing to send, nothing for the TU
    REJECT = "reject"  # a TU call not allowed here: TransactionError, state unchanged
    PASS_UP = "pass_up"  # give the message to the TU
    PROCEED = "proceed"  # first provisional: stop retransmitting, pass it up
    ACCEPT = "accept"  # 2xx: enter Accepted (RFC 6026)
    COMPLETE = "complete"  # final response: start the Completed timers
    RETRANSMIT = "retransmit"  # a retransmission timer fired: send again, back off
    RESEND = "resend"  # a retransmitted message came in: repeat our last answer
    SEND = "send"  # the TU sends a message that keeps the state
    SEND_TRYING = "send_trying"  # 17.2.1: the TU was silent for 200 ms, send 100 Trying
    CONFIRM = "confirm"  # ACK for a non-2xx final: stop retransmitting, absorb stragglers
    PASS_ACK = "pass_ack"  # ACK for a 2xx: the TU's business (RFC 6026)
    DEFER_CANCEL = "defer_cancel"  # 9.1: CANCEL waits for a provisional response
    GUARD_CANCEL = "guard_cancel"  # 9.1: after CANCEL, a final must come within 64*T1
    TIMEOUT = "timeout"  # no answer: tell the TU, terminate
    TERMINATE = "terminate"  # a wait timer ended: terminate quietly
    FAIL = "fail"  # transport error: tell the TU, terminate


Table = Mapping[tuple[Enum, Enum], tuple[Enum, Action]]


def complete_table(
    explicit: dict[tuple[Enum, Enum], tuple[Enum, Action]],
    states: Iterable[Enum],
    inputs: Iterable[Enum],
    *,
    terminated: Enum,
    transport_error: Enum,
    tu_calls: Iterable[Enum] = (),
) -> dict[tuple[Enum, Enum], tuple[Enum, Action]]:
    """Make a machine's table total, with the rules all four RFC 3261 machines share.

    Beyond the ``explicit`` transitions: a transport error terminates every live state
    (17.1.4, 17.2.4); a TU call (``tu_calls``) a state does not allow is refused (REJECT);
    every other input is absorbed (IGNORE): retransmissions, stale timers, late messages.
    """
    table = dict(explicit)
    inputs = list(inputs)
    tu_calls = list(tu_calls)
    for state in states:
        if state is not terminated:
            table.setdefault((state, transport_error), (terminated, Action.FAIL))
        for event in tu_calls:
            table.setdefault((state, event), (state, Action.REJECT))
        for event in inputs:
            table.setdefault((state, event), (state, Action.IGNORE))
    return table


def describe(table: Table, title: str = "") -> str:
    """Render a table as text: one block per state, one arrow per input that does something.

    Ignored inputs and rejected TU calls are listed on one line each, so the diagram still
    shows every pair of the table.
    """
    lines = [title] if title else []
    states: list[Enum] = []
    for state, _ in table:
        if state not in states:
            states.append(state)
    for state in states:
        lines.append(f"{state.name}")
        ignored: list[str] = []
        rejected: list[str] = []
        for (source, event), (target, action) in table.items():
            if source is not state:
                continue
            if action is Action.IGNORE and target is state:
                ignored.append(event.name)
            elif action is Action.REJECT:
                rejected.append(event.name)
            else:
                lines.append(f"  --{event.name}/{action.value}--> {target.name}")
        if ignored:
            lines.append(f"  ignores: {', '.join(ignored)}")
        if rejected:
            lines.append(f"  rejects: {', '.join(rejected)}")
    return "\n".join(lines)
