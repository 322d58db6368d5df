"""`/api/recordings`: recorded calls with their CDR, and their audio to listen to or download."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse

from softswitch.features.recording import RecordingService
from softswitch.store.cdr import CallRecord, CdrRepository
from softswitch.store.recordings import split_files

__all__ = ["recording_summary", "recordings_router"]


def recording_summary(record: CallRecord) -> dict[str, Any]:
    """A recorded call: who, when, how it ended, and the URL of each of its files."""
    files = split_files(record.recording)
    base = f"/api/recordings/{quote(record.call_id, safe='')}"
    return {
        "call_id": record.call_id, "caller": record.caller, "callee": record.callee,
        "started_at": record.started_at, "answered_at": record.answered_at,
        "ended_at": record.ended_at, "duration": record.duration,
        "disposition": record.disposition.value if record.disposition else None,
        "files": [f"{base}/{n}" for n in range(1, len(files) + 1)],
    }


def recordings_router(service: RecordingService, cdr: CdrRepository) -> APIRouter:
    router = APIRouter(prefix="/recordings", tags=["recordings"])

    async def recorded(call_id: str) -> CallRecord:
        record = await cdr.get(call_id)
        if record is None or not split_files(record.recording):
            raise HTTPException(404, detail=f"no recording of call {call_id}")
        return record

    @router.get("")
    async def list_recordings(limit: int = 200) -> list[dict[str, Any]]:
        """Recorded calls, newest first."""
        if not 1 <= limit <= 10000:
            raise HTTPException(422, detail="limit must be 1 to 10000")
        records = [await cdr.get(call_id) for call_id in await service.repo.recorded_calls(limit)]
        return [recording_summary(r) for r in records if r is not None]

    @router.get("/{call_id}")
    async def one(call_id: str) -> dict[str, Any]:
        return recording_summary(await recorded(call_id))

    @router.get("/{call_id}/{number}", response_class=FileResponse)
    async def audio(call_id: str, number: int, download: bool = False) -> FileResponse:
        """File ``number`` (from 1) of the call: played in the browser, or saved with
        ``?download=true``."""
        files = split_files((await recorded(call_id)).recording)
        if not 1 <= number <= len(files):
            raise HTTPException(404, detail=f"call {call_id} has {len(files)} recording(s)")
        path = service.root / files[number - 1]
        if not path.is_file():
            raise HTTPException(410, detail="the recording file is gone (retention)")
        return FileResponse(path, media_type="audio/wav", filename=path.name,
                            content_disposition_type="attachment" if download else "inline")

    return router
