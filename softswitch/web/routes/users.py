"""`/api/users`: the directory over HTTP, with exactly the rules of the CLI (`make_user`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, HTTPException, Response, status
from pydantic import BaseModel, Field

from softswitch.store import Database, DuplicateUserError
from softswitch.switch.directory import (
    InvalidUserError,
    make_user,
    user_summary,
    validate_extension,
)

__all__ = ["NewUser", "users_router"]


class NewUser(BaseModel):
    """Body of POST /api/users; the password is turned into HA1 values and never stored."""

    extension: str
    password: str = Field(repr=False)
    name: str = ""
    department: str = ""
    class_of_service: str = "internal"
    rights: list[str] = []
    voicemail_pin: str | None = Field(default=None, repr=False)


def _invalid(error: InvalidUserError) -> HTTPException:
    return HTTPException(
        422,
        detail={"detail": str(error), "field": error.field},
    )


def users_router(db: Database, realm: str, changed: Callable[[str], None]) -> APIRouter:
    """Routes over ``db.users``; ``changed(extension)`` tells caches (the registrar's) at once."""
    router = APIRouter(prefix="/users", tags=["users"])

    def checked(extension: str) -> str:
        try:
            return validate_extension(extension)
        except InvalidUserError as error:
            raise _invalid(error) from None

    @router.get("")
    async def list_users() -> list[dict[str, Any]]:
        return [user_summary(user, realm) for user in await db.users.list()]

    @router.get("/{extension}")
    async def get_user(extension: str) -> dict[str, Any]:
        user = await db.users.get(checked(extension))
        if user is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no such extension: {extension}")
        return user_summary(user, realm)

    @router.post("", status_code=status.HTTP_201_CREATED)
    async def add_user(body: NewUser) -> dict[str, Any]:
        try:
            user = make_user(
                body.extension, body.password, realm, display_name=body.name,
                department=body.department, class_of_service=body.class_of_service,
                rights=body.rights, voicemail_pin=body.voicemail_pin,
            )
        except InvalidUserError as error:
            raise _invalid(error) from None
        try:
            stored = await db.users.add(user)
        except DuplicateUserError:
            raise HTTPException(
                status.HTTP_409_CONFLICT, detail=f"extension {body.extension} already exists"
            ) from None
        changed(stored.extension)
        return user_summary(stored, realm)

    @router.delete("/{extension}", status_code=status.HTTP_204_NO_CONTENT)
    async def remove_user(extension: str) -> Response:
        if not await db.users.remove(checked(extension)):
            raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no such extension: {extension}")
        await db.bindings.remove_all(extension)
        changed(extension)
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    return router
