"""Remembered answers: in progress, then answered, until they expire; bounded (fake clock)."""

from __future__ import annotations

import gc

from softswitch.sip.destination import Destination
from softswitch.sip.transaction.answers import IN_PROGRESS, StatelessAnswers

PHONE = Destination("127.0.0.1", 5062)


def key(n: int) -> tuple[object, ...]:
    return (f"z9hG4bK{n}", "127.0.0.1", 5062, "REGISTER")


def test_an_answer_is_found_until_its_lifetime_ends() -> None:
    answers = StatelessAnswers(lifetime=32.0)
    answers.remember(key(1), b"401 one", PHONE, now=10.0)
    answers.remember(key(2), b"401 two", PHONE, now=20.0)
    assert answers.lookup(key(1), 41.9) == (b"401 one", PHONE)
    assert answers.lookup(key(1), 42.0) is None
    assert answers.lookup(key(2), 42.0) == (b"401 two", PHONE)
    assert answers.lookup(key(3), 42.0) is None
    answers.remember(key(3), b"401 three", PHONE, now=60.0)
    assert len(answers) == 1


def test_work_in_progress_then_its_answer_which_lives_from_when_it_was_given() -> None:
    answers = StatelessAnswers(lifetime=32.0)
    answers.start(key(1), now=0.0)
    assert answers.lookup(key(1), 1.0) is IN_PROGRESS
    answers.remember(key(1), b"200 OK", PHONE, now=20.0)
    assert answers.lookup(key(1), 40.0) == (b"200 OK", PHONE)  # past start + 32 s
    answers.remember(key(2), b"401", PHONE, now=45.0)  # prunes the start's stale deadline
    assert answers.lookup(key(1), 45.0) == (b"200 OK", PHONE)
    assert answers.lookup(key(1), 52.0) is None


def test_the_oldest_answers_go_first_past_the_limit() -> None:
    answers = StatelessAnswers(lifetime=32.0, limit=2)
    for n in range(3):
        answers.remember(key(n), b"%d" % n, PHONE, now=float(n))
    assert answers.lookup(key(0), 3.0) is None
    assert [answers.lookup(key(n), 3.0) for n in (1, 2)] == [(b"1", PHONE), (b"2", PHONE)]


def test_remembered_answers_leave_the_cyclic_collectors_lists() -> None:
    """Tens of thousands live at once: as tracked objects every collection would walk them."""
    answers = StatelessAnswers(lifetime=32.0)
    gc.collect()
    before = len(gc.get_objects())
    for n in range(2000):
        answers.remember(key(n), b"401", PHONE, now=1.0)
    gc.collect()
    assert len(gc.get_objects()) - before < 500  # not one per answer
    assert answers.lookup(key(7), 2.0) == (b"401", PHONE)
