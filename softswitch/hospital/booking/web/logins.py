"""Logging in from the pages: card + PIN for patients and the kiosk, a password for staff,
each behind a per-source guard.

The service locks a *card* after wrong PINs; the guard here also slows down one computer
trying many cards or staff passwords (the SIP door's BruteForceGuard, keyed by the client
address: behind a local reverse proxy, X-Forwarded-For). Patients share a hall kiosk, so
their limit is high; a staff password gets few tries.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Callable, Sequence
from typing import Any

from fastapi import Request

from softswitch.hospital.booking import Card, CardLocked, CardNotFound, WrongPin
from softswitch.hospital.booking.web.forms import digits, read_form, text
from softswitch.hospital.booking.web.sessions import Sessions
from softswitch.switch.abuse import BruteForceGuard, source_key

__all__ = ["LoginGuard", "TooManyTries", "card_login", "staff_login"]

TOO_MANY = ("Too many wrong tries from this device. Please wait 15 minutes or ask at the "
            "registration desk.")


class TooManyTries(Exception):
    """This source is blocked for a while; shown with 429."""


class LoginGuard:
    """Failures per client address in a window; then that address waits `block_for`."""

    def __init__(self, *, max_failures: int, window: float, block_for: float = 900.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._guard = BruteForceGuard(max_failures=max_failures, window=window,
                                      block_for=block_for, max_sources=10_000)
        self._clock = clock

    @staticmethod
    def _source(request: Request) -> str:
        return source_key(request.client.host if request.client else "unknown")

    def check(self, request: Request) -> None:
        if self._guard.is_blocked(self._source(request), self._clock()):
            raise TooManyTries(TOO_MANY)

    def failed(self, request: Request) -> None:
        self._guard.record_failure(self._source(request), self._clock())


async def card_login(service: Any, sessions: Sessions, guard: LoginGuard,
                     request: Request, *, source: str) -> Card:
    """Card + PIN from the posted form; raises FormError, CsrfError, TooManyTries or the
    service's BookingError (wrong card or PIN, locked card)."""
    guard.check(request)
    form = await read_form(request)
    sessions.check_csrf(request, form.get("csrf", ""))
    number = digits(form, "card", "Card number")
    pin = digits(form, "pin", "PIN", max_len=12)
    try:
        card: Card = await service.verify_card(number, pin, source=source)
    except (CardNotFound, WrongPin, CardLocked):
        guard.failed(request)
        raise
    return card


async def staff_login(passwords: Sequence[bytes], sessions: Sessions, guard: LoginGuard,
                      request: Request) -> bool:
    """True when the posted password is one of `passwords`; raises FormError, CsrfError or
    TooManyTries."""
    guard.check(request)
    form = await read_form(request)
    sessions.check_csrf(request, form.get("csrf", ""))
    password = text(form, "password", "Password", max_len=200).encode()
    # Compare with every accepted secret (no early exit: the time says nothing).
    matches = [hmac.compare_digest(password, secret) for secret in passwords]
    if any(matches):
        return True
    guard.failed(request)
    return False
