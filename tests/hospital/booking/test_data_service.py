"""BookingService over a real SQLite database: cards and PINs, the catalogue, sessions,
bookings, tickets and the money ledger."""

from __future__ import annotations

import asyncio
import datetime
import re
from decimal import Decimal

import pytest

from softswitch.hospital.booking import (
    AlreadyBooked,
    BookingService,
    CapacityBelowBooked,
    CardLocked,
    CardNotFound,
    Conflict,
    InsufficientBalance,
    InvalidInput,
    NotFound,
    RosterEntry,
    SlotFull,
    WrongPin,
)
from softswitch.store import Database, open_database
from tests.hospital.booking.conftest import TODAY, Clinic


async def test_card_is_stored_with_a_hashed_pin_and_opening_balance(clinic: Clinic,
                                                                    db: Database) -> None:
    card = await clinic.service.card("10001")
    assert card is not None
    assert (card.name, card.phones, card.insurance) == ("张三", ("13800000001",),
                                                        "urban-employee")
    assert card.balance == Decimal("100.00")
    row = await db.connection.fetch_one("SELECT pin_hash FROM booking_cards WHERE number = ?",
                                        ("10001",))
    assert row is not None and "123456" not in row[0] and row[0].startswith("pbkdf2_sha256$")
    (entry,) = await clinic.service.ledger("10001")
    assert (entry.reason, entry.amount, entry.balance_after) == ("open", Decimal("100.00"),
                                                                 Decimal("100.00"))


async def test_verify_card_accepts_the_right_pin_and_refuses_alike(clinic: Clinic) -> None:
    card = await clinic.service.verify_card("10001", "123456", source="test")
    assert card.number == "10001"
    with pytest.raises(WrongPin) as wrong:
        await clinic.service.verify_card("10001", "999999", source="test")
    with pytest.raises(CardNotFound) as unknown:
        await clinic.service.verify_card("55555", "123456", source="test")
    assert wrong.value.message == unknown.value.message  # no hint that the card exists


async def test_too_many_wrong_pins_lock_the_card_even_for_the_right_pin(clinic: Clinic) -> None:
    service = clinic.service
    for _ in range(service.max_pin_failures):
        with pytest.raises(WrongPin):
            await service.verify_card("10001", "000000", source="phone:1001")
    with pytest.raises(CardLocked) as locked:
        await service.verify_card("10001", "123456", source="web")
    assert "later" in locked.value.message
    clinic.clock.now += service.lockout_seconds + 1
    assert (await service.verify_card("10001", "123456", source="web")).number == "10001"


async def test_a_success_clears_earlier_failures(clinic: Clinic) -> None:
    service = clinic.service
    for _ in range(service.max_pin_failures - 1):
        with pytest.raises(WrongPin):
            await service.verify_card("10001", "000000", source="t")
    await service.verify_card("10001", "123456", source="t")
    for _ in range(service.max_pin_failures - 1):
        with pytest.raises(WrongPin):
            await service.verify_card("10001", "000000", source="t")
    assert (await service.verify_card("10001", "123456", source="t")).number == "10001"


async def test_bad_card_data_is_refused_naming_the_field(clinic: Clinic) -> None:
    service = clinic.service
    cases = [
        ({"number": "12ab", "pin": "123456", "name": "x"}, "card"),
        ({"number": "20001", "pin": "12", "name": "x"}, "pin"),
        ({"number": "20001", "pin": "123456", "name": "  "}, "name"),
        ({"number": "20001", "pin": "123456", "name": "x", "balance": "-1"}, "balance"),
        ({"number": "20001", "pin": "123456", "name": "x", "balance": "1.234"}, "balance"),
        ({"number": "20001", "pin": "123456", "name": "x", "phones": ["call me"]}, "phones"),
    ]
    for kwargs, field in cases:
        with pytest.raises(InvalidInput) as error:
            await service.add_card(**kwargs)
        assert error.value.field == field, kwargs
    with pytest.raises(Conflict):
        await service.add_card("10001", "123456", "Someone else")
    assert await service.card("20001") is None


