"""Intercom: `*80` + extension calls that one phone with the auto-answer headers, two-way
(bedside intercoms, a nurse calling into a room).

The caller's leg and the originated leg are bridged like any call (relayed when the codecs
match); either side's BYE ends both. The caller needs the configured right (`[intercom]
right`, default 'intercom'; "" for everyone); without it an announcement plays as early
media, then 403. The target must be an extension of the dial plan (404 otherwise); an
unregistered, busy or refusing phone gives the caller that status.
"""

from __future__ import annotations

import asyncio
import logging

from softswitch.features.paging import PagingService
from softswitch.features.paging_caller import CallerSide
from softswitch.features.paging_config import IntercomSettings, auto_answer_headers
from softswitch.store.cdr import Disposition, HangupSide
from softswitch.switch.dialplan import Extension, Feature, Route
from softswitch.switch.legs import Call
from softswitch.switch.originate import OriginatedLeg, OriginateError

__all__ = ["IntercomService"]

log = logging.getLogger(__name__)


class IntercomService:
    """Serves the dial plan's 'intercom' feature code (`B2bua.serve_feature`)."""

    def __init__(self, paging: PagingService, settings: IntercomSettings) -> None:
        self.paging = paging  # shares the user lookup and the auto-answer rules
        self.b2bua = paging.b2bua
        self.settings = settings

    async def serve(self, call: Call, route: Route) -> None:
        assert isinstance(route, Feature)
        target = route.argument
        call.callee = target
        caller = await CallerSide.open_for(self.b2bua, call)
        if caller is None:
            return
        right = self.settings.right
        if right and not await self.paging.may(call.caller, right):
            await caller.refuse(403, "Intercom Not Allowed", f"no {right} right",
                                "intercom_not_allowed", self.paging.settings.language)
            return
        if not isinstance(self.b2bua.route(target, "internal"), Extension):
            caller.fail(404, "No Such Extension", f"intercom to {target!r}: not an extension")
            return
        if target == call.caller:
            caller.fail(486, "Busy Here", "intercom to oneself")
            return
        leg = await self._ring(caller, target)
        if leg is None:
            return
        caller.answer(route.max_seconds)
        call.bridge = self.b2bua.media.bridge(caller.media, leg.media)
        call.on_end.append(lambda cause, side: leg.hangup(f"intercom caller: {cause}"))
        leg.on_end(lambda cause, side: caller.hangup(
            "BYE from callee" if side is HangupSide.CALLEE else cause))
        log.info("intercom %s -> %s", call.caller, target)

    async def _ring(self, caller: CallerSide, target: str) -> OriginatedLeg | None:
        """The target's phones with auto-answer headers; the caller hears 180 meanwhile.
        None (the caller already answered with the failure) when nobody answers."""
        settings = self.paging.settings
        self.b2bua.send_to_a(caller.call, 180, b"")
        ringing = asyncio.ensure_future(self.b2bua.originate(
            target, caller_id=caller.call.caller, display_name="Intercom",
            headers=lambda binding: auto_answer_headers(settings, binding.user_agent),
            purpose=f"intercom {target}"))
        cancelled = asyncio.ensure_future(caller.cancelled.wait())
        await asyncio.wait([ringing, cancelled], return_when=asyncio.FIRST_COMPLETED)
        cancelled.cancel()
        if not ringing.done():
            ringing.cancel()
            await asyncio.gather(ringing, return_exceptions=True)
            caller.fail(487, "Request Terminated", "cancelled by caller", Disposition.CANCELLED)
            return None
        try:
            leg = ringing.result()
        except OriginateError as exc:
            caller.fail(exc.status, exc.reason, f"intercom: {exc}")
            return None
        if caller.ended or caller.cancelled.is_set():
            leg.hangup("intercom caller left")
            if not caller.ended:
                caller.fail(487, "Request Terminated", "cancelled by caller",
                            Disposition.CANCELLED)
            return None
        return leg
