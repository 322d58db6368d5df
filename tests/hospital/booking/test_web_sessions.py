"""Session cookies: signed (tampering or another secret reads as logged out), expiring, HttpOnly;
CSRF tokens bound to the browser's seed."""

from __future__ import annotations

import pytest
from fastapi import Request, Response

from softswitch.hospital.booking.web.sessions import (
    CSRF_COOKIE,
    CsrfError,
    SessionKind,
    Sessions,
)

KIND = SessionKind(cookie="ss_test", path="/book", max_age=600)


def request_with(cookies: dict[str, str]) -> Request:
    header = "; ".join(f"{k}={v}" for k, v in cookies.items()).encode()
    return Request({"type": "http", "method": "GET", "path": "/book", "scheme": "http",
                    "headers": [(b"cookie", header)], "query_string": b""})


def issued(sessions: Sessions, data: dict[str, str]) -> tuple[str, str]:
    response = Response()
    sessions.start(request_with({}), response, KIND, data)
    header = response.headers["set-cookie"]
    value = header.split(";")[0].split("=", 1)[1]
    return value, header


def test_a_session_reads_back_only_with_the_same_secret_and_untampered() -> None:
    sessions = Sessions("a" * 32)
    value, header = issued(sessions, {"card": "10001"})
    assert "HttpOnly" in header and "Max-Age=600" in header and "Path=/book" in header
    assert "samesite=lax" in header.lower()
    assert sessions.read(request_with({"ss_test": value}), KIND) == {"card": "10001"}
    assert Sessions("b" * 32).read(request_with({"ss_test": value}), KIND) is None
    tampered = value.replace(value[5], "x" if value[5] != "x" else "y", 1)
    assert sessions.read(request_with({"ss_test": tampered}), KIND) is None
    assert sessions.read(request_with({}), KIND) is None


def test_an_expired_session_reads_as_logged_out() -> None:
    sessions = Sessions("a" * 32)
    value, _ = issued(sessions, {"card": "10001"})
    expired = SessionKind(cookie="ss_test", path="/book", max_age=-1)
    assert sessions.read(request_with({"ss_test": value}), expired) is None


def test_csrf_token_belongs_to_the_browser_seed() -> None:
    sessions = Sessions("a" * 32)
    seed = sessions.csrf_seed(request_with({}))
    token = sessions.csrf_token(seed)
    sessions.check_csrf(request_with({CSRF_COOKIE: seed}), token)
    with pytest.raises(CsrfError):
        sessions.check_csrf(request_with({CSRF_COOKIE: seed}),
                           token[:-1] + ("1" if token.endswith("0") else "0"))
    with pytest.raises(CsrfError):
        sessions.check_csrf(request_with({}), token)
    other = sessions.csrf_seed(request_with({}))
    with pytest.raises(CsrfError):
        sessions.check_csrf(request_with({CSRF_COOKIE: other}), token)
