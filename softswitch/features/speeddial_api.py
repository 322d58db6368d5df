"""`/api/speed-dials`: the system-wide codes and each extension's personal ones."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Response
from pydantic import BaseModel

from softswitch.features.speeddial import SpeedDialError, SpeedDials, check_code
from softswitch.store.users import UserRepository

__all__ = ["speed_dials_router"]


class Number(BaseModel):
    number: str


def speed_dials_router(service: SpeedDials, users: UserRepository) -> APIRouter:
    """GET /speed-dials (system), GET /speed-dials/EXT (system + personal),
    PUT /speed-dials/EXT/CODE {"number"}, DELETE /speed-dials/EXT/CODE."""
    router = APIRouter(prefix="/speed-dials", tags=["speed dial"])

    async def owner(extension: str) -> str:
        if not extension.isdigit() or await users.get(extension) is None:
            raise HTTPException(404, f"no such extension: {extension}")
        return extension

    @router.get("")
    async def system() -> dict[str, dict[str, str]]:
        return {"system": service.system}

    @router.get("/{extension}")
    async def personal(extension: str) -> dict[str, dict[str, str]]:
        return {"system": service.system,
                "personal": await service.personal(await owner(extension))}

    @router.put("/{extension}/{code}")
    async def set_code(extension: str, code: str, body: Number) -> dict[str, str]:
        try:
            await service.set(await owner(extension), code, body.number)
        except SpeedDialError as exc:
            raise HTTPException(422, str(exc)) from None
        return {"code": code, "number": body.number}

    @router.delete("/{extension}/{code}", status_code=204)
    async def remove(extension: str, code: str) -> Response:
        try:
            check_code(code)
        except SpeedDialError as exc:
            raise HTTPException(422, str(exc)) from None
        if not await service.remove(await owner(extension), code):
            raise HTTPException(404, f"{extension} has no speed dial {code}")
        return Response(status_code=204)

    return router
