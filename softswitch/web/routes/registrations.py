"""`/api/registrations`: every live binding, with where and how the phone is reached."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter

from softswitch.sip.uri import format_host
from softswitch.store import Binding, BindingRepository

__all__ = ["binding_summary", "registrations_router"]


def binding_summary(binding: Binding, now: float) -> dict[str, Any]:
    """One binding as JSON (shared with `softswitch registrations --json`)."""
    return {
        "extension": binding.aor,
        "contact": binding.contact,
        "source": f"{format_host(binding.source_host)}:{binding.source_port}",
        "transport": binding.transport,
        "expires": binding.expires_in(now),
        "user_agent": binding.user_agent,
        "q": binding.q,
        "reachable": binding.reachable,
        "last_seen": binding.last_seen,
        "instance_id": binding.instance_id,
        "reg_id": binding.reg_id,
        "path": list(binding.path),
        "connection_id": binding.connection_id,
    }


def registrations_router(bindings: BindingRepository, clock: Callable[[], float]) -> APIRouter:
    """GET /registrations[?extension=EXT]."""
    router = APIRouter(prefix="/registrations", tags=["registrations"])

    @router.get("")
    async def list_registrations(extension: str | None = None) -> list[dict[str, Any]]:
        now = clock()
        found = await (bindings.for_aor(extension, now) if extension else bindings.active(now))
        return [binding_summary(binding, now) for binding in found]

    return router
