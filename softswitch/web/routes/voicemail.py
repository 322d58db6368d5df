"""`/api/voicemail`: a mailbox's messages, their audio (WAV), marking and deleting them.

The same `VoicemailService` the phone flows use, so a message deleted here also updates the
owner's message-waiting lamp (MWI).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Response
from fastapi.responses import FileResponse
from pydantic import BaseModel

from softswitch.features.voicemail import VoicemailService
from softswitch.store.voicemail import MessageStatus, VoicemailMessage
from softswitch.switch.directory import InvalidUserError, validate_extension

__all__ = ["message_summary", "voicemail_router"]


class MailboxChange(BaseModel):
    """Body of PUT /api/voicemail/{mailbox}/settings."""

    enabled: bool


class StatusChange(BaseModel):
    """Body of PATCH /api/voicemail/{mailbox}/{id}: ``new`` or ``old``."""

    status: MessageStatus


def message_summary(message: VoicemailMessage) -> dict[str, Any]:
    """One message as the API and the CLI show it."""
    return {"id": message.id, "mailbox": message.mailbox, "caller": message.caller,
            "received_at": message.received_at, "duration": message.duration,
            "status": message.status.value,
            "audio": f"/api/voicemail/{message.mailbox}/{message.id}/audio"}


def voicemail_router(service: VoicemailService) -> APIRouter:
    router = APIRouter(prefix="/voicemail", tags=["voicemail"])

    def checked(mailbox: str) -> str:
        try:
            return validate_extension(mailbox)
        except InvalidUserError as error:
            raise HTTPException(422, detail=str(error)) from None

    async def find(mailbox: str, message_id: int) -> VoicemailMessage:
        message = await service.get(message_id)
        if message is None or message.mailbox != checked(mailbox):
            raise HTTPException(404, detail=f"no message {message_id} in mailbox {mailbox}")
        return message

    @router.get("/{mailbox}/settings")
    async def settings(mailbox: str) -> dict[str, Any]:
        box = checked(mailbox)
        current = await service.repo.settings(box)
        return {"mailbox": box, "enabled": current.enabled,
                "greeting": current.greeting is not None}

    @router.put("/{mailbox}/settings")
    async def change_settings(mailbox: str, change: MailboxChange) -> dict[str, Any]:
        """Switch the extension's voicemail on or off (off: busy calls fail as usual)."""
        box = checked(mailbox)
        if await service.owner(box) is None:
            raise HTTPException(404, detail=f"no such extension: {box}")
        await service.set_enabled(box, change.enabled)
        return await settings(box)

    @router.get("/{mailbox}")
    async def list_messages(mailbox: str) -> dict[str, Any]:
        """New messages first, then old ones, with the counts MWI announces."""
        box = checked(mailbox)
        new, old = await service.counts(box)
        return {"mailbox": box, "new": new, "old": old,
                "messages": [message_summary(m) for m in await service.messages(box)]}

    @router.get("/{mailbox}/{message_id}/audio", response_class=FileResponse)
    async def audio(mailbox: str, message_id: int) -> FileResponse:
        message = await find(mailbox, message_id)
        path = service.audio_path(message)
        if not path.is_file():
            raise HTTPException(410, detail=f"the audio of message {message_id} is missing")
        return FileResponse(path, media_type="audio/wav",
                            filename=f"voicemail-{mailbox}-{message_id}.wav")

    @router.patch("/{mailbox}/{message_id}")
    async def mark(mailbox: str, message_id: int, change: StatusChange) -> dict[str, Any]:
        message = await find(mailbox, message_id)
        await service.mark(message, change.status)
        updated = await service.get(message_id)
        assert updated is not None
        return message_summary(updated)

    @router.delete("/{mailbox}/{message_id}", status_code=204)
    async def delete(mailbox: str, message_id: int) -> Response:
        message = await find(mailbox, message_id)
        await service.delete(message)
        return Response(status_code=204)

    return router
