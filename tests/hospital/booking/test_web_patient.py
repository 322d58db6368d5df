"""The patient page (/book) in headless chromium against a real switch."""

from __future__ import annotations

import datetime
from decimal import Decimal

import httpx
import pytest
from playwright.async_api import Browser, Page

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



async def alert(page: Page) -> str:
    return (await page.locator("[role=alert]").inner_text()).strip()


async def choose_expert_day(page: Page, day: datetime.date) -> None:
    await page.goto("/book")
    await page.get_by_role("link", name="Book an appointment").click()
    await page.get_by_role("link", name="Expert clinic").click()
    await page.get_by_label("Department").select_option("ent")
    await page.get_by_label("Day").select_option(day.isoformat())
    await page.get_by_role("button", name="Show sessions").click()


async def test_patient_books_an_expert_and_sees_ticket_balance_and_appointment(
        hospital: Hospital, browser: Browser) -> None:
    page = await new_page(browser, hospital.url)
    await log_in(page, "/book", "10001", "123456")
    assert "¥100.00" in await page.locator("#balance").inner_text()
    assert "No appointments yet" in await page.locator("#appointments").inner_text()

    await choose_expert_day(page, hospital.today + datetime.timedelta(days=1))
    row = page.locator(f"tr[data-session='{hospital.expert.id}']")
    assert "王建国" in await row.locator(".expert").inner_text()
    assert "¥50.00" in await row.inner_text()
    assert (await row.locator(".left").inner_text()).strip() == "5"
    await row.get_by_role("button", name="Choose").click()

    assert (await page.locator("#fee").inner_text()).strip() == "¥50.00"
    await page.get_by_role("button", name="Book and pay ¥50.00").click()

    ticket = (await page.locator(".ticket-number").inner_text()).strip()
    assert ticket
    assert (await page.locator("#balance-after").inner_text()).strip() == "¥50.00"
    assert "王建国" in await page.locator(".ticket .expert").inner_text()

    await page.get_by_role("link", name="My appointments").click()
    assert ticket in await page.locator("#appointments").inner_text()
    assert "¥50.00" in await page.locator("#balance").inner_text()

    async with httpx.AsyncClient(base_url=hospital.url, timeout=10, headers={
            "Authorization": f"Bearer {hospital.switch.admin_token}"}) as api:
        listed = await api.get("/api/appointments", params={"card": "10001"})
    assert listed.status_code == 200
    assert listed.json() == [{
        "card": "10001", "kind": "expert", "department": "ent",
        "date": (hospital.today + datetime.timedelta(days=1)).isoformat(),
        "session": "afternoon", "expert": "王建国", "ticket": ticket, "fee": "50.00"}]
    assert (await hospital.service.card("10001")).balance == Decimal("50.00")


async def test_wrong_pin_is_refused_on_the_page_and_locks_the_card(
        hospital: Hospital, browser: Browser) -> None:
    page = await new_page(browser, hospital.url)
    await log_in(page, "/book", "10001", "999999")
    assert await alert(page) == "The card number or PIN is wrong."
    await log_in(page, "/book", "55555", "123456")  # unknown card: the same words
    assert await alert(page) == "The card number or PIN is wrong."
    for _ in range(hospital.service.max_pin_failures):
        await log_in(page, "/book", "10001", "999999")
    await log_in(page, "/book", "10001", "123456")  # even the right PIN, while locked
    assert "Too many wrong PINs" in await alert(page)
    assert await page.locator("#balance").count() == 0


async def test_insufficient_balance_is_shown_and_nothing_is_charged(
        hospital: Hospital, browser: Browser) -> None:
    page = await new_page(browser, hospital.url)
    await log_in(page, "/book", "10002", "222222")
    await choose_expert_day(page, hospital.today + datetime.timedelta(days=1))
    await page.locator(f"tr[data-session='{hospital.expert.id}']").get_by_role(
        "button", name="Choose").click()
    await page.get_by_role("button", name="Book and pay ¥50.00").click()
    assert await alert(page) == "The balance on the card is not enough for this fee."
    assert await hospital.service.appointments("10002") == []
    assert (await hospital.service.card("10002")).balance == Decimal("5.00")


