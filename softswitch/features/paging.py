"""Paging: dialling a paging number (621) calls every phone of its group at once, auto-answered,
and the caller speaks to all of them through the switch.

One page is one mixing bridge (media/mixer.py): the caller's leg, each answered phone's leg
muted (phones are heard by nobody: the audio is one-way) and an optional multicast leg. The
engine decodes the caller once per 20 ms tick and sends the same frame to every phone, so the
fan-out costs one decode and an encode per phone. The start beep is an announcement on the
bridge: played once, heard by the caller and every phone answered by then.

Rules (issue 7): only callers with the 'paging' right page; others hear an announcement as
early media, then 403, and no phone rings. The caller's own phones are never paged; phones
in a call are skipped unless `skip_busy = false`. The page ends when the caller hangs up
(BYE to every phone) or when every phone has left; a phone may leave alone. Settings:
`paging_config.py`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

from media import Bridge
from media import Leg as MediaLeg
from media.tones import ToneSpec
from softswitch.features.multicast import open_multicast_leg
from softswitch.features.paging_caller import CallerSide
from softswitch.features.paging_config import PagingGroup, PagingSettings, auto_answer_headers
from softswitch.store.cdr import Disposition, HangupSide
from softswitch.store.records import Binding, User
from softswitch.switch.b2bua import B2bua
from softswitch.switch.dialplan import Paging, Route
from softswitch.switch.legs import Call, CallState
from softswitch.switch.location import Location
from softswitch.switch.originate import OriginatedLeg, OriginateError

__all__ = ["PAGE_BEEP", "Page", "PagingService", "UserLookup", "busy_extensions"]

log = logging.getLogger(__name__)

UserLookup = Callable[[str], Awaitable[User | None]]

# The start beep: a two-note chime, rising, 0.6 s in all.
PAGE_BEEP = (ToneSpec("page-chime-1", (660.0,), ((250, 50),), level_dbfs=-12.0),
             ToneSpec("page-chime-2", (880.0,), ((300, 0),), level_dbfs=-12.0))


def busy_extensions(b2bua: B2bua, *, besides: str = "") -> set[str]:
    """Extensions with an answered call in progress (other than call ``besides``)."""
    busy: set[str] = set()
    for summary in b2bua.calls():
        if summary["state"] == CallState.ANSWERED.value and summary["call_id"] != besides:
            busy.update((summary["caller"], summary["callee"]))
    return busy


class PagingService:
    """Serves the dial plan's `Paging` routes (`B2bua.serve(Paging, service.serve)`)."""

    def __init__(self, b2bua: B2bua, users: UserLookup, location: Location,
                 settings: PagingSettings) -> None:
        self.b2bua = b2bua
        self.users = users
        self.location = location
        self.settings = settings
        self._pages: dict[str, Page] = {}

    def pages(self) -> list[dict[str, Any]]:
        """The pages in progress (caller, group, phones answered)."""
        return [page.summary() for page in self._pages.values()]

    async def may(self, extension: str, right: str) -> bool:
        user = await self.users(extension)
        return user is not None and user.enabled and right in user.rights

    async def serve(self, call: Call, route: Route) -> None:
        assert isinstance(route, Paging)
        caller = await CallerSide.open_for(self.b2bua, call)
        if caller is None:
            return
        if not await self.may(call.caller, "paging"):
            log.info("page %s by %s refused: no paging right", route.number, call.caller)
            await caller.refuse(403, "Paging Not Allowed", "no paging right",
                                "paging_not_allowed", self.settings.language)
            return
        group = self.settings.groups[route.group]
        targets = await self.targets(group, call)
        if not targets and group.multicast is None:
            caller.fail(480, "Nobody To Page", "no phone to page")
            return
        page = Page(self, caller, route, group)
        self._pages[call.id] = page
        try:
            await page.run(targets)
        finally:
            if page.ended:
                self._pages.pop(call.id, None)
            else:
                call.on_end.append(lambda cause, side: self._pages.pop(call.id, None))

    async def targets(self, group: PagingGroup, call: Call) -> list[Binding]:
        """The contacts to page: the group's registered phones, less the caller's own and
        (with skip_busy) those of extensions in a call."""
        if group.members is None:
            bindings = await self.location.registered()
        else:
            bindings = []
            for extension in group.members:
                bindings += await self.location.contacts_for(extension)
        busy = busy_extensions(self.b2bua, besides=call.id) if self.settings.skip_busy else set()
        return [b for b in bindings if b.aor != call.caller and b.aor not in busy]


