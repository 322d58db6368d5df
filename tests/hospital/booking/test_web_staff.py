"""The staff roster page (/staff/roster) in headless chromium: log in with the staff password
or the admin token, add, edit and remove expert sessions, see the service's refusals, and see
a change on the patient page at once."""

from __future__ import annotations

import datetime

import pytest
from playwright.async_api import Browser, Page

from tests.hospital.booking.web_harness import (
    STAFF_PASSWORD,
    Hospital,
    log_in,
    new_page,
)

# One chromium for the module (starting it is the slow part), a new switch and browser
# context (own cookies) for each test (fixtures `browser` and `hospital` in conftest.py);
# all on the module's event loop. Each test may take longer than the suite's default on a
# loaded machine.
pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.timeout(300)]



async def staff_login(page: Page, password: str) -> None:
    await page.goto("/staff/roster")
    await page.get_by_label("Password").fill(password)
    await page.get_by_role("button", name="Log in").click()


async def open_day(page: Page, day: datetime.date) -> None:
    await page.get_by_label("Date").fill(day.isoformat())
    await page.locator("form.choose").get_by_label("Department").select_option("ent")
    await page.get_by_role("button", name="Show").click()


async def message(page: Page, role: str) -> str:
    return (await page.locator(f"[role={role}]").inner_text()).strip()


async def test_staff_adds_a_session_and_the_patient_page_offers_it(
        hospital: Hospital, browser: Browser) -> None:
    staff = await new_page(browser, hospital.url)
    await staff_login(staff, "not-the-password")
    assert await message(staff, "alert") == "Wrong staff password."
    await staff_login(staff, STAFF_PASSWORD)
    tomorrow = hospital.today + datetime.timedelta(days=1)
    await open_day(staff, tomorrow)
    assert await staff.locator("#roster tbody tr[data-session]").count() == 2

    add = staff.locator("#add-session")
    await add.get_by_label("Half-day").select_option("morning")
    await add.get_by_label("Expert").select_option(label="赵云, professor")
    await add.get_by_label("Capacity").fill("3")
    await add.get_by_label("Fee (¥)").fill("80")
    await add.get_by_role("button", name="Add session").click()
    assert await message(staff, "status") == "Session added."
    assert await staff.locator("#roster tbody tr[data-session]").count() == 3

    patient = await new_page(browser, hospital.url)
    await log_in(patient, "/book", "10003", "333333")
    await patient.goto(f"/book/choose?kind=expert&place=ent&day={tomorrow.isoformat()}")
    row = patient.locator("#sessions tbody tr", has_text="赵云")
    assert "Morning" in await row.inner_text()
    assert "¥80.00" in await row.inner_text()
    assert (await row.locator(".left").inner_text()).strip() == "3"


async def test_staff_edits_capacity_and_fee_and_sees_refusals(
        hospital: Hospital, browser: Browser) -> None:
    await hospital.service.book("10003", hospital.last_place.id, channel="phone")
    staff = await new_page(browser, hospital.url)
    await staff_login(staff, hospital.switch.admin_token)  # the admin token works too
    await open_day(staff, hospital.today + datetime.timedelta(days=1))

    booked = staff.locator(f"tr[data-session='{hospital.last_place.id}']")
    await booked.get_by_label("Capacity").fill("0")
    await booked.get_by_role("button", name="Save").click()
    assert await message(staff, "alert") == "1 place(s) already booked; the capacity cannot be 0"
    await booked.get_by_role("button", name="Remove").click()
    assert "booking" in await message(staff, "alert")  # a booked session stays

    row = staff.locator(f"tr[data-session='{hospital.expert.id}']")
    await row.get_by_label("Capacity").fill("12")
    await row.get_by_label("Fee").fill("12.345")
    await row.get_by_role("button", name="Save").click()
    assert await message(staff, "alert") == "Fee has more than two decimal places"
    await row.get_by_label("Capacity").fill("12")
    await row.get_by_label("Fee").fill("65.5")
    await row.get_by_role("button", name="Save").click()
    assert await message(staff, "status") == "Session saved."
    changed = await hospital.service.session(hospital.expert.id)
    assert (changed.capacity, str(changed.fee)) == (12, "65.50")
    patient = await new_page(browser, hospital.url)  # the patient page sees it at once
    await log_in(patient, "/book", "10001", "123456")
    await patient.goto(f"/book/confirm?session={hospital.expert.id}")
    assert (await patient.locator("#fee").inner_text()).strip() == "¥65.50"

    await row.get_by_role("button", name="Remove").click()
    assert await message(staff, "status") == "Session removed."
    assert await hospital.service.session(hospital.expert.id) is None


