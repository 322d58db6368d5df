"""Call waiting: may a second call reach a phone that is already in a call?

"Busy" means the extension is a party of an answered call. With call waiting on (the
default, `followme_store.LineSettings`) the new call rings the phone as usual and the phone
shows it as a waiting call; with it off the caller gets 486 Busy Here (or the busy diversion,
voicemail) and the phone does not ring.
"""

from __future__ import annotations

from softswitch.features.followme_store import LineSettingsRepository
from softswitch.switch.b2bua import B2bua

__all__ = ["CallWaiting"]


class CallWaiting:
    """The B2BUA's busy check (`B2bua.busy_when`)."""

    def __init__(self, b2bua: B2bua, settings: LineSettingsRepository) -> None:
        self.b2bua = b2bua
        self.settings = settings
        b2bua.busy_when(self.busy)

    def in_call(self, extension: str) -> bool:
        return self.b2bua.in_answered_call(extension)

    async def busy(self, extension: str) -> bool:
        """In a call, and call waiting off: refuse instead of ringing."""
        return self.in_call(extension) and not (await self.settings.recent(extension)).call_waiting
