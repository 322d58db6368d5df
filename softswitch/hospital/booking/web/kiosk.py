"""The kiosk page, /kiosk: a self-service terminal in the hall. Card + PIN, then today's and
upcoming bookings, each with a printable ticket; back to the start screen after use.

The kiosk session is short (a patient walks away); every screen after login also returns to
the start screen by itself after a minute and a half, and after printing.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from softswitch.hospital.booking import BookingError
from softswitch.hospital.booking.web.context import LoginRefused, PageContext, redirect
from softswitch.hospital.booking.web.guard import GuardedRoute
from softswitch.hospital.booking.web.sessions import SessionKind

__all__ = ["KIOSK", "kiosk_router"]

KIOSK = SessionKind(cookie="ss_kiosk", path="/kiosk", max_age=3 * 60)
IDLE_SECONDS = 90


def kiosk_router(ctx: PageContext) -> APIRouter:
    router = APIRouter(prefix="/kiosk", include_in_schema=False, route_class=GuardedRoute)

    def start_screen(request: Request, error: str | BookingError = "",
                     status_code: int = 200) -> HTMLResponse:
        return ctx.page(request, "kiosk_start.html", status_code, error=error)

    @router.get("")
    async def start(request: Request) -> Response:
        if ctx.card_of(request, KIOSK) is not None:
            return redirect("/kiosk/tickets")
        return start_screen(request)

    @router.post("/login")
    async def login(request: Request) -> Response:
        outcome = await ctx.log_card_in(request, KIOSK, source="kiosk", then="/kiosk/tickets")
        if isinstance(outcome, LoginRefused):
            return start_screen(request, outcome.error, outcome.status)
        return outcome

    @router.get("/login")
    async def login_target() -> Response:
        """The login form's address opened by hand: the start screen."""
        return redirect("/kiosk")

    @router.get("/tickets")
    async def tickets(request: Request) -> Response:
        card_number = ctx.card_of(request, KIOSK)
        card = await ctx.service.card(card_number) if card_number else None
        if card is None:
            return redirect("/kiosk")
        today = ctx.today()
        upcoming = sorted((b for b in await ctx.service.appointments(card.number)
                           if b.date >= today),
                          key=lambda b: (b.date, b.half != "morning", b.ticket))
        return ctx.page(request, "kiosk_tickets.html", card=card, bookings=upcoming,
                        today=today, idle=IDLE_SECONDS,
                        names=await ctx.department_names(request))

    @router.get("/ticket/{ticket}")
    async def ticket(request: Request, ticket: str) -> Response:
        card_number = ctx.card_of(request, KIOSK)
        if card_number is None:
            return redirect("/kiosk")
        booking = await ctx.service.booking(ticket)
        if booking is None or booking.card != card_number:
            return redirect("/kiosk/tickets")
        return ctx.page(request, "kiosk_ticket.html", booking=booking, idle=IDLE_SECONDS,
                        names=await ctx.department_names(request))

    @router.get("/end")
    async def end_get() -> Response:
        """Where the idle timer and the print dialog send the screen: log out, start again."""
        response = redirect("/kiosk")
        ctx.sessions.end(response, KIOSK)
        return response

    @router.post("/end")
    async def end_post() -> Response:
        response = redirect("/kiosk")
        ctx.sessions.end(response, KIOSK)
        return response

    return router
