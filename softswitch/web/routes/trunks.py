"""`/api/trunks`: every configured SIP trunk and the state of its registration at the provider."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter

__all__ = ["trunks_router"]


def trunks_router(status: Callable[[], list[dict[str, Any]]]) -> APIRouter:
    router = APIRouter(prefix="/trunks", tags=["trunks"])

    @router.get("")
    async def list_trunks() -> list[dict[str, Any]]:
        return status()

    return router
