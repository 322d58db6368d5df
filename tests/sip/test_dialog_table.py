"""The dialog state table as data, its diagram in the module docstring, and Hypothesis walks:
of the table itself, and of two live dialogs exchanging random in-dialog traffic."""

from __future__ import annotations

import textwrap
from itertools import product

from hypothesis import given, settings
from hypothesis import strategies as st

import softswitch.sip.dialog as dialog_module
from softswitch.sip.dialog import (
    DIALOG_TABLE,
    DialogInput,
    DialogState,
    DialogStateError,
)
from softswitch.sip.transaction import Action, describe

from .dialog_helpers import as_request, as_response, confirmed_pair, early_pair


def test_table_is_total() -> None:
    assert set(DIALOG_TABLE) == set(product(DialogState, DialogInput))


def test_docstring_diagram_matches_the_table() -> None:
    diagram = textwrap.indent(describe(DIALOG_TABLE), "    ")
    assert diagram in (dialog_module.__doc__ or "")


def test_the_only_refused_pair_is_a_rejection_after_confirmation() -> None:
    refused = [pair for pair, (_, action) in DIALOG_TABLE.items() if action is Action.REJECT]
    assert refused == [(DialogState.CONFIRMED, DialogInput.REJECTED)]


@given(st.lists(st.sampled_from(list(DialogInput)), max_size=30))
def test_walks_never_go_back_and_terminated_absorbs(inputs: list[DialogInput]) -> None:
    order = {DialogState.EARLY: 0, DialogState.CONFIRMED: 1, DialogState.TERMINATED: 2}
    state = DialogState.EARLY
    for event in inputs:
        target, action = DIALOG_TABLE[(state, event)]
        if action is Action.REJECT:
            assert target is state
            continue
        assert order[target] >= order[state]
        if state is DialogState.TERMINATED:
            assert target is DialogState.TERMINATED and action is Action.IGNORE
        if event in (DialogInput.BYE, DialogInput.GONE, DialogInput.EXPIRED):
            assert target is DialogState.TERMINATED
        state = target


_STEP = st.sampled_from(
    ["alice_info", "bob_info", "alice_update", "bob_reinvite", "alice_bye", "bob_bye", "tick"]
)


@settings(max_examples=60, deadline=None)
@given(st.booleans(), st.lists(_STEP, max_size=25))
def test_random_in_dialog_traffic_keeps_both_sides_consistent(
    answer_first: bool, steps: list[str]
) -> None:
    pair = confirmed_pair() if answer_first else early_pair()
    now = 0.0
    sent_seq = {"alice": pair.alice.local_seq, "bob": pair.bob.local_seq}
    for step in steps:
        if pair.alice.terminated or pair.bob.terminated:
            break
        if step == "tick":
            now += 1.0
            for side in (pair.alice, pair.bob):
                assert side.handle_timer(now) == []  # no 2xx pending, no session timer
            continue
        sender_name, what = step.split("_")
        sender = pair.alice if sender_name == "alice" else pair.bob
        receiver = pair.bob if sender is pair.alice else pair.alice
        method = {"info": "INFO", "update": "UPDATE", "reinvite": "INVITE", "bye": "BYE"}[what]
        try:
            request = as_request(sender.create_request(method))
        except DialogStateError:
            # Only what RFC 3261 forbids: callee BYE or re-INVITE on an early dialog.
            assert sender.state is DialogState.EARLY and method in ("BYE", "INVITE")
            continue
        assert request.cseq.number == sent_seq[sender_name] + 1
        sent_seq[sender_name] = request.cseq.number
        receiver.receive_request(request)
        assert receiver.remote_seq == request.cseq.number
        response = receiver.make_response(request, 200)
        receiver.sent_response(response, now)
        sender.receive_response(as_response(response))
        if method == "INVITE":
            receiver.receive_request(as_request(sender.create_ack()))
            assert not receiver.awaiting_ack
        if method == "BYE":
            assert sender.terminated and receiver.terminated
    assert pair.alice.id.call_id == pair.bob.id.call_id
    assert (pair.alice.id.local_tag, pair.alice.id.remote_tag) == (
        pair.bob.id.remote_tag,
        pair.bob.id.local_tag,
    )