async def test_last_place_taken_meanwhile_shows_full_then_the_session_is_marked_full(
        hospital: Hospital, browser: Browser) -> None:
    page = await new_page(browser, hospital.url)
    await log_in(page, "/book", "10001", "123456")
    await choose_expert_day(page, hospital.today + datetime.timedelta(days=1))
    await page.locator(f"tr[data-session='{hospital.last_place.id}']").get_by_role(
        "button", name="Choose").click()
    # Another patient (on the phone) takes the last place while this one reads the fee.
    await hospital.service.book("10003", hospital.last_place.id, channel="phone")
    await page.get_by_role("button", name="Book and pay ¥30.00").click()
    assert await alert(page) == "This session is fully booked."
    assert await hospital.service.appointments("10001") == []

    await choose_expert_day(page, hospital.today + datetime.timedelta(days=1))
    row = page.locator(f"tr[data-session='{hospital.last_place.id}']")
    assert (await row.locator(".full").inner_text()).strip() == "Full"
    assert await row.get_by_role("button", name="Choose").count() == 0


async def test_booking_the_same_session_twice_is_refused(
        hospital: Hospital, browser: Browser) -> None:
    page = await new_page(browser, hospital.url)
    await log_in(page, "/book", "10003", "333333")
    await page.goto(f"/book/confirm?session={hospital.general.id}")
    await page.get_by_role("button", name="Book and pay ¥10.00").click()
    assert await page.locator(".ticket-number").count() == 1
    await page.goto(f"/book/confirm?session={hospital.general.id}")
    await page.get_by_role("button", name="Book and pay ¥10.00").click()
    assert await alert(page) == "This card already has a booking for this session."
    assert len(await hospital.service.appointments("10003")) == 1


MALFORMED = [
    ("/book/choose?kind=surgery", "Clinic type must be one of: general, expert, exam"),
    ("/book/choose?kind=expert&place=nowhere", "Department or examination must be one of"),
    ("/book/choose?kind=expert&place=ent&day=31-02-2026", "Day must be a date"),
    ("/book/choose?kind=expert&place=ent&day=1999-01-01", "Day must be between"),
    ("/book/confirm?session=abc", "Session must be a whole number"),
    ("/book/confirm?session=987654", "That session is no longer offered"),
    ("/book/ticket/NOPE", "No such ticket on this card."),
]


async def test_malformed_queries_get_a_message_not_an_error_page(
        hospital: Hospital, browser: Browser) -> None:
    page = await new_page(browser, hospital.url)
    await log_in(page, "/book", "10001", "123456")
    for path, message in MALFORMED:
        response = await page.goto(path)
        assert response is not None and 400 <= response.status < 500, path
        assert message in await alert(page), path


async def test_forged_or_malformed_posts_are_refused_with_a_message(
        hospital: Hospital, browser: Browser) -> None:
    page = await new_page(browser, hospital.url)
    await log_in(page, "/book", "10001", "123456")
    # No CSRF token (what a form on another site would send): refused, nothing booked.
    forged = await page.request.post("/book/confirm", form={"session": str(hospital.expert.id)})
    assert forged.status == 400 and "This form has expired" in await forged.text()
    garbage = await page.request.post("/book/confirm", data=b"\xff\x00=&&==%zz",
                                      headers={"content-type": "application/json"})
    assert garbage.status == 400 and "not sent as a web form" in await garbage.text()
    assert await hospital.service.appointments("10001") == []
    # Letters in the card number: the page says so and keeps what was typed.
    fresh = await new_page(browser, hospital.url)
    await log_in(fresh, "/book", "12ab", "123456")
    assert await alert(fresh) == "Card number must contain digits only"
    assert await fresh.get_by_label("Card number").input_value() == "12ab"


