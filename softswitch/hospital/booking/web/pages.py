"""All booking pages on one router, mounted at the root of the switch's HTTP server (outside
/api: patients and staff log in with their own credentials, not the admin token)."""

from __future__ import annotations

import datetime
from collections.abc import Callable, Sequence
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response

from softswitch.hospital.booking.web.context import PageContext
from softswitch.hospital.booking.web.kiosk import kiosk_router
from softswitch.hospital.booking.web.logins import LoginGuard
from softswitch.hospital.booking.web.patient import patient_router
from softswitch.hospital.booking.web.render import Renderer
from softswitch.hospital.booking.web.sessions import Sessions
from softswitch.hospital.booking.web.staff import staff_router

__all__ = ["booking_pages"]


def booking_pages(service: Any, *, secret: str, staff_passwords: Sequence[str],
                  today: Callable[[], datetime.date]) -> APIRouter:
    """/book, /kiosk, /staff/roster and /static/booking.css over one BookingService.

    `secret` signs the session cookies and CSRF tokens (keep it across restarts so sessions
    survive); `staff_passwords` log staff in; `today` is the hospital's local date."""
    ctx = PageContext(service=service, sessions=Sessions(secret), renderer=Renderer(),
                      today=today,
                      card_guard=LoginGuard(max_failures=30, window=600.0),
                      staff_guard=LoginGuard(max_failures=5, window=300.0))
    router = APIRouter(include_in_schema=False)

    @router.get("/static/booking.css")
    async def stylesheet() -> Response:
        return ctx.renderer.stylesheet()

    router.include_router(patient_router(ctx))
    router.include_router(kiosk_router(ctx))
    router.include_router(staff_router(ctx, staff_passwords))
    return router