class Page:
    """One page in progress: the caller, the bridge, the phones that answered."""

    def __init__(self, service: PagingService, caller: CallerSide, route: Paging,
                 group: PagingGroup) -> None:
        self.service = service
        self.b2bua = service.b2bua
        self.caller = caller
        self.route = route
        self.group = group
        self.bridge: Bridge = self.b2bua.media.conference(f"page-{caller.call.id}")
        self.phones: dict[str, OriginatedLeg] = {}
        self.multicast: MediaLeg | None = None
        self.ended = False
        self._ringing: set[asyncio.Task[None]] = set()
        self._first_answer = asyncio.Event()

    def summary(self) -> dict[str, Any]:
        return {"call_id": self.caller.call.id, "caller": self.caller.call.caller,
                "number": self.route.number, "group": self.group.name,
                "phones": sorted(leg.number for leg in self.phones.values()),
                "multicast": ":".join(map(str, self.group.multicast))
                if self.group.multicast else None}

    async def run(self, targets: list[Binding]) -> None:
        """Ring every target, answer the caller at the first answer, beep, then let it run
        until the caller's BYE (`_caller_left`) or the last phone leaving."""
        media, settings = self.b2bua.media, self.service.settings
        media.join(self.bridge, self.caller.media)
        self.caller.call.on_end.append(self._caller_left)
        if self.group.multicast is not None:
            try:
                self.multicast = await open_multicast_leg(
                    media, self.group.multicast, f"page-{self.caller.call.id}-multicast")
            except OSError as exc:  # no port, or the group cannot be sent to: phones only
                log.warning("page %s: no multicast to %s: %s", self.route.number,
                            self.group.multicast, exc)
            else:
                media.join(self.bridge, self.multicast, muted=True)
        if not targets and self.multicast is None:
            self.caller.fail(503, "Paging Unavailable", "multicast paging failed")
            return
        for binding in targets:
            task = asyncio.ensure_future(self._ring(binding))
            self._ringing.add(task)
            task.add_done_callback(self._ring_done)
        if not await self._answered_or_given_up():
            return
        self.caller.answer(self.route.max_seconds)
        if self._ringing:
            await asyncio.wait(list(self._ringing), timeout=settings.answer_wait)
        if settings.beep and not self.ended:
            await media.play(self.bridge, list(PAGE_BEEP), barge_in=False, timeout=5.0)
        log.info("page %s by %s: %d phone(s)%s", self.route.number, self.caller.call.caller,
                 len(self.phones), " + multicast" if self.multicast else "")

    async def _answered_or_given_up(self) -> bool:
        """True once a phone answered (or at once with multicast); False when the caller
        cancelled or nobody answered, the caller then having had its final response."""
        if self.multicast is not None:
            return True
        cancelled = asyncio.ensure_future(self.caller.cancelled.wait())
        answered = asyncio.ensure_future(self._first_answer.wait())
        everyone = asyncio.ensure_future(asyncio.wait(list(self._ringing)))
        try:
            await asyncio.wait([cancelled, answered, everyone],
                               return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in (cancelled, answered, everyone):
                waiter.cancel()
        if self.caller.cancelled.is_set():
            self.caller.fail(487, "Request Terminated", "cancelled by caller",
                             Disposition.CANCELLED)
            return False
        if not self.phones:
            self.caller.fail(480, "No Phone Answered", "no paged phone answered")
            return False
        return True

    async def _ring(self, binding: Binding) -> None:
        settings = self.service.settings
        try:
            leg = await self.b2bua.originate(
                binding.aor, contacts=[binding], caller_id=self.caller.call.caller,
                display_name="Page", headers=auto_answer_headers(settings, binding.user_agent),
                timeout=settings.ring_timeout, purpose=f"paging {self.route.number}")
        except OriginateError as exc:
            log.info("page %s: %s not paged: %s", self.route.number, binding.aor, exc)
            return
        if self.ended:
            leg.hangup("page ended")
            return
        self.b2bua.media.join(self.bridge, leg.media, muted=True)
        self.phones[leg.id] = leg
        leg.on_end(partial(self._phone_left, leg))
        self._first_answer.set()

    def _ring_done(self, task: asyncio.Task[None]) -> None:
        self._ringing.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("page %s: ringing a phone failed", self.route.number,
                      exc_info=task.exception())
        self._end_if_empty()

    def _phone_left(self, leg: OriginatedLeg, cause: str, side: HangupSide) -> None:
        self.phones.pop(leg.id, None)
        self._end_if_empty()

    def _end_if_empty(self) -> None:
        """The last phone gone (and none ringing, no multicast): the page ends."""
        if self.ended or self.phones or self._ringing or self.multicast is not None:
            return
        if self.caller.call.state is CallState.ANSWERED:
            self.caller.hangup("every paged phone left")

    def _caller_left(self, cause: str, side: HangupSide) -> None:
        """The caller's call ended (BYE, CANCEL, refusal): every phone gets BYE."""
        self.ended = True
        for task in list(self._ringing):
            task.cancel()
        for leg in list(self.phones.values()):
            leg.hangup("page ended")
        self.phones.clear()
        self.b2bua.spawn(self._release())

    async def _release(self) -> None:
        media = self.b2bua.media
        media.stop_playback(self.bridge)
        if self.multicast is not None:
            await media.close_leg(self.multicast)
        await media.close_bridge(self.bridge)
