"""The kiosk page (/kiosk) in headless chromium: card + PIN, the day's tickets, a printable
ticket (checked under the print media type) and back to the start screen."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser

from tests.hospital.booking.web_harness import (
    Hospital,
    log_in,
    new_page,
)

# One chromium for the module (starting it is the slow part), a new switch and browser
# context (own cookies) for each test (fixtures `browser` and `hospital` in conftest.py);
# all on the module's event loop. Each test may take longer than the suite's default on a
# loaded machine.
pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.timeout(300)]



async def test_kiosk_lists_bookings_and_prints_a_ticket_without_page_chrome(
        hospital: Hospital, browser: Browser) -> None:
    today = await hospital.service.book("10001", hospital.general.id, channel="phone")
    later = await hospital.service.book("10001", hospital.expert.id, channel="web")
    page = await new_page(browser, hospital.url)
    await log_in(page, "/kiosk", "10001", "123456")

    rows = page.locator("#bookings tbody tr")
    assert await rows.count() == 2
    assert await rows.nth(0).get_attribute("data-ticket") == today.ticket  # today's first
    assert "Today" in await rows.nth(0).inner_text()
    assert await rows.nth(1).get_attribute("data-ticket") == later.ticket

    await rows.nth(1).get_by_role("link", name="Print").click()
    ticket = page.locator(".ticket")
    assert (await ticket.locator(".ticket-number").inner_text()).strip() == later.ticket
    assert (await ticket.locator(".department").inner_text()).strip() == "ENT"
    assert later.date.isoformat() in await ticket.locator(".date").inner_text()
    assert (await ticket.locator(".half").inner_text()).strip() == "Afternoon"
    assert (await ticket.locator(".expert").inner_text()).strip() == "王建国"
    assert (await ticket.locator(".fee").inner_text()).strip() == "¥50.00"

    screen_size = await ticket.locator(".ticket-number").evaluate(
        "e => parseFloat(getComputedStyle(e).fontSize)")
    await page.emulate_media(media="print")
    assert not await page.locator("header.chrome").is_visible()
    assert not await page.locator("#print").is_visible()
    assert await ticket.is_visible()
    print_size = await ticket.locator(".ticket-number").evaluate(
        "e => parseFloat(getComputedStyle(e).fontSize)")
    assert print_size == 64.0  # 48 pt: the number is read from across the hall
    assert print_size > screen_size
    printed_text = await page.locator("body").inner_text()
    assert "Finish" not in printed_text and "Back" not in printed_text
    await page.emulate_media(media="screen")

    await page.get_by_role("button", name="Finish").click()
    assert page.url.endswith("/kiosk")
    assert await page.get_by_label("PIN").count() == 1
    assert "ss_kiosk" not in {c["name"] for c in await page.context.cookies()}
    await page.goto("/kiosk/tickets")  # the patient is gone: back to the start screen
    assert page.url.endswith("/kiosk")


async def test_kiosk_refuses_a_wrong_pin_and_says_when_there_is_nothing_to_print(
        hospital: Hospital, browser: Browser) -> None:
    page = await new_page(browser, hospital.url)
    await log_in(page, "/kiosk", "10001", "000000")
    assert (await page.locator("[role=alert]").inner_text()).strip() == \
        "The card number or PIN is wrong."
    await log_in(page, "/kiosk", "10002", "222222")
    assert "no bookings for today or later" in await page.locator("main").inner_text()


async def test_kiosk_screen_returns_to_the_start_by_itself(
        hospital: Hospital, browser: Browser) -> None:
    page = await new_page(browser, hospital.url)
    await log_in(page, "/kiosk", "10001", "123456")
    refresh = page.locator("meta[http-equiv=refresh]")
    assert (await refresh.get_attribute("content")).endswith(";url=/kiosk/end")
    await page.goto("/kiosk/end")
    assert page.url.endswith("/kiosk") and await page.get_by_label("PIN").count() == 1


async def test_a_browser_set_to_chinese_gets_the_kiosk_in_chinese(
        hospital: Hospital, browser: Browser) -> None:
    await hospital.service.book("10001", hospital.expert.id, channel="phone")
    page = await new_page(browser, hospital.url, locale="zh-CN")
    await page.goto("/kiosk")
    assert (await page.locator("h1").inner_text()).strip() == "打印挂号单"
    await page.get_by_label("就诊卡号").fill("10001")
    await page.get_by_label("密码").fill("123456")
    await page.get_by_role("button", name="继续").click()
    await page.get_by_role("link", name="打印").click()
    ticket = page.locator(".ticket")
    assert (await ticket.locator(".department").inner_text()).strip() == "耳鼻喉科"
    assert (await ticket.locator(".half").inner_text()).strip() == "下午"
    assert "月" in await ticket.locator(".date").inner_text()
