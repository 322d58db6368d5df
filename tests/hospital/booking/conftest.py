"""A booking service over a fresh database, "today" fixed by a clock the test moves, and a
small catalogue: one department, one expert, one exam type, sessions today."""

from __future__ import annotations

import datetime
from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
import pytest_asyncio
from playwright.async_api import Browser

from softswitch.hospital.booking import BookingService, Session
from softswitch.store import Database, open_database
from tests.hospital.booking.web_harness import Hospital, chromium, hospital_switch

TODAY = datetime.date(2026, 11, 26)


class FakeClock:
    """Callable clock: ``clock()`` returns ``clock.now`` (local 09:00 on TODAY at first)."""

    def __init__(self) -> None:
        self.now = datetime.datetime.combine(TODAY, datetime.time(9, 0)).timestamp()

    def __call__(self) -> float:
        return self.now


@dataclass
class Clinic:
    service: BookingService
    clock: FakeClock
    general: Session
    expert: Session
    exam: Session


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await open_database(tmp_path / "data")
    yield database
    await database.close()


@pytest.fixture
async def clinic(db: Database, clock: FakeClock) -> Clinic:
    service = BookingService(db, clock=clock)
    await service.set_department("ent", digit="3", name_zh="耳鼻喉科", name_en="ENT",
                                 general_fee="10.00")
    expert = await service.add_expert("王建国", "ent", "chief physician")
    await service.set_exam_type("ultrasound", digit="1", name_zh="B超", name_en="ultrasound",
                                fee="120")
    general = await service.set_session(kind="general", department="ent", on=TODAY,
                                        half="morning", capacity=30)
    expert_session = await service.set_session(kind="expert", expert_id=expert.id, on=TODAY,
                                               half="afternoon", capacity=5, fee="50.00")
    exam = await service.set_session(kind="exam", exam="ultrasound", on=TODAY, half="morning",
                                     capacity=10)
    await service.add_card("10001", "123456", "张三", phones=["13800000001"],
                           insurance="urban-employee", balance=Decimal("100.00"))
    return Clinic(service, clock, general, expert_session, exam)


# The browser pages (test_web_kiosk, test_web_patient, test_web_staff): one chromium per
# module, a fresh switch per test, both on the module's event loop (those modules mark
# their tests loop_scope="module"). test_phone_flow defines its own `hospital`.
@pytest_asyncio.fixture(loop_scope="module")
async def hospital(tmp_path: Path) -> AsyncIterator[Hospital]:
    async with hospital_switch(tmp_path) as running:
        yield running


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def browser() -> AsyncIterator[Browser]:
    async with chromium() as running:
        yield running
