"""Bearer-token protection of the HTTP API, and the admin token file."""

from __future__ import annotations

import hmac
import os
import secrets
from pathlib import Path

from fastapi import HTTPException, Request, status

__all__ = ["ensure_admin_token", "require_token", "TOKEN_FILE"]

TOKEN_FILE = "admin-token"


def ensure_admin_token(data_dir: Path, configured: str | None) -> str:
    """Return the configured token, or the one in DATA/admin-token, creating it (mode 0600)."""
    if configured:
        return configured
    path = data_dir / TOKEN_FILE
    if path.exists():
        token = path.read_text(encoding="utf-8").strip()
        if token:
            return token
    token = secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(token + "\n")
    os.chmod(path, 0o600)
    return token


def require_token(request: Request) -> None:
    """FastAPI dependency: 401 unless `Authorization: Bearer <admin token>` is given."""
    expected: str = request.app.state.admin_token
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip(), expected):
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            detail="missing or wrong bearer token (see DATA/admin-token)",
            headers={"WWW-Authenticate": "Bearer"},
        )