async def test_book_charges_the_fee_and_returns_a_readable_ticket(clinic: Clinic) -> None:
    booking = await clinic.service.book("10001", clinic.expert.id, channel="phone")
    assert booking.kind == "expert" and booking.expert == "王建国"
    assert booking.department == "ent" and booking.date == TODAY and booking.half == "afternoon"
    assert booking.fee == Decimal("50.00") and booking.balance_after == Decimal("50.00")
    assert booking.ticket == "E3-1126-001"
    card = await clinic.service.card("10001")
    assert card is not None and card.balance == Decimal("50.00")
    session = await clinic.service.session(clinic.expert.id)
    assert session is not None and session.booked == 1
    charge = (await clinic.service.ledger("10001"))[-1]
    assert (charge.reason, charge.amount, charge.ticket) == ("booking", Decimal("-50.00"),
                                                             "E3-1126-001")


async def test_tickets_are_unique_and_sequenced_per_kind_department_and_day(
        clinic: Clinic) -> None:
    service = clinic.service
    tickets = []
    for number in ("20001", "20002", "20003"):
        await service.add_card(number, "1111", "patient", balance="500")
        tickets.append((await service.book(number, clinic.general.id, channel="web")).ticket)
        tickets.append((await service.book(number, clinic.exam.id, channel="web")).ticket)
    assert tickets == ["G3-1126-001", "X1-1126-001", "G3-1126-002", "X1-1126-002",
                       "G3-1126-003", "X1-1126-003"]
    assert all(re.fullmatch(r"[GEX][0-9]-[0-9]{4}-[0-9]{3,}", t) for t in tickets)


async def test_refusals_write_nothing(clinic: Clinic) -> None:
    service = clinic.service
    await service.add_card("30001", "1111", "poor patient", balance="49.99")
    with pytest.raises(InsufficientBalance) as poor:
        await service.book("30001", clinic.expert.id, channel="phone")
    assert "balance" in poor.value.message
    await service.book("10001", clinic.expert.id, channel="phone")
    with pytest.raises(AlreadyBooked):
        await service.book("10001", clinic.expert.id, channel="web")
    with pytest.raises(NotFound):
        await service.book("10001", 9999, channel="web")
    with pytest.raises(CardNotFound):
        await service.book("99999", clinic.expert.id, channel="web")
    assert (await service.card("30001")).balance == Decimal("49.99")  # type: ignore[union-attr]
    assert (await service.card("10001")).balance == Decimal("50.00")  # type: ignore[union-attr]
    assert (await service.session(clinic.expert.id)).booked == 1  # type: ignore[union-attr]
    assert len(await service.ledger("10001")) == 2


async def test_a_full_session_refuses_and_a_past_one_is_not_bookable(clinic: Clinic) -> None:
    service = clinic.service
    tiny = await service.set_session(kind="general", department="ent", on=TODAY,
                                     half="afternoon", capacity=1)
    await service.book("10001", tiny.id, channel="web")
    await service.add_card("20001", "1111", "second", balance="100")
    with pytest.raises(SlotFull):
        await service.book("20001", tiny.id, channel="web")
    clinic.clock.now += 86400
    with pytest.raises(NotFound) as past:
        await service.book("20001", clinic.general.id, channel="web")
    assert "already" in past.value.message


async def test_capacity_cannot_drop_below_what_is_booked(clinic: Clinic) -> None:
    service = clinic.service
    await service.change_balance("10001", "100")
    await service.book("10001", clinic.exam.id, channel="web")
    with pytest.raises(CapacityBelowBooked) as refused:
        await service.set_session(kind="exam", exam="ultrasound", on=TODAY, half="morning",
                                  capacity=0)
    assert "1 place(s) already booked" in refused.value.message
    same = await service.set_session(kind="exam", exam="ultrasound", on=TODAY, half="morning",
                                     capacity=1, fee="130")
    assert (same.id, same.capacity, same.booked, same.fee) == (clinic.exam.id, 1, 1,
                                                               Decimal("130.00"))
    with pytest.raises(Conflict):
        await service.remove_session(clinic.exam.id)