async def test_roster_needs_a_staff_login_and_a_form_token(
        hospital: Hospital, browser: Browser) -> None:
    page = await new_page(browser, hospital.url)
    anonymous = await page.request.post("/staff/roster/remove", form={
        "session": str(hospital.expert.id), "day": hospital.today.isoformat(),
        "department": "ent"})
    assert anonymous.status == 401 and "log in" in await anonymous.text()
    await staff_login(page, STAFF_PASSWORD)
    forged = await page.request.post("/staff/roster/remove", form={
        "session": str(hospital.expert.id), "day": hospital.today.isoformat(),
        "department": "ent"})
    assert forged.status == 400 and "This form has expired" in await forged.text()
    assert await hospital.service.session(hospital.expert.id) is not None
    opened = await page.goto("/staff/roster/add")  # a form's address opened by hand
    assert opened is not None and opened.status == 200 and page.url.endswith("/staff/roster")
    response = await page.goto("/staff/roster?day=yesterday&department=ent")
    assert response is not None and response.status == 400
    assert await message(page, "alert") == "Date must be a date such as 2026-03-01"


async def test_staff_moves_an_unbooked_session_to_another_expert_and_half_day(
        hospital: Hospital, browser: Browser) -> None:
    staff = await new_page(browser, hospital.url)
    await staff_login(staff, STAFF_PASSWORD)
    tomorrow = hospital.today + datetime.timedelta(days=1)
    await open_day(staff, tomorrow)
    row = staff.locator(f"tr[data-session='{hospital.expert.id}']")
    await row.get_by_label("Expert").select_option(label="赵云, professor")
    await row.get_by_label("Half-day").select_option("morning")
    await row.get_by_role("button", name="Save").click()
    assert await message(staff, "status") == "Session saved."
    roster = await hospital.service.sessions(kind="expert", department="ent", on=tomorrow)
    assert sorted((s.expert.name, s.half, s.capacity, str(s.fee)) for s in roster) == [
        ("李敏", "morning", 1, "30.00"), ("赵云", "morning", 5, "50.00")]

    # Onto a row that exists already: refused, nothing changes.
    moved = next(s for s in roster if s.expert.name == "赵云")
    row = staff.locator(f"tr[data-session='{moved.id}']")
    await row.get_by_label("Expert").select_option(label="李敏, associate professor")
    await row.get_by_role("button", name="Save").click()
    assert await message(staff, "alert") == "李敏 is already on the roster that morning"
    again = await hospital.service.sessions(kind="expert", department="ent", on=tomorrow)
    assert sorted(s.id for s in again) == sorted(s.id for s in roster)


async def test_guessing_the_staff_password_blocks_that_computer(
        hospital: Hospital, browser: Browser) -> None:
    page = await new_page(browser, hospital.url)
    for attempt in range(5):
        await staff_login(page, f"guess-{attempt}")
        assert await message(page, "alert") == "Wrong staff password."
    await staff_login(page, STAFF_PASSWORD)  # even the right one, for a while
    assert await message(page, "alert") == ("Too many wrong tries from this device. Please "
                                            "wait 15 minutes or ask at the registration desk.")
    assert await page.locator("#roster").count() == 0


async def test_staff_sets_general_clinic_sessions_of_a_department(
        hospital: Hospital, browser: Browser) -> None:
    staff = await new_page(browser, hospital.url)
    await staff_login(staff, STAFF_PASSWORD)
    await staff.get_by_role("link", name="General clinic").click()
    await open_day(staff, hospital.today)
    rows = staff.locator("#roster tbody tr[data-session]")
    assert await rows.count() == 1  # the afternoon clinic
    add = staff.locator("#add-session")
    assert await add.get_by_label("Fee (¥)").input_value() == "10.00"  # the department's fee
    await add.get_by_label("Half-day").select_option("afternoon")
    await add.get_by_role("button", name="Add session").click()
    assert await message(staff, "alert") == \
        "The general clinic is already on the roster that afternoon; edit that session instead"
    await add.get_by_label("Half-day").select_option("morning")
    await add.get_by_label("Capacity").fill("40")
    await add.get_by_role("button", name="Add session").click()
    assert await message(staff, "status") == "Session added."
    assert await rows.count() == 2
    general = await hospital.service.sessions(kind="general", department="ent",
                                              on=hospital.today)
    assert sorted((s.half, s.capacity, str(s.fee)) for s in general) == [
        ("afternoon", 20, "10.00"), ("morning", 40, "10.00")]
