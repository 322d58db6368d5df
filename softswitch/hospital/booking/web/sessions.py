"""Signed session cookies and CSRF tokens for the booking pages.

A session is a small signed, timestamped value in an HttpOnly cookie (itsdangerous): no server
state, so a restart or a second node keeps people logged in, and the expiry is checked on every
request. Each kind of page has its own cookie and lifetime (a kiosk forgets a patient fast).

CSRF: every form carries a token derived from a random per-browser value in its own cookie
(HMAC with the secret), so a page on another site can neither read nor forge it; the session
cookies are also SameSite=Lax. Cookies are marked Secure whenever the page was reached over
HTTPS (directly or through a local reverse proxy that says so in X-Forwarded-Proto).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any

from fastapi import Request, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer

__all__ = ["CSRF_COOKIE", "CsrfError", "SessionKind", "Sessions"]

CSRF_COOKIE = "ss_csrf"


class CsrfError(Exception):
    """A POST without the form's CSRF token (an old page or another site's form)."""


@dataclass(frozen=True)
class SessionKind:
    """One kind of login: its cookie, where it is valid and how long it lasts (seconds)."""

    cookie: str
    path: str
    max_age: int


class Sessions:
    """Issue, read and end sessions of each kind; make and check CSRF tokens."""

    def __init__(self, secret: str) -> None:
        self._secret = secret.encode()
        self._serializer = URLSafeTimedSerializer(secret, salt="booking-web-session")

    def read(self, request: Request, kind: SessionKind) -> dict[str, Any] | None:
        """The session's data, or None when missing, tampered with or expired."""
        raw = request.cookies.get(kind.cookie)
        if not raw:
            return None
        try:
            data = self._serializer.loads(raw, max_age=kind.max_age)
        except BadSignature:  # also SignatureExpired
            return None
        return data if isinstance(data, dict) else None

    def start(self, request: Request, response: Response, kind: SessionKind,
              data: dict[str, Any]) -> None:
        response.set_cookie(
            kind.cookie, self._serializer.dumps(data), max_age=kind.max_age, path=kind.path,
            httponly=True, samesite="lax", secure=request.url.scheme == "https",
        )

    def end(self, response: Response, kind: SessionKind) -> None:
        response.delete_cookie(kind.cookie, path=kind.path, httponly=True, samesite="lax")

    # -- CSRF ------------------------------------------------------------------------------

    def csrf_seed(self, request: Request) -> str:
        """This browser's CSRF seed; a new one when it has none (set it with `keep_seed`)."""
        seed = request.cookies.get(CSRF_COOKIE, "")
        if len(seed) != 32 or not all(c in "0123456789abcdef" for c in seed):
            seed = secrets.token_hex(16)
        return seed

    def keep_seed(self, request: Request, response: Response, seed: str) -> None:
        response.set_cookie(CSRF_COOKIE, seed, path="/", httponly=True, samesite="lax",
                            secure=request.url.scheme == "https")

    def csrf_token(self, seed: str) -> str:
        return hmac.new(self._secret, b"csrf:" + seed.encode(), hashlib.sha256).hexdigest()

    def check_csrf(self, request: Request, token: str) -> None:
        """Raise CsrfError unless `token` belongs to this browser's seed cookie."""
        seed = request.cookies.get(CSRF_COOKIE, "")
        if not seed or not hmac.compare_digest(self.csrf_token(seed), token):
            raise CsrfError("This form has expired; please try again.")
