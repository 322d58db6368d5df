"""The tables as data: totality, the missing-entry error, describe(), and random walks
(Hypothesis) of every machine checking the invariants of RFC 3261 section 17."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field
from enum import Enum
from itertools import product

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import softswitch.sip.transaction as tx_pkg
from softswitch.sip import TransactionError
from softswitch.sip.destination import Destination
from softswitch.sip.transaction import (
    INVITE_CLIENT_TABLE,
    INVITE_SERVER_TABLE,
    NON_INVITE_CLIENT_TABLE,
    NON_INVITE_SERVER_TABLE,
    Action,
    InviteClientInput,
    InviteClientState,
    InviteClientTransaction,
    InviteServerInput,
    InviteServerState,
    InviteServerTransaction,
    NonInviteClientInput,
    NonInviteClientState,
    NonInviteClientTransaction,
    NonInviteServerInput,
    NonInviteServerState,
    NonInviteServerTransaction,
    TimerSettings,
    Transaction,
    Transmit,
    describe,
)

from .helpers import request, response

MACHINES = [
    (InviteClientTransaction, InviteClientState, InviteClientInput, INVITE_CLIENT_TABLE),
    (
        NonInviteClientTransaction,
        NonInviteClientState,
        NonInviteClientInput,
        NON_INVITE_CLIENT_TABLE,
    ),
    (InviteServerTransaction, InviteServerState, InviteServerInput, INVITE_SERVER_TABLE),
    (
        NonInviteServerTransaction,
        NonInviteServerState,
        NonInviteServerInput,
        NON_INVITE_SERVER_TABLE,
    ),
]
TU_INPUTS = {
    InviteServerInput.SEND_PROVISIONAL,
    InviteServerInput.SEND_SUCCESS,
    InviteServerInput.SEND_FAILURE,
    NonInviteServerInput.SEND_PROVISIONAL,
    NonInviteServerInput.SEND_FINAL,
}
SETTINGS = TimerSettings()
INVITE = request("INVITE")
OPTIONS = request("OPTIONS")
ACK = request("ACK", to_tag="to1")
STATUSES = [100, 180, 183, 200, 202, 302, 404, 486, 500, 603]
# Built once: the walks are about the machines, not about building messages.
REPLIES = {
    (req.method, status): response(req, status) for req in (INVITE, OPTIONS) for status in STATUSES
}


def reply(tx: Transaction, status: int):
    method = (
        "INVITE"
        if isinstance(tx, (InviteClientTransaction, InviteServerTransaction))
        else ("OPTIONS")
    )
    return REPLIES[(method, status)]


# -- the tables as data ------------------------------------------------------------------------
@pytest.mark.parametrize("cls, states, inputs, table", MACHINES)
def test_every_state_input_pair_is_written_out(cls, states, inputs, table):
    assert cls.TABLE is table
    assert set(table) == set(product(states, inputs))
    for (state, event), (target, action) in table.items():
        if action in (Action.IGNORE, Action.REJECT):
            assert target is state, (state, event)
        if action is Action.REJECT:
            assert event in TU_INPUTS, (state, event)  # only TU calls can be errors
    terminated = cls.TERMINATED
    assert all(table[(terminated, e)][0] is terminated for e in inputs)


@pytest.mark.parametrize("cls, states, inputs, table", MACHINES)
def test_every_state_is_reachable_and_leads_to_terminated(cls, states, inputs, table):
    initial = next(iter(states))
    reachable, frontier = {initial}, [initial]
    while frontier:
        state = frontier.pop()
        for (source, _), (target, _) in table.items():
            if source is state and target not in reachable:
                reachable.add(target)
                frontier.append(target)
    assert reachable == set(states)
    for state in states:
        seen, frontier = {state}, [state]
        while frontier:
            current = frontier.pop()
            for (source, _), (target, _) in table.items():
                if source is current and target not in seen:
                    seen.add(target)
                    frontier.append(target)
        assert cls.TERMINATED in seen, state


def test_a_missing_entry_raises_transaction_error_naming_state_and_input():
    partial = dict(NON_INVITE_SERVER_TABLE)
    del partial[(NonInviteServerState.TRYING, NonInviteServerInput.SEND_FINAL)]

    class Partial(NonInviteServerTransaction):
        __slots__ = ()
        TABLE = partial

    req = request("OPTIONS")
    tx = Partial(1, Destination("10.0.0.1", 5060), SETTINGS.derive(False))
    with pytest.raises(TransactionError, match="TRYING on SEND_FINAL"):
        tx.send_response(response(req, 200), now=0.0)
    assert tx.state is NonInviteServerState.TRYING


def test_describe_lists_every_state_and_every_input_of_each_state():
    for _, states, inputs, table in MACHINES:
        text = describe(table, "title")
        assert text.splitlines()[0] == "title"
        blocks = text.split("\n")
        for state in states:
            assert state.name in blocks
        for state, event in table:
            assert event.name in text
    assert "--TIMER_G/retransmit--> COMPLETED" in describe(INVITE_SERVER_TABLE)
    assert "rejects: SEND_PROVISIONAL, SEND_FINAL" in describe(NON_INVITE_SERVER_TABLE)


def test_package_docstring_diagrams_match_the_tables():
    doc = tx_pkg.__doc__ or ""
    for cls, _, _, table in MACHINES:
        assert textwrap.indent(describe(table, cls.__name__), "    ") in doc


def test_package_exports_exist():
    for name in tx_pkg.__all__:
        assert hasattr(tx_pkg, name), name


# -- random walks ---------------------------------------------------------------------------------
@dataclass
class Walk:
    """Drives one transaction with a fake clock and checks the invariants after each step."""

    tx: Transaction
    now: float = 0.0
    last_state: Enum | None = None
    transitions: list[tuple[Enum, Enum, Enum]] = field(default_factory=list)

    def observe(self, tx: Transaction, before: Enum, event: Enum, after: Enum) -> None:
        assert tx is self.tx
        assert before is self.last_state, "a state change bypassed the table"
        assert tx.TABLE[(before, event)][0] is after
        self.last_state = after
        self.transitions.append((before, event, after))

    def apply(self, call, *args) -> list:
        was_terminated = self.tx.terminated
        before = self.tx.state
        try:
            out = call(*args, self.now)
        except TransactionError:
            assert self.tx.state is before
            return []
        if was_terminated:
            assert not [o for o in out if isinstance(o, Transmit)], "Transmit after Terminated"
        if self.tx.terminated:
            assert self.tx.next_deadline() is None
        deadline = self.tx.next_deadline()
        assert deadline is None or deadline > self.now  # everything due has fired
        return out

    def advance(self, dt: float) -> list:
        self.now += dt
        return self.apply(self.tx.handle_timer)

    def run_out(self, bound: float) -> None:
        """Let time pass with no further input: the transaction must terminate within bound."""
        start = self.now
        for _ in range(1000):
            deadline = self.tx.next_deadline()
            if deadline is None:
                break
            self.now = deadline
            self.apply(self.tx.handle_timer)
        assert self.tx.terminated, self.tx
        assert self.now <= start + bound + 1e-9


def make(cls, reliable: bool, walk_holder: list) -> Walk:
    timers = SETTINGS.derive(reliable)
    destination = Destination("10.0.0.2", 5060, "TCP" if reliable else "UDP")
    req = INVITE if "Invite" in cls.__name__ else OPTIONS
    observer = lambda *a: walk_holder[0].observe(*a)
    if cls is InviteServerTransaction:
        tx = cls(1, req, destination, timers, 0.0, observer)
    elif cls is NonInviteServerTransaction:
        tx = cls(1, destination, timers, observer)
    else:
        tx = cls(1, req, destination, timers, observer)
    walk = Walk(tx, last_state=tx.state)
    walk_holder.append(walk)
    return walk


statuses = st.sampled_from(STATUSES)
steps = st.lists(
    st.one_of(
        st.tuples(st.just("advance"), st.floats(0.0, 40.0, allow_nan=False)),
        st.tuples(st.just("network"), statuses),
        st.tuples(st.just("tu"), statuses),
        st.tuples(st.just("ack"), st.just(0)),
        st.tuples(st.just("cancel"), st.just(0)),
        st.tuples(st.just("transport_error"), st.just(0)),
    ),
    max_size=25,
)
LONG = 64 * SETTINGS.t1


@settings(max_examples=75, deadline=None)
@given(reliable=st.booleans(), ops=steps)
def test_invite_client_random_walk(reliable, ops):
    holder: list[Walk] = []
    walk = make(InviteClientTransaction, reliable, holder)
    tx = walk.tx
    assert isinstance(tx, InviteClientTransaction)
    walk.apply(lambda now: tx.start(now))
    for op, value in ops:
        if op == "advance":
            walk.advance(value)
        elif op == "network":
            walk.apply(tx.receive_response, reply(tx, value))
        elif op == "cancel":
            walk.apply(tx.cancel)
        elif op == "transport_error":
            walk.apply(tx.transport_error)
    proceeding = tx.state is InviteClientState.PROCEEDING
    walk.run_out(SETTINGS.c if proceeding else max(LONG, SETTINGS.d))


@settings(max_examples=75, deadline=None)
@given(reliable=st.booleans(), ops=steps)
def test_non_invite_client_random_walk(reliable, ops):
    holder: list[Walk] = []
    walk = make(NonInviteClientTransaction, reliable, holder)
    tx = walk.tx
    assert isinstance(tx, NonInviteClientTransaction)
    walk.apply(lambda now: tx.start(now))
    for op, value in ops:
        if op == "advance":
            walk.advance(value)
        elif op == "network":
            walk.apply(tx.receive_response, reply(tx, value))
        elif op == "transport_error":
            walk.apply(tx.transport_error)
    walk.run_out(LONG)


@settings(max_examples=75, deadline=None)
@given(reliable=st.booleans(), ops=steps, final=st.sampled_from([200, 486]))
def test_invite_server_random_walk(reliable, ops, final):
    holder: list[Walk] = []
    walk = make(InviteServerTransaction, reliable, holder)
    tx = walk.tx
    assert isinstance(tx, InviteServerTransaction)
    req = INVITE if isinstance(tx, InviteServerTransaction) else OPTIONS
    for op, value in ops:
        if op == "advance":
            walk.advance(value)
        elif op == "network":
            walk.apply(tx.receive_request, req)
        elif op == "ack":
            walk.apply(tx.receive_ack, ACK)
        elif op == "tu":
            walk.apply(tx.send_response, reply(tx, value))
        elif op == "transport_error":
            walk.apply(tx.transport_error)
    if tx.state is InviteServerState.PROCEEDING:  # the TU always answers in the end
        walk.apply(tx.send_response, reply(tx, final))
    walk.run_out(LONG)


@settings(max_examples=75, deadline=None)
@given(reliable=st.booleans(), ops=steps, final=st.sampled_from([200, 404]))
def test_non_invite_server_random_walk(reliable, ops, final):
    holder: list[Walk] = []
    walk = make(NonInviteServerTransaction, reliable, holder)
    tx = walk.tx
    assert isinstance(tx, NonInviteServerTransaction)
    req = INVITE if isinstance(tx, InviteServerTransaction) else OPTIONS
    for op, value in ops:
        if op == "advance":
            walk.advance(value)
        elif op == "network":
            walk.apply(tx.receive_request, req)
        elif op == "tu":
            walk.apply(tx.send_response, reply(tx, value))
        elif op == "transport_error":
            walk.apply(tx.transport_error)
    if tx.state in (NonInviteServerState.TRYING, NonInviteServerState.PROCEEDING):
        walk.apply(tx.send_response, reply(tx, final))
    walk.run_out(LONG)


@settings(max_examples=60, deadline=None)
@given(ops=steps)
def test_tu_errors_happen_exactly_on_reject_entries(ops):
    """A TU call raises TransactionError if and only if the table says REJECT."""
    holder: list[Walk] = []
    walk = make(InviteServerTransaction, False, holder)
    tx = walk.tx
    assert isinstance(tx, InviteServerTransaction)
    for op, value in ops:
        if op == "advance":
            walk.advance(value)
        elif op == "tu":
            event = (
                InviteServerInput.SEND_PROVISIONAL
                if value < 200
                else InviteServerInput.SEND_SUCCESS
                if value < 300
                else InviteServerInput.SEND_FAILURE
            )
            rejected = INVITE_SERVER_TABLE[(tx.state, event)][1] is Action.REJECT
            if rejected:
                with pytest.raises(TransactionError, match=f"{event.name}.*{tx.state.name}"):
                    tx.send_response(reply(tx, value), walk.now)
            else:
                tx.send_response(reply(tx, value), walk.now)
