"""Browser tests of the booking pages: a real switch in-process on free loopback ports with a
small hospital in its booking service, and headless Debian chromium driven by Playwright.

A missing chromium FAILS (it is installed by `make setup`); every wait has a timeout and the
browser is always closed.
"""

from __future__ import annotations

import datetime
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, async_playwright

from softswitch.app import Switch
from softswitch.config import Config, HttpConfig, SipConfig
from softswitch.hospital.booking import BookingService, Session

__all__ = [
    "CHROMIUM", "STAFF_PASSWORD", "Hospital", "chromium", "hospital_switch", "log_in", "new_page",
]

CHROMIUM = os.environ.get("SOFTSWITCH_CHROMIUM", "/usr/bin/chromium")
STAFF_PASSWORD = "roster-desk-7"
# Generous: two cores are shared by a whole team, and a page load has been seen to take 20 s.
WAIT_MS = 45_000
NAVIGATION_MS = 60_000


@dataclass
class Hospital:
    """The switch, its base URL and the sessions the tests book."""

    switch: Switch
    url: str
    today: datetime.date
    expert: Session  # 王建国, ENT, tomorrow afternoon, 5 places, 50 yuan
    last_place: Session  # 李敏, ENT, tomorrow morning, 1 place, 30 yuan
    general: Session  # ENT general clinic today afternoon, 10 yuan

    @property
    def service(self) -> BookingService:
        assert self.switch.booking is not None
        return self.switch.booking


async def _seed(service: BookingService) -> tuple[Session, Session, Session]:
    today = service.today()
    tomorrow = today + datetime.timedelta(days=1)
    await service.set_department("im", digit="1", name_zh="内科", name_en="Internal medicine",
                                 general_fee="8.00")
    await service.set_department("ent", digit="3", name_zh="耳鼻喉科", name_en="ENT",
                                 general_fee="10.00")
    wang = await service.add_expert("王建国", "ent", "chief physician")
    li = await service.add_expert("李敏", "ent", "associate professor")
    await service.add_expert("赵云", "ent", "professor")
    await service.set_exam_type("ultrasound", digit="1", name_zh="B超", name_en="Ultrasound",
                                fee="120")
    expert = await service.set_session(kind="expert", expert_id=wang.id, on=tomorrow,
                                       half="afternoon", capacity=5, fee="50.00")
    last = await service.set_session(kind="expert", expert_id=li.id, on=tomorrow,
                                     half="morning", capacity=1, fee="30.00")
    general = await service.set_session(kind="general", department="ent", on=today,
                                        half="afternoon", capacity=20)
    await service.set_session(kind="exam", exam="ultrasound", on=tomorrow, half="morning",
                              capacity=10)
    await service.add_card("10001", "123456", "张三", phones=["13800000001"],
                           balance=Decimal("100.00"))
    await service.add_card("10002", "222222", "李四", balance=Decimal("5.00"))
    await service.add_card("10003", "333333", "王五", balance=Decimal("500.00"))
    return expert, last, general


@asynccontextmanager
async def hospital_switch(tmp_path: Path) -> AsyncIterator[Hospital]:
    """A started switch (free ports, fresh data, staff password set) with the small hospital."""
    config = Config(
        sip=SipConfig(host="127.0.0.1", port=0, ipv6=False),
        http=HttpConfig(host="127.0.0.1", port=0, staff_password=STAFF_PASSWORD),
        data_dir=tmp_path / "data",
    )
    switch = Switch(config)
    await switch.start()
    try:
        assert switch.booking is not None
        expert, last, general = await _seed(switch.booking)
        yield Hospital(switch, f"http://127.0.0.1:{switch.http_port}", switch.booking.today(),
                       expert, last, general)
    finally:
        await switch.stop()


@asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    """Headless Debian chromium; FAILS the test when it is not installed."""
    if not Path(CHROMIUM).is_file():
        pytest.fail(f"chromium not found at {CHROMIUM}: run `make setup` (Debian package "
                    "chromium)")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                                   timeout=60_000)
        try:
            yield browser
        finally:
            await browser.close()


async def new_page(browser: Browser, base_url: str, *, locale: str = "en-US") -> Page:
    """A page in its own context (own cookies, browser language) with bounded waits."""
    context = await browser.new_context(base_url=base_url, locale=locale)
    context.set_default_timeout(WAIT_MS)
    context.set_default_navigation_timeout(NAVIGATION_MS)
    return await context.new_page()


async def log_in(page: Page, path: str, card: str, pin: str) -> None:
    """Fill the card + PIN form of /book or /kiosk and submit it."""
    await page.goto(path)
    await page.get_by_label("Card number").fill(card)
    await page.get_by_label("PIN").fill(pin)
    await page.locator("form.card-login button[type=submit]").click()
    await page.wait_for_load_state()
