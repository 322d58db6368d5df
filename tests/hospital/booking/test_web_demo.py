"""`softswitch run --demo` as a real process: a newcomer books on /book with a demo card and
finds the ticket on /kiosk, in headless chromium."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.hospital.booking.web_harness import chromium, log_in, new_page
from tests.process import SwitchProcess


@pytest.mark.timeout(300)
async def test_the_demo_hospital_books_on_the_web_and_the_kiosk_shows_the_ticket(
        tmp_path: Path) -> None:
    process = SwitchProcess(tmp_path / "data", "--demo")
    await asyncio.to_thread(process.start, 60)
    try:
        async with chromium() as browser:
            url = f"http://127.0.0.1:{process.http_port}"
            page = await new_page(browser, url)
            await log_in(page, "/book", "10001", "123456")  # the README's demo card
            await page.get_by_role("link", name="Book an appointment").click()
            await page.get_by_role("link", name="Expert clinic").click()
            await page.get_by_label("Department").select_option("ent")
            await page.get_by_role("button", name="Show sessions").click()
            await page.locator("#sessions").get_by_role("button", name="Choose").first.click()
            await page.locator("form[action='/book/confirm'] button").click()
            ticket = (await page.locator(".ticket-number").inner_text()).strip()
            assert ticket

            kiosk = await new_page(browser, url)
            await log_in(kiosk, "/kiosk", "10001", "123456")
            assert await kiosk.locator(f"tr[data-ticket='{ticket}']").count() == 1
    finally:
        await asyncio.to_thread(process.stop)
        if process.proc is not None and process.proc.stdout is not None:
            process.proc.stdout.close()
    assert process.proc is not None and process.proc.returncode == 0
