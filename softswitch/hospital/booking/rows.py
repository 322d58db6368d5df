"""SQL shared by the booking service's reads and writes, and rows -> records."""

from __future__ import annotations

import datetime
import json
import sqlite3

from softswitch.hospital.booking.records import (
    Booking,
    Card,
    Department,
    ExamType,
    Expert,
    LedgerEntry,
    Session,
    yuan,
)

__all__ = [
    "BOOKING_SELECT",
    "CARD_SELECT",
    "DEPARTMENT_SELECT",
    "EXAM_SELECT",
    "EXPERT_SELECT",
    "LEDGER_SELECT",
    "SESSION_ORDER",
    "SESSION_SELECT",
    "to_booking",
    "to_card",
    "to_department",
    "to_exam",
    "to_expert",
    "to_ledger",
    "to_session",
]

CARD_SELECT = ("SELECT number, name, phones, insurance, balance_cents, pin_hash "
               "FROM booking_cards")
DEPARTMENT_SELECT = ("SELECT code, digit, name_zh, name_en, general_fee_cents "
                     "FROM booking_departments")
EXPERT_SELECT = "SELECT id, name, department, title FROM booking_experts"
EXAM_SELECT = "SELECT code, digit, name_zh, name_en, fee_cents FROM booking_exam_types"
SESSION_SELECT = (
    "SELECT s.id, s.kind, s.department, s.day, s.half, s.expert_id, s.exam, s.capacity, "
    "s.booked, s.fee_cents, e.name AS expert_name, e.department AS expert_department, "
    "e.title AS expert_title, IFNULL(d.digit, IFNULL(x.digit, '')) AS menu_digit "
    "FROM booking_sessions s "
    "LEFT JOIN booking_experts e ON e.id = s.expert_id "
    "LEFT JOIN booking_departments d ON d.code = s.department AND s.kind != 'exam' "
    "LEFT JOIN booking_exam_types x ON x.code = s.exam"
)
SESSION_ORDER = " ORDER BY s.day, s.half = 'afternoon', s.kind, s.department, e.name, s.id"
BOOKING_SELECT = (
    "SELECT b.ticket, b.card, b.fee_cents, b.balance_after_cents, b.created_at, s.kind, "
    "s.department, s.day, s.half, s.exam, e.name AS expert_name "
    "FROM booking_bookings b JOIN booking_sessions s ON s.id = b.session_id "
    "LEFT JOIN booking_experts e ON e.id = s.expert_id"
)
LEDGER_SELECT = (
    "SELECT l.card, l.at, l.amount_cents, l.balance_after_cents, l.reason, l.note, b.ticket "
    "FROM booking_ledger l LEFT JOIN booking_bookings b ON b.id = l.booking_id"
)


def to_card(row: sqlite3.Row) -> Card:
    return Card(number=row["number"], name=row["name"], phones=tuple(json.loads(row["phones"])),
                insurance=row["insurance"], balance=yuan(row["balance_cents"]))


def to_department(row: sqlite3.Row) -> Department:
    return Department(code=row["code"], digit=row["digit"] or "", name_zh=row["name_zh"],
                      name_en=row["name_en"], general_fee=yuan(row["general_fee_cents"]))


def to_expert(row: sqlite3.Row) -> Expert:
    return Expert(id=row["id"], name=row["name"], department=row["department"],
                  title=row["title"])


def to_exam(row: sqlite3.Row) -> ExamType:
    return ExamType(code=row["code"], digit=row["digit"] or "", name_zh=row["name_zh"],
                    name_en=row["name_en"], fee=yuan(row["fee_cents"]))


def to_session(row: sqlite3.Row) -> Session:
    expert = None
    if row["expert_id"] is not None:
        expert = Expert(id=row["expert_id"], name=row["expert_name"],
                        department=row["expert_department"], title=row["expert_title"])
    return Session(id=row["id"], kind=row["kind"], department=row["department"],
                   date=datetime.date.fromisoformat(row["day"]), half=row["half"],
                   expert=expert, exam=row["exam"], capacity=row["capacity"],
                   booked=row["booked"], fee=yuan(row["fee_cents"]))


def to_booking(row: sqlite3.Row) -> Booking:
    return Booking(ticket=row["ticket"], card=row["card"], kind=row["kind"],
                   department=row["department"], date=datetime.date.fromisoformat(row["day"]),
                   half=row["half"], expert=row["expert_name"], exam=row["exam"],
                   fee=yuan(row["fee_cents"]), balance_after=yuan(row["balance_after_cents"]),
                   created_at=row["created_at"])


def to_ledger(row: sqlite3.Row) -> LedgerEntry:
    return LedgerEntry(card=row["card"], at=row["at"], amount=yuan(row["amount_cents"]),
                       balance_after=yuan(row["balance_after_cents"]), reason=row["reason"],
                       ticket=row["ticket"], note=row["note"])
