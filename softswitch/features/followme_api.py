"""`/api/line-settings/EXT`: call waiting and follow-me of one extension."""

from __future__ import annotations

import dataclasses
from typing import Any

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel

from softswitch.features.followme_store import (
    LineSettings,
    LineSettingsError,
    LineSettingsRepository,
)
from softswitch.store.users import UserRepository

__all__ = ["line_settings_router"]


class Change(BaseModel):
    call_waiting: bool | None = None
    follow_me: list[str] | None = None
    ring_seconds: int | None = None


def _view(settings: LineSettings) -> dict[str, Any]:
    return {"extension": settings.extension, "call_waiting": settings.call_waiting,
            "follow_me": list(settings.follow_me), "ring_seconds": settings.ring_seconds}


def line_settings_router(repo: LineSettingsRepository, users: UserRepository) -> APIRouter:
    """GET /line-settings/EXT; PUT /line-settings/EXT with the fields to change."""
    router = APIRouter(prefix="/line-settings", tags=["line settings"])

    async def current(extension: str) -> LineSettings:
        if not extension.isdigit() or await users.get(extension) is None:
            raise HTTPException(404, f"no such extension: {extension}")
        return await repo.get(extension)

    @router.get("/{extension}")
    async def show(extension: str) -> dict[str, Any]:
        return _view(await current(extension))

    @router.put("/{extension}")
    async def change(extension: str, body: Change) -> dict[str, Any]:
        settings = await current(extension)
        changes: dict[str, Any] = {k: v for k, v in body.model_dump().items() if v is not None}
        if "follow_me" in changes:
            changes["follow_me"] = tuple(changes["follow_me"])
        try:
            settings = dataclasses.replace(settings, **changes)
        except LineSettingsError as exc:
            raise HTTPException(422, str(exc)) from None
        await repo.put(settings)
        return _view(settings)

    return router
