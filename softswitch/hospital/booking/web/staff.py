"""The staff page, /staff/roster: the daily expert roster of one department (and, on its
second tab, the department's general clinic sessions).

Staff log in with the staff password (`[http] staff_password` in the config file) or the admin
token (DATA/admin-token). Adding, editing and removing a session go through the booking service,
whose refusals (capacity below what is already booked, an unknown expert...) are shown on the
page; the patient page and the phone line see a change at once.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from softswitch.hospital.booking import HALVES, BookingError
from softswitch.hospital.booking.web.context import PageContext, redirect
from softswitch.hospital.booking.web.forms import (
    FormError,
    choice,
    integer,
    iso_date,
    money,
    read_form,
    text,
)
from softswitch.hospital.booking.web.guard import GuardedRoute
from softswitch.hospital.booking.web.logins import TooManyTries, staff_login
from softswitch.hospital.booking.web.sessions import CsrfError, SessionKind

__all__ = ["STAFF", "staff_router"]

STAFF = SessionKind(cookie="ss_staff", path="/staff", max_age=30 * 60)
_MAX_CAPACITY = 999
ROSTER_KINDS = ("expert", "general")


def staff_router(ctx: PageContext, passwords: Sequence[str]) -> APIRouter:
    """`passwords`: the secrets that log staff in (admin token, configured staff password)."""
    router = APIRouter(prefix="/staff", include_in_schema=False, route_class=GuardedRoute)
    accepted = tuple(p.encode() for p in passwords if p)

    def logged_in(request: Request) -> bool:
        data = ctx.sessions.read(request, STAFF)
        return bool(data and data.get("staff") is True)

    def login_page(request: Request, error: str | BookingError = "",
                   status_code: int = 200) -> Response:
        return ctx.page(request, "staff_login.html", status_code, error=error)

    async def roster_page(request: Request, values: dict[str, str], *,
                          error: str | BookingError = "",
                          notice: str = "", status_code: int = 200) -> Response:
        departments = await ctx.service.departments()
        view: dict[str, Any] = {"departments": departments, "department": None,
                                "day": ctx.today(), "sessions": [], "experts": [],
                                "kind": "expert"}
        try:
            if values.get("kind"):
                view["kind"] = choice(values, "kind", "Clinic", ROSTER_KINDS)
            if values.get("day"):
                view["day"] = iso_date(values, "day", "Date")
            code = values.get("department") or (departments[0].code if departments else "")
            for department in departments:
                if department.code == code:
                    view["department"] = department
            if code and view["department"] is None:
                raise FormError("Department: no such department")
        except FormError as problem:
            error, status_code = error or str(problem), 400
        if view["department"] is not None:
            code = view["department"].code
            view["sessions"] = sorted(
                await ctx.service.sessions(kind=view["kind"], department=code, on=view["day"]),
                key=lambda s: (s.half != "morning", s.expert.name if s.expert else "", s.id))
            view["experts"] = await ctx.service.experts(code)
        return ctx.page(request, "staff_roster.html", status_code, error=error, notice=notice,
                        **view)

    @router.get("")
    async def staff_home() -> Response:
        return redirect("/staff/roster")

    @router.post("/login")
    async def login(request: Request) -> Response:
        try:
            if not await staff_login(accepted, ctx.sessions, ctx.staff_guard, request):
                return login_page(request, "Wrong staff password.", 403)
        except (FormError, CsrfError) as error:
            return login_page(request, str(error), 400)
        except TooManyTries as error:
            return login_page(request, str(error), 429)
        response = redirect("/staff/roster")
        ctx.sessions.start(request, response, STAFF, {"staff": True})
        return response

    @router.get("/login")
    @router.get("/logout")
    @router.get("/roster/{action}")
    async def form_targets() -> Response:
        """A form's address opened by hand: the roster (or its login)."""
        return redirect("/staff/roster")

    @router.post("/logout")
    async def logout() -> Response:
        response = redirect("/staff/roster")
        ctx.sessions.end(response, STAFF)
        return response

    @router.get("/roster")
    async def roster(request: Request) -> Response:
        if not logged_in(request):
            return login_page(request)
        return await roster_page(request, dict(request.query_params),
                                 notice=request.query_params.get("done", "")[:200])

    @router.post("/roster/{action}")
    async def change(request: Request, action: str) -> Response:
        if not logged_in(request):
            return login_page(request, "Your staff session has ended; please log in again.", 401)
        form: dict[str, str] = {}
        try:
            form = await read_form(request)
            ctx.sessions.check_csrf(request, form.get("csrf", ""))
            day = iso_date(form, "day", "Date")
            department = text(form, "department", "Department", max_len=32)
            kind = choice(form, "kind", "Clinic", ROSTER_KINDS)
            done = await _apply(ctx, action, form, day, department, kind)
        except (FormError, CsrfError) as error:
            return await roster_page(request, form, error=str(error), status_code=400)
        except BookingError as error:
            return await roster_page(request, form, error=error, status_code=409)
        query = urlencode({"day": day.isoformat(), "department": department, "kind": kind,
                           "done": done})
        return redirect(f"/staff/roster?{query}")

    return router


async def _apply(ctx: PageContext, action: str, form: dict[str, str], day: datetime.date,
                 department: str, kind: str) -> str:
    """Carry out one roster change; return what to tell the staff member.

    A session is keyed by (expert, half-day) on the expert roster and by the half-day alone
    for the general clinic: changing the key makes it another row."""
    if action == "remove":
        await ctx.service.remove_session(integer(form, "session", "Session", low=1, high=2**62))
        return "Session removed."
    if action not in ("add", "update"):
        raise FormError("Unknown roster action")
    half = choice(form, "half", "Half-day", HALVES)
    capacity = integer(form, "capacity", "Capacity", low=0, high=_MAX_CAPACITY)
    fee = money(form, "fee", "Fee")
    owner: dict[str, Any] = {"department": department}
    who = "The general clinic"
    expert_id = None
    if kind == "expert":
        expert_id = integer(form, "expert", "Expert", low=1, high=2**62)
        expert = await ctx.service.expert(expert_id)
        if expert is None or expert.department != department:
            raise FormError("Expert: not an expert of this department")
        owner, who = {"expert_id": expert_id}, expert.name
    day_sessions = await ctx.service.sessions(kind=kind, department=department, on=day)
    taken = {_key(s): s for s in day_sessions}
    key = (expert_id, half)

    async def put() -> None:
        await ctx.service.set_session(kind=kind, on=day, half=half, capacity=capacity, fee=fee,
                                      **owner)

    if action == "add":
        if key in taken:
            raise FormError(f"{who} is already on the roster that {half}; "
                            "edit that session instead")
        await put()
        return "Session added."
    session_id = integer(form, "session", "Session", low=1, high=2**62)
    current = next((s for s in day_sessions if s.id == session_id), None)
    if current is None:
        raise FormError("That session is no longer on the roster; please reload")
    if _key(current) != key:
        # Another expert or half-day is another row: allowed only while nobody holds a
        # ticket for this one, and not onto a row that exists already.
        if current.booked:
            raise FormError(f"{current.booked} patient(s) booked this session: only its "
                            "capacity and fee can change")
        if key in taken:
            raise FormError(f"{who} is already on the roster that {half}")
        await put()
        await ctx.service.remove_session(current.id)
        return "Session saved."
    await put()
    return "Session saved."


def _key(session: Any) -> tuple[int | None, str]:
    return (session.expert.id if session.expert else None, session.half)
