"""Wiring call recording into a running switch: the in-call key, the policy hook, the daily
purge and the /api/recordings routes (one line in `Switch._start_features`)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from fastapi import APIRouter

from softswitch.features.incall_keys import InCallKeys, KeyPress
from softswitch.features.recording import RecordingService, recording_settings_from
from softswitch.store.recordings import RecordingRepository
from softswitch.web.routes.recordings import recordings_router

if TYPE_CHECKING:
    from softswitch.app import Switch

__all__ = ["RecordingFeature", "start_recording"]

RECORDINGS_DIR = "recordings"


@dataclass
class RecordingFeature:
    """The service and its routers; `service.run_purges()` is started with the switch's
    background tasks (once the switch is fully up)."""

    service: RecordingService
    routers: list[APIRouter] = field(default_factory=list)

    async def close(self) -> None:
        await self.service.close()


def start_recording(switch: Switch, keys: InCallKeys) -> RecordingFeature:
    assert switch.database is not None and switch.b2bua is not None
    assert switch.media is not None and switch.users is not None
    settings = recording_settings_from(switch.config.features)  # raises ConfigError
    service = RecordingService(switch.media, RecordingRepository(switch.database.connection),
                               switch.users.get, switch.config.data_dir / RECORDINGS_DIR,
                               settings, time.time)
    switch.b2bua.on_bridged(service.bridged)
    if settings.key:
        async def toggle(press: KeyPress) -> None:
            await service.toggle(press.call)

        keys.register(settings.key, toggle)
    return RecordingFeature(service, [recordings_router(service, switch.database.cdr)])
