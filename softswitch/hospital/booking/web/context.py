"""What every booking page needs: the service, sessions, templates and the hospital's today."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse

from softswitch.hospital.booking.web.render import Renderer
from softswitch.hospital.booking.web.sessions import Sessions

__all__ = ["PageContext", "redirect"]

# How far ahead patients may look and book, in days including today.
BOOKING_DAYS = 7


def redirect(url: str) -> RedirectResponse:
    """POST-redirect-GET: a reload never posts a form twice."""
    return RedirectResponse(url, status_code=303)


@dataclass
class PageContext:
    service: Any  # softswitch.hospital.booking.BookingService (duck-typed: tests may fake it)
    sessions: Sessions
    renderer: Renderer
    today: Callable[[], datetime.date]

    def page(self, request: Request, name: str, status_code: int = 200,
             **context: Any) -> HTMLResponse:
        """Render with a CSRF token for this browser, keeping its seed cookie."""
        seed = self.sessions.csrf_seed(request)
        response = self.renderer.page(name, status_code, csrf=self.sessions.csrf_token(seed),
                                      **context)
        self.sessions.keep_seed(response, seed)
        return response

    def days(self) -> list[datetime.date]:
        start = self.today()
        return [start + datetime.timedelta(days=n) for n in range(BOOKING_DAYS)]

    async def department_names(self) -> dict[str, str]:
        """Code -> English name for departments and exam types (exam sessions carry the exam
        type's code as their department)."""
        names = {d.code: d.name_en for d in await self.service.departments()}
        names.update({e.code: e.name_en for e in await self.service.exam_types()})
        return names
