"""The patient page, /book: log in with card + PIN, choose a clinic or exam session, confirm
with the fee shown, book; see the ticket, the new balance and the card's appointments.

Every rule (PIN tries and lockout, balance, capacity, double booking) is the service's: the
page only shows its refusal messages, exactly as the phone flow speaks them.
"""

from __future__ import annotations

import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from softswitch.hospital.booking import KINDS, BookingError
from softswitch.hospital.booking.web.context import LoginRefused, PageContext, redirect
from softswitch.hospital.booking.web.forms import (
    FormError,
    choice,
    integer,
    iso_date,
    read_form,
)
from softswitch.hospital.booking.web.guard import GuardedRoute
from softswitch.hospital.booking.web.sessions import CsrfError, SessionKind

__all__ = ["PATIENT", "patient_router"]

PATIENT = SessionKind(cookie="ss_patient", path="/book", max_age=15 * 60)


def patient_router(ctx: PageContext) -> APIRouter:
    router = APIRouter(prefix="/book", include_in_schema=False, route_class=GuardedRoute)

    async def login_page(request: Request, error: str | BookingError = "", status_code: int = 200,
                         card: str = "") -> HTMLResponse:
        return ctx.page(request, "patient_login.html", status_code, error=error, card=card)

    async def home(request: Request, card_number: str, *, error: str | BookingError = "",
                   status_code: int = 200) -> Response:
        card = await ctx.service.card(card_number)
        if card is None:  # removed by the HIS meanwhile
            response = await login_page(request, "Please log in again.")
            ctx.sessions.end(response, PATIENT)
            return response
        appointments = sorted(await ctx.service.appointments(card_number),
                              key=lambda b: (b.date, b.half != "morning", b.ticket))
        return ctx.page(request, "patient_home.html", status_code, card=card,
                        appointments=appointments, error=error, today=ctx.today(),
                        names=await ctx.department_names(request))

    @router.get("")
    async def book(request: Request) -> Response:
        card = ctx.card_of(request, PATIENT)
        if card is None:
            return await login_page(request)
        return await home(request, card)

    @router.post("/login")
    async def login(request: Request) -> Response:
        outcome = await ctx.log_card_in(request, PATIENT, source="web", then="/book")
        if isinstance(outcome, LoginRefused):
            typed = await _typed_card(request) if outcome.status != 429 else ""
            return await login_page(request, outcome.error, outcome.status, typed)
        return outcome

    @router.get("/login")
    @router.get("/logout")
    async def form_targets() -> Response:
        """A form's address opened by hand (bookmark, reload after a redirect): start page."""
        return redirect("/book")

    @router.post("/logout")
    async def logout(request: Request) -> Response:
        response = redirect("/book")
        ctx.sessions.end(response, PATIENT)
        return response

    @router.get("/choose")
    async def choose(request: Request) -> Response:
        """Pick the kind, then department (or exam type) and day, then a session."""
        card_number = ctx.card_of(request, PATIENT)
        if card_number is None:
            return redirect("/book")
        query = dict(request.query_params)
        departments = await ctx.service.departments()
        exams = await ctx.service.exam_types()
        view: dict[str, Any] = {"kind": "", "place": "", "day": None, "sessions": None,
                                "departments": departments, "exams": exams,
                                "days": ctx.days(),
                                "names": await ctx.department_names(request)}
        try:
            if query.get("kind"):
                view["kind"] = choice(query, "kind", "Clinic type", KINDS)
            if view["kind"] and query.get("place"):
                codes = tuple(e.code for e in exams) if view["kind"] == "exam" \
                    else tuple(d.code for d in departments)
                view["place"] = choice(query, "place", "Department or examination", codes)
            if view["place"] and query.get("day"):
                day = iso_date(query, "day", "Day")
                if day not in view["days"]:
                    raise FormError(f"Day must be between {view['days'][0]} and "
                                    f"{view['days'][-1]}")
                view["day"] = day
                view["sessions"] = await _sessions(ctx, view["kind"], view["place"], day)
        except FormError as error:
            return ctx.page(request, "patient_choose.html", 400, error=str(error), **view)
        return ctx.page(request, "patient_choose.html", error="", **view)

    async def confirm_view(request: Request, values: dict[str, str]) -> dict[str, Any]:
        """The chosen session, from the query (GET) or the form (POST)."""
        session_id = integer(values, "session", "Session", low=1, high=2**62)
        session = await ctx.service.session(session_id)
        if session is None or session.date < ctx.today():
            raise FormError("That session is no longer offered; please choose again.")
        place = session.exam if session.kind == "exam" and session.exam else session.department
        return {"session": session, "kind": session.kind, "place": place, "day": session.date,
                "names": await ctx.department_names(request)}

    @router.get("/confirm")
    async def confirm_page(request: Request) -> Response:
        card_number = ctx.card_of(request, PATIENT)
        if card_number is None:
            return redirect("/book")
        card = await ctx.service.card(card_number)
        try:
            view = await confirm_view(request, dict(request.query_params))
        except FormError as error:
            return await home(request, card_number, error=str(error), status_code=400)
        return ctx.page(request, "patient_confirm.html", card=card, error="", **view)

    @router.post("/confirm")
    async def confirm(request: Request) -> Response:
        card_number = ctx.card_of(request, PATIENT)
        if card_number is None:
            return await login_page(request, "Your session has ended; please log in again.",
                                    401)
        try:
            form = await read_form(request)
            ctx.sessions.check_csrf(request, form.get("csrf", ""))
            view = await confirm_view(request, form)
        except (FormError, CsrfError) as error:
            return await home(request, card_number, error=str(error), status_code=400)
        try:
            booking = await ctx.service.book(card_number, view["session"].id, channel="web")
        except BookingError as error:
            card = await ctx.service.card(card_number)
            status = 404 if error.code == "not_found" else 409
            return ctx.page(request, "patient_confirm.html", status, card=card,
                            error=error, **view)
        return redirect(f"/book/ticket/{booking.ticket}")

    @router.get("/ticket/{ticket}")
    async def ticket(request: Request, ticket: str) -> Response:
        card_number = ctx.card_of(request, PATIENT)
        if card_number is None:
            return redirect("/book")
        booking = await ctx.service.booking(ticket)
        if booking is None or booking.card != card_number:
            return await home(request, card_number, error="No such ticket on this card.",
                              status_code=404)
        return ctx.page(request, "patient_ticket.html", booking=booking,
                        names=await ctx.department_names(request))

    return router


async def _sessions(ctx: PageContext, kind: str, place: str, day: datetime.date) -> list[Any]:
    if kind == "exam":
        found = await ctx.service.sessions(kind="exam", exam=place, on=day)
    else:
        found = await ctx.service.sessions(kind=kind, department=place, on=day)
    return sorted(found, key=lambda s: (s.half != "morning", s.expert.name if s.expert else "",
                                        s.id))


async def _typed_card(request: Request) -> str:
    """What was typed as the card number, to keep it in the form (the body is cached)."""
    try:
        return str((await request.form()).get("card", "")).strip()[:32]
    except Exception:  # the form could not be read at all: nothing to keep
        return ""
