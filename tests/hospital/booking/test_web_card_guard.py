"""README: "30 wrong card/PIN logins from one computer make it wait 15 minutes" — over HTTP
(httpx) against the running switch's booking pages; the kiosk shares the patients' guard."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.hospital.booking.web_harness import Hospital

pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.timeout(300)]

TOO_MANY = "Too many wrong tries from this device."


async def try_card(http: httpx.AsyncClient, page: str, card: str, pin: str) -> httpx.Response:
    """Open the login page (its CSRF token and cookie) and post card + PIN, as a browser."""
    form = await http.get(page)
    assert form.status_code == 200, form.text
    match = re.search(r'name="csrf" value="([0-9a-f]+)"', form.text)
    assert match is not None, "no CSRF token on the login page"
    return await http.post(f"{page}/login", data={"csrf": match.group(1), "card": card,
                                                   "pin": pin})


async def test_thirty_wrong_card_logins_block_that_computer(hospital: Hospital) -> None:
    async with httpx.AsyncClient(base_url=hospital.url, timeout=30) as http:
        for attempt in range(30):  # unknown cards: no card gets locked, only the computer
            wrong = await try_card(http, "/book", f"9{attempt:04d}", "123456")
            assert wrong.status_code == 403, (attempt, wrong.status_code)
            assert TOO_MANY not in wrong.text
        blocked = await try_card(http, "/book", "10001", "123456")  # even the right PIN
        assert blocked.status_code == 429
        assert TOO_MANY in blocked.text
        kiosk = await try_card(http, "/kiosk", "10001", "123456")
        assert kiosk.status_code == 429 and TOO_MANY in kiosk.text
    # the card itself was never locked: from another computer it logs in
    card = await hospital.service.verify_card("10001", "123456", source="web")
    assert card.number == "10001"