async def test_sessions_are_listed_by_kind_day_and_department(clinic: Clinic) -> None:
    service = clinic.service
    tomorrow = TODAY + datetime.timedelta(days=1)
    await service.set_session(kind="general", department="ent", on=tomorrow, half="morning",
                              capacity=3)
    today = await service.sessions(kind="general", department="ent")
    assert [(s.date, s.half) for s in today] == [(TODAY, "morning")]
    assert today[0].fee == Decimal("10.00") and today[0].remaining == 30
    week = await service.sessions(kind="general", start=TODAY, days=7)
    assert [s.date for s in week] == [TODAY, tomorrow]
    experts = await service.sessions(kind="expert", on=TODAY)
    assert experts[0].expert is not None and experts[0].expert.name == "王建国"
    exams = await service.sessions(kind="exam", exam="ultrasound")
    assert exams[0].department == "ultrasound" and exams[0].fee == Decimal("120.00")
    with pytest.raises(InvalidInput):
        await service.sessions(kind="dental")


async def test_set_roster_replaces_a_day_all_or_nothing(clinic: Clinic) -> None:
    service = clinic.service
    second = await service.add_expert("李秀英", "ent", "associate chief physician")
    first = clinic.expert.expert
    assert first is not None
    roster = await service.set_roster(TODAY, [RosterEntry(second.id, "morning", 8, Decimal(40)),
                                              RosterEntry(first.id, "afternoon", 6)])
    assert [(s.expert.name, s.half, s.capacity) for s in roster if s.expert] == [
        ("李秀英", "morning", 8), ("王建国", "afternoon", 6)]
    await service.book("10001", clinic.expert.id, channel="web")
    with pytest.raises(Conflict):  # dropping the booked row
        await service.set_roster(TODAY, [RosterEntry(second.id, "morning", 2)])
    with pytest.raises(CapacityBelowBooked):
        await service.set_roster(TODAY, [RosterEntry(second.id, "morning", 2),
                                          RosterEntry(first.id, "afternoon", 0)])
    after = await service.roster(TODAY)
    assert [(s.half, s.capacity) for s in after] == [("morning", 8), ("afternoon", 6)]
    tomorrow = TODAY + datetime.timedelta(days=1)
    assert len(await service.set_roster(tomorrow, [RosterEntry(second.id, "morning", 3)])) == 1
    assert await service.set_roster(tomorrow, []) == []  # an empty roster clears the day


async def test_departments_sort_by_digit_and_digits_are_unique(clinic: Clinic) -> None:
    service = clinic.service
    await service.add_department("internal", "1", "内科", "internal medicine", "8")
    assert [d.digit for d in await service.departments()] == ["1", "3"]
    with pytest.raises(Conflict):
        await service.add_department("surgery", "1", "外科", "surgery", "8")
    with pytest.raises(Conflict):
        await service.remove_department("ent")  # has an expert and sessions
    await service.remove_department("internal")
    assert [d.code for d in await service.departments()] == ["ent"]
    raced = await asyncio.gather(*[service.add_department("eye", "6", "眼科", f"eye {n}", "8")
                                   for n in range(3)], return_exceptions=True)
    assert sorted(type(r).__name__ for r in raced) == ["Conflict", "Conflict", "Department"]


async def test_balance_changes_are_ledger_rows_and_never_go_negative(clinic: Clinic) -> None:
    service = clinic.service
    assert (await service.change_balance("10001", "20.50")).balance == Decimal("120.50")
    with pytest.raises(InsufficientBalance):
        await service.change_balance("10001", "-200", reason="adjust")
    with pytest.raises(InvalidInput):
        await service.change_balance("10001", "-1")  # a top-up must be positive
    with pytest.raises(NotFound):
        await service.change_balance("99999", "5")
    assert [e.reason for e in await service.ledger("10001")] == ["open", "topup"]


async def test_appointments_list_the_cards_bookings_by_date(clinic: Clinic) -> None:
    service = clinic.service
    await service.book("10001", clinic.expert.id, channel="phone")
    await service.book("10001", clinic.general.id, channel="web")
    listed = await service.appointments("10001")
    assert [(b.kind, b.half) for b in listed] == [("general", "morning"),
                                                  ("expert", "afternoon")]
    assert await service.appointments("10001", since=TODAY + datetime.timedelta(1)) == []
    assert (await service.booking(listed[0].ticket)) == listed[0]


async def test_bookings_survive_a_reopen(clinic: Clinic, db: Database) -> None:
    booking = await clinic.service.book("10001", clinic.general.id, channel="web")
    again = await open_database(db.path.parent)
    try:
        reopened = BookingService(again, clock=clinic.clock)
        assert await reopened.appointments("10001") == [booking]
    finally:
        await again.close()
