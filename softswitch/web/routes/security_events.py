"""`/api/security-events`: the security log, newest first, paged with ``before_id``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, HTTPException, Query

from softswitch.store import SecurityEventKind, SecurityEventRepository

__all__ = ["security_events_router"]


def security_events_router(
    events: SecurityEventRepository, flush: Callable[[], Awaitable[None]]
) -> APIRouter:
    """``flush()`` writes events still buffered in memory, so a read sees everything so far."""
    router = APIRouter(prefix="/security-events", tags=["security"])

    @router.get("")
    async def recent(
        limit: int = Query(100, ge=1, le=1000),
        kind: str | None = None,
        source: str | None = None,
        before_id: int | None = None,
    ) -> list[dict[str, Any]]:
        try:
            wanted = SecurityEventKind(kind) if kind else None
        except ValueError:
            choices = ", ".join(k.value for k in SecurityEventKind)
            raise HTTPException(
                422, detail=f"kind must be one of: {choices}"
            ) from None
        await flush()
        found = await events.recent(limit, kind=wanted, source=source, before_id=before_id)
        return [
            {"id": e.id, "at": e.at, "kind": e.kind.value, "source": e.source, "user": e.user,
             "detail": e.detail}
            for e in found
        ]

    return router
