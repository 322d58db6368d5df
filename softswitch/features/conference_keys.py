"""``*3`` + number during a call: add a third party, making the call an ad-hoc conference.

The in-call keys (:mod:`softswitch.features.incall_keys`) hand the key here; the call's two
legs move into a new room (:meth:`ConferenceService.merge`) and the number is invited into it
(:meth:`ConferenceService.invite`). Pressing ``*3`` again adds another party to the same room.
The room belongs to the call: when the call ends (either original party hangs up, which ends
the B2BUA call), the room ends and everyone invited is hung up, as on a three-way call.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from media import Leg
from softswitch.features.conference import ConferenceError, ConferenceService
from softswitch.features.incall_keys import InCallKeys, KeyPress
from softswitch.switch.legs import Call, CallState

__all__ = ["ADD_KEY", "ConferenceKeys"]

log = logging.getLogger(__name__)

ADD_KEY = "*3"


class ConferenceKeys:
    """Registers ``*3`` on the in-call keys; ``hang_up(call, cause)`` is the B2BUA's."""

    def __init__(self, keys: InCallKeys, conferences: ConferenceService,
                 hang_up: Callable[[Call, str], None]) -> None:
        self.conferences = conferences
        self._hang_up = hang_up
        self._rooms: dict[str, str] = {}  # call id -> its ad-hoc room
        keys.register(ADD_KEY, self.on_add, with_number=True)

    def room_of(self, call: Call) -> str | None:
        """The ad-hoc room a call became, if it did."""
        return self._rooms.get(call.id)

    async def on_add(self, press: KeyPress) -> None:
        call = press.call
        if not press.argument or call.a is None or call.b is None or \
                call.state is not CallState.ANSWERED:
            log.info("call %s: %s%s ignored (no number or no connected call)", call.id,
                     press.sequence, press.argument)
            return
        room = self._rooms.get(call.id)
        if room is None:
            def end_call(leg: Leg, cause: str) -> None:
                self._hang_up(call, cause)

            room = self.conferences.merge(
                [(call.a.media, call.caller), (call.b.media, call.callee)], hangup=end_call)
            self._rooms[call.id] = room
            call.on_end.append(lambda cause, side: self._ended(call))
            log.info("call %s became ad-hoc conference %s", call.id, room)
        try:
            await self.conferences.invite(room, press.argument)
        except ConferenceError as exc:
            log.info("call %s: adding %s to %s failed: %s", call.id, press.argument, room, exc)

    def _ended(self, call: Call) -> None:
        room = self._rooms.pop(call.id, None)
        if room is not None:
            self.conferences.end(room, "conference ended")
