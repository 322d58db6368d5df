"""The demo hospital's booking data: six departments on the phone menu digits, two experts
each, a 7-day roster from today, general clinics, three exam types with slots, and a few
visit cards (their numbers and PINs are public, in the README).

Loaded by `softswitch run --demo` into an empty data directory only (see softswitch/demo.py);
a database that already has any department or card is left alone.
"""

from __future__ import annotations

import asyncio
import datetime
from dataclasses import dataclass
from decimal import Decimal

from softswitch.hospital.booking.service import BookingService

__all__ = ["DEMO_CARDS", "DEMO_DAYS", "DemoCard", "load_booking_demo"]

DEMO_DAYS = 7


@dataclass(frozen=True)
class DemoCard:
    number: str
    pin: str
    name: str
    phones: tuple[str, ...]
    insurance: str
    balance: Decimal


DEMO_CARDS = (
    DemoCard("10001", "123456", "张三", ("13800000001",), "urban-employee", Decimal("500.00")),
    DemoCard("10002", "654321", "李四", ("13800000002", "13900000002"), "urban-rural-resident",
             Decimal("200.00")),
    DemoCard("10003", "111111", "王五", ("13800000003",), "self-pay", Decimal("5.00")),
    DemoCard("10004", "246810", "赵六", ("13800000004",), "commercial", Decimal("1000.00")),
)

# (code, digit, Chinese, English, general clinic fee)
_DEPARTMENTS = (
    ("internal-medicine", "1", "内科", "Internal medicine", "10.00"),
    ("surgery", "2", "外科", "Surgery", "10.00"),
    ("ent", "3", "耳鼻喉科", "ENT", "8.00"),
    ("paediatrics", "4", "儿科", "Paediatrics", "8.00"),
    ("obstetrics-gynaecology", "5", "妇产科", "Obstetrics & gynaecology", "10.00"),
    ("ophthalmology", "6", "眼科", "Ophthalmology", "8.00"),
)
# Per department: a chief physician in the mornings, an associate in the afternoons.
_EXPERTS = {
    "internal-medicine": ("王建国", "李秀英"),
    "surgery": ("张伟", "刘洋"),
    "ent": ("陈静", "杨帆"),
    "paediatrics": ("赵敏", "黄磊"),
    "obstetrics-gynaecology": ("周丽", "吴芳"),
    "ophthalmology": ("徐明", "孙强"),
}
_CHIEF = ("主任医师", Decimal("50.00"), 10)  # title, fee, capacity
_ASSOCIATE = ("副主任医师", Decimal("30.00"), 15)
# (code, digit, Chinese, English, fee, capacity per half-day)
_EXAMS = (
    ("ultrasound", "1", "B超", "ultrasound", "120.00", 20),
    ("x-ray", "2", "X光", "X-ray", "80.00", 10),
    ("ct", "3", "CT", "CT", "300.00", 5),
)
_GENERAL_CAPACITY = {"morning": 40, "afternoon": 30}


async def load_booking_demo(service: BookingService) -> bool:
    """Load the demo data unless any department or card exists; True if loaded."""
    if await service.departments() or await service.card(DEMO_CARDS[0].number) is not None:
        return False
    for code, digit, name_zh, name_en, fee in _DEPARTMENTS:
        await service.set_department(code, digit=digit, name_zh=name_zh, name_en=name_en,
                                     general_fee=fee)
    for code, digit, name_zh, name_en, fee, _ in _EXAMS:
        await service.set_exam_type(code, digit=digit, name_zh=name_zh, name_en=name_en,
                                    fee=fee)
    shifts = []
    for department, (chief, associate) in _EXPERTS.items():
        for name, (title, fee, capacity), half in ((chief, _CHIEF, "morning"),
                                                   (associate, _ASSOCIATE, "afternoon")):
            expert = await service.add_expert(name, department, title)
            shifts.append((expert.id, half, capacity, fee))
    today = service.today()
    writes = []
    for offset in range(DEMO_DAYS):
        day = today + datetime.timedelta(days=offset)
        for code, *_ in _DEPARTMENTS:
            for half, capacity in _GENERAL_CAPACITY.items():
                writes.append(service.set_session(kind="general", department=code, on=day,
                                                  half=half, capacity=capacity))
        for expert_id, half, capacity, fee in shifts:
            writes.append(service.set_session(kind="expert", expert_id=expert_id, on=day,
                                              half=half, capacity=capacity, fee=fee))
        for code, *_, capacity in _EXAMS:
            for half in _GENERAL_CAPACITY:
                writes.append(service.set_session(kind="exam", exam=code, on=day, half=half,
                                                  capacity=capacity))
    for card in DEMO_CARDS:
        writes.append(service.add_card(card.number, card.pin, card.name, phones=card.phones,
                                       insurance=card.insurance, balance=card.balance))
    await asyncio.gather(*writes)  # concurrent: the store groups them into few commits
    return True