async def test_logout_ends_the_session(hospital: Hospital, browser: Browser) -> None:
    page = await new_page(browser, hospital.url)
    await log_in(page, "/book", "10001", "123456")
    cookies = {c["name"]: c for c in await page.context.cookies()}
    assert cookies["ss_patient"]["httpOnly"] is True
    await page.get_by_role("button", name="Log out").click()
    assert await page.get_by_label("PIN").count() == 1
    response = await page.goto("/book/choose?kind=expert")
    assert response is not None and page.url.endswith("/book")
    for target in ("/book/login", "/book/logout"):  # a form's address opened by hand
        response = await page.goto(target)
        assert response is not None and response.status == 200 and page.url.endswith("/book")


async def test_patient_books_an_examination_and_a_general_clinic(
        hospital: Hospital, browser: Browser) -> None:
    page = await new_page(browser, hospital.url)
    await log_in(page, "/book", "10003", "333333")
    await page.get_by_role("link", name="Book an appointment").click()
    await page.get_by_role("link", name="Examination").click()
    await page.get_by_label("Examination").select_option("ultrasound")
    await page.get_by_label("Day").select_option(
        (hospital.today + datetime.timedelta(days=1)).isoformat())
    await page.get_by_role("button", name="Show sessions").click()
    await page.locator("#sessions").get_by_role("button", name="Choose").click()
    await page.get_by_role("button", name="Book and pay ¥120.00").click()
    assert (await page.locator(".ticket .exam").inner_text()).strip() == "Ultrasound"
    assert (await page.locator("#balance-after").inner_text()).strip() == "¥380.00"

    await page.goto("/book/choose?kind=general")
    await page.get_by_label("Department").select_option("ent")
    await page.get_by_label("Day").select_option(hospital.today.isoformat())
    await page.get_by_role("button", name="Show sessions").click()
    row = page.locator(f"tr[data-session='{hospital.general.id}']")
    assert "Afternoon" in await row.inner_text() and "¥10.00" in await row.inner_text()
    await row.get_by_role("button", name="Choose").click()
    await page.get_by_role("button", name="Book and pay ¥10.00").click()
    assert (await page.locator("#balance-after").inner_text()).strip() == "¥370.00"

    await page.goto("/book")
    listed = await page.locator("#appointments tbody tr").all_inner_texts()
    assert len(listed) == 2
    assert "General clinic" in listed[0] and "Examination" in listed[1]
    kinds = sorted(b.kind for b in await hospital.service.appointments("10003"))
    assert kinds == ["exam", "general"]


async def test_the_pages_speak_chinese_after_the_language_link(
        hospital: Hospital, browser: Browser) -> None:
    page = await new_page(browser, hospital.url)
    await page.goto("/book")
    await page.get_by_role("link", name="中文").click()
    assert await page.locator("html").get_attribute("lang") == "zh-CN"
    await page.get_by_label("就诊卡号").fill("10002")
    await page.get_by_label("密码").fill("000000")
    await page.get_by_role("button", name="登录").click()
    assert await alert(page) == "卡号或密码错误。"
    await page.get_by_label("就诊卡号").fill("10002")
    await page.get_by_label("密码").fill("222222")
    await page.get_by_role("button", name="登录").click()

    await page.get_by_role("link", name="预约挂号").click()
    await page.get_by_role("link", name="专家门诊").click()
    assert "耳鼻喉科" in await page.get_by_label("科室").inner_text()
    tomorrow = hospital.today + datetime.timedelta(days=1)
    await page.get_by_label("科室").select_option("ent")
    await page.get_by_label("日期").select_option(tomorrow.isoformat())
    await page.get_by_role("button", name="查看号源").click()
    row = page.locator(f"tr[data-session='{hospital.expert.id}']")
    assert "下午" in await row.inner_text()
    await row.get_by_role("button", name="选择").click()
    await page.get_by_role("button", name="确认预约并支付 ¥50.00").click()
    assert await alert(page) == "卡内余额不足以支付该费用。"

    await page.get_by_role("link", name="English").click()
    assert "The balance on the card is not enough" not in await page.content()
    assert await page.get_by_role("link", name="My appointments").count() == 1
