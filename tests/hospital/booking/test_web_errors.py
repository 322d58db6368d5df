"""A failure the pages did not foresee (here: a booking service whose storage is gone) shows a
polite page with 503 over real HTTP, never a traceback; the API keeps its JSON errors."""

from __future__ import annotations

import datetime
import logging
import re
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from softswitch.hospital.booking.web import booking_pages
from softswitch.web.server import HttpServer
from tests.hospital.booking import web_harness


class BrokenStorage:
    """Every call fails as a full disk or a lost database file would."""

    def __getattr__(self, name: str) -> Any:
        async def fail(*args: Any, **kwargs: Any) -> Any:
            raise OSError(28, "No space left on device")

        return fail


async def test_unexpected_failures_show_a_sorry_page_and_are_logged(
        caplog: pytest.LogCaptureFixture) -> None:
    app = FastAPI()
    app.include_router(booking_pages(BrokenStorage(), secret="s" * 32, staff_passwords=["pw"],
                                     today=lambda: datetime.date(2026, 3, 1)))
    server = HttpServer(app, "127.0.0.1", 0)
    await server.start()
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.port}",
                                     timeout=10) as client:
            start = await client.get("/kiosk")
            csrf = re.search(r'name="csrf" value="(\w+)"', start.text)
            assert start.status_code == 200 and csrf is not None
            with caplog.at_level(logging.ERROR):
                login = await client.post("/kiosk/login", data={
                    "csrf": csrf.group(1), "card": "10001", "pin": "123456"})
    finally:
        await server.stop()
    assert login.status_code == 503
    assert "cannot answer right now" in login.text
    assert "Traceback" not in login.text and "No space left" not in login.text
    assert any("/kiosk/login" in r.getMessage() and r.exc_info for r in caplog.records)


async def test_a_missing_chromium_fails_the_browser_tests(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(web_harness, "CHROMIUM", "/nonexistent/chromium")
    with pytest.raises(pytest.fail.Exception, match="make setup"):
        async with web_harness.chromium():
            pass
