"""Bookings under concurrency: many callers at once never overbook a session or spend the
same money twice, also when they come through two separate database connections (the switch
and a second process share one SQLite file)."""

from __future__ import annotations

import asyncio
from decimal import Decimal

from softswitch.hospital.booking import (
    AlreadyBooked,
    Booking,
    BookingService,
    InsufficientBalance,
    SlotFull,
)
from softswitch.store import Database, open_database
from tests.hospital.booking.conftest import TODAY, Clinic


async def _outcomes(calls: list) -> list[object]:
    return await asyncio.wait_for(asyncio.gather(*calls, return_exceptions=True), 60)


async def test_twenty_callers_for_the_last_place_one_wins(clinic: Clinic, db: Database) -> None:
    service = clinic.service
    session = await service.set_session(kind="general", department="ent", on=TODAY,
                                        half="afternoon", capacity=5)
    for n in range(4):  # four places already taken
        await service.add_card(f"4000{n}", "1111", f"early {n}", balance="10")
        await service.book(f"4000{n}", session.id, channel="web")
    cards = [f"500{n:02d}" for n in range(20)]
    for number in cards:
        await service.add_card(number, "1111", f"caller {number}", balance="100")
    other_db = await open_database(db.path.parent)  # a second connection to the same file
    try:
        other = BookingService(other_db, clock=clinic.clock)
        calls = [(service if i % 2 else other).book(number, session.id, channel="phone")
                 for i, number in enumerate(cards)]
        outcomes = await _outcomes(calls)
    finally:
        await other_db.close()
    winners = [o for o in outcomes if isinstance(o, Booking)]
    assert len(winners) == 1, outcomes
    assert all(isinstance(o, SlotFull) for o in outcomes if o is not winners[0]), outcomes
    after = await service.session(session.id)
    assert after is not None and (after.booked, after.capacity) == (5, 5)
    balances = {number: (await service.card(number)).balance for number in cards}  # type: ignore[union-attr]
    assert balances[winners[0].card] == Decimal("90.00")
    assert sum(balances.values()) == Decimal("1990.00")
    rows = await db.connection.fetch_all(
        "SELECT COUNT(*), SUM(amount_cents) FROM booking_ledger WHERE reason = 'booking' "
        "AND card LIKE '500%'")
    assert tuple(rows[0]) == (1, -1000)
    booked = await db.connection.fetch_all(
        "SELECT COUNT(*) FROM booking_bookings WHERE session_id = ?", (session.id,))
    assert booked[0][0] == 5


async def test_one_card_booking_two_sessions_at_once_with_money_for_one(clinic: Clinic,
                                                                       db: Database) -> None:
    service = clinic.service
    expert = clinic.expert.expert
    assert expert is not None
    morning = await service.set_session(kind="expert", expert_id=expert.id, on=TODAY,
                                        half="morning", capacity=5, fee="50")
    await service.add_card("60001", "1111", "one fee only", balance="60")
    other_db = await open_database(db.path.parent)
    try:
        other = BookingService(other_db, clock=clinic.clock)
        outcomes = await _outcomes([
            service.book("60001", morning.id, channel="phone"),
            other.book("60001", clinic.expert.id, channel="web"),
        ])
    finally:
        await other_db.close()
    assert sorted(type(o).__name__ for o in outcomes) == ["Booking", "InsufficientBalance"]
    card = await service.card("60001")
    assert card is not None and card.balance == Decimal("10.00")
    charges = [e for e in await service.ledger("60001") if e.reason == "booking"]
    assert [e.amount for e in charges] == [Decimal("-50.00")]
    assert len(await service.appointments("60001")) == 1


async def test_one_card_booking_the_same_session_twice_at_once(clinic: Clinic) -> None:
    service = clinic.service
    outcomes = await _outcomes([service.book("10001", clinic.general.id, channel="phone")
                                for _ in range(5)])
    assert sum(isinstance(o, Booking) for o in outcomes) == 1
    assert sum(isinstance(o, AlreadyBooked) for o in outcomes) == 4
    card = await service.card("10001")
    assert card is not None and card.balance == Decimal("90.00")
    assert not any(isinstance(o, InsufficientBalance) for o in outcomes)
