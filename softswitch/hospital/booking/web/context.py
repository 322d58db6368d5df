"""What every booking page needs: the service, sessions, templates and the hospital's today."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from softswitch.hospital.booking import BookingError, CardLocked
from softswitch.hospital.booking.web.forms import FormError
from softswitch.hospital.booking.web.i18n import (
    CODES_ZH,
    LANG_COOKIE,
    LANGUAGES,
    pick_language,
    translator,
)
from softswitch.hospital.booking.web.logins import LoginGuard, TooManyTries, card_login
from softswitch.hospital.booking.web.render import Renderer
from softswitch.hospital.booking.web.sessions import CsrfError, SessionKind, Sessions

__all__ = ["LoginRefused", "PageContext", "redirect"]

# How far ahead patients may look and book, in days including today.
BOOKING_DAYS = 7


def redirect(url: str) -> RedirectResponse:
    """POST-redirect-GET: a reload never posts a form twice."""
    return RedirectResponse(url, status_code=303)


@dataclass(frozen=True)
class LoginRefused:
    """Why a card login failed, and the status to show the login form again with."""

    error: str | BookingError
    status: int


@dataclass
class PageContext:
    service: Any  # softswitch.hospital.booking.BookingService (duck-typed: tests may fake it)
    sessions: Sessions
    renderer: Renderer
    today: Callable[[], datetime.date]
    card_guard: LoginGuard
    staff_guard: LoginGuard
    language: str = "en"  # the hospital's default for pages

    def lang(self, request: Request) -> str:
        return pick_language(request, self.language)

    def page(self, request: Request, name: str, status_code: int = 200, *,
             error: str | BookingError = "", notice: str = "", **context: Any) -> HTMLResponse:
        """Render in the browser's language with a CSRF token for it, keeping its seed (and a
        language it just chose) in cookies. `error` may be the service's refusal itself."""
        lang = self.lang(request)
        _ = translator(lang)
        if isinstance(error, BookingError):
            error = CODES_ZH.get(error.code, error.message) if lang == "zh" else error.message
        other = LANGUAGES[1 - LANGUAGES.index(lang)]
        if request.method == "GET":
            switch_url = str(request.url.include_query_params(lang=other).replace(
                scheme="", netloc=""))
        else:
            switch_url = "/" + request.url.path.strip("/").split("/")[0] + f"?lang={other}"
        seed = self.sessions.csrf_seed(request)
        response = self.renderer.page(
            name, status_code, csrf=self.sessions.csrf_token(seed), lang=lang, _=_,
            error=_(error), notice=_(notice), switch_url=switch_url,
            switch_label="English" if lang == "zh" else "中文", **context)
        self.sessions.keep_seed(request, response, seed)
        if request.query_params.get("lang") in LANGUAGES:
            response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, path="/",
                                samesite="lax")
        return response

    def card_of(self, request: Request, kind: SessionKind) -> str | None:
        """The card number a ``kind`` session (the patient page, the kiosk) is logged in with."""
        data = self.sessions.read(request, kind)
        card = data.get("card") if data else None
        return card if isinstance(card, str) else None

    async def log_card_in(self, request: Request, kind: SessionKind, *, source: str,
                          then: str) -> Response | LoginRefused:
        """The posted card + PIN: a redirect to ``then`` with a ``kind`` session started, or
        why not (the patient page and the kiosk show it on their own login form)."""
        try:
            card = await card_login(self.service, self.sessions, self.card_guard, request,
                                    source=source)
        except (FormError, CsrfError) as error:
            return LoginRefused(str(error), 400)
        except TooManyTries as error:
            return LoginRefused(str(error), 429)
        except BookingError as error:
            return LoginRefused(error, 423 if isinstance(error, CardLocked) else 403)
        response = redirect(then)
        self.sessions.start(request, response, kind, {"card": card.number})
        return response

    def days(self) -> list[datetime.date]:
        start = self.today()
        return [start + datetime.timedelta(days=n) for n in range(BOOKING_DAYS)]

    async def department_names(self, request: Request) -> dict[str, str]:
        """Code -> name in the page's language for departments and exam types (exam
        sessions carry the exam type's code as their department)."""
        zh = self.lang(request) == "zh"
        names = {d.code: d.name_zh if zh else d.name_en for d in await self.service.departments()}
        names.update({e.code: e.name_zh if zh else e.name_en
                      for e in await self.service.exam_types()})
        return names
