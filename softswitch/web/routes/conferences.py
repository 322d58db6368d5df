"""`/api/conferences`: rooms in progress and their members; mute, kick, lock, record."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, Field

from softswitch.features.conference import INVITE_TIMEOUT, ConferenceError, ConferenceService
from softswitch.features.conference_room import Role

__all__ = ["conferences_router"]


class Locked(BaseModel):
    locked: bool


class Muted(BaseModel):
    muted: bool


class Invite(BaseModel):
    number: str = Field(pattern=r"^\+?[0-9]{1,32}$")
    role: Role = Role.PARTICIPANT
    timeout: float = Field(INVITE_TIMEOUT, gt=0, le=120)


def _checked(work: Callable[[], Any]) -> Any:
    try:
        return work()
    except ConferenceError as exc:
        raise HTTPException(exc.status, str(exc)) from None


def conferences_router(service: ConferenceService) -> APIRouter:
    """GET /conferences[/ROOM]; DELETE /conferences/ROOM ends it; PUT .../lock, .../members/ID/mute; DELETE .../members/ID;
    POST/DELETE .../recording; POST .../invite (dial out, answers once the phone answers)."""
    router = APIRouter(prefix="/conferences", tags=["conferences"])

    @router.get("")
    async def list_rooms() -> list[dict[str, Any]]:
        return service.rooms()

    @router.get("/{room}")
    async def get_room(room: str) -> dict[str, Any]:
        return _checked(lambda: service.room(room))  # type: ignore[no-any-return]

    @router.delete("/{room}")
    async def end(room: str) -> dict[str, Any]:
        _checked(lambda: service.room(room))  # 404 when nobody is in it
        return {"room": room, "ended": service.end(room)}

    @router.put("/{room}/lock")
    async def lock(room: str, body: Locked) -> dict[str, Any]:
        return _checked(lambda: service.lock(room, body.locked))  # type: ignore[no-any-return]

    @router.put("/{room}/members/{member}/mute")
    async def mute(room: str, member: int, body: Muted) -> dict[str, Any]:
        return _checked(  # type: ignore[no-any-return]
            lambda: service.mute(room, member, body.muted))

    @router.delete("/{room}/members/{member}", status_code=204)
    async def kick(room: str, member: int) -> None:
        _checked(lambda: service.kick(room, member))

    @router.post("/{room}/recording", status_code=201)
    async def start_recording(room: str) -> dict[str, Any]:
        try:
            path = await service.start_recording(room)
        except ConferenceError as exc:
            raise HTTPException(exc.status, str(exc)) from None
        return {"room": room, "recording": str(path)}

    @router.delete("/{room}/recording")
    async def stop_recording(room: str) -> dict[str, Any]:
        try:
            path = await service.stop_recording(room)
        except ConferenceError as exc:
            raise HTTPException(exc.status, str(exc)) from None
        return {"room": room, "recording": str(path)}

    @router.post("/{room}/invite", status_code=201)
    async def invite(room: str, body: Invite) -> dict[str, Any]:
        try:
            return await service.invite(room, body.number, role=body.role, timeout=body.timeout)
        except ConferenceError as exc:
            raise HTTPException(exc.status, str(exc)) from None

    return router
