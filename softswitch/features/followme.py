"""Follow-me for staff on the move: when the desk phone does not answer (or is busy, or not
registered), ring a list of other numbers one after the other, each for ``ring_seconds``.

It is the first diversion the B2BUA asks (`B2bua.divert_unanswered(first=True)`, before
voicemail): it names the built-in ``follow_me`` flow, which runs on the caller's leg without
answering it, calls each number (`B2bua.originate`, with the called user's class of service
and the caller's number shown) and, at the first answer, answers the caller and links the two
legs (`TransferService.connect`). Nobody answering ends the call as unanswered.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

from softswitch.features.followme_store import LineSettingsRepository
from softswitch.features.transfer import TransferService
from softswitch.flows import Call as FlowCall
from softswitch.switch.b2bua import B2bua
from softswitch.switch.legs import Call, CallState
from softswitch.switch.originate import OriginateError
from softswitch.switch.readcache import UserCache

__all__ = ["FLOW", "FollowMe"]

log = logging.getLogger(__name__)

FLOW = "follow_me"


class FollowMe:
    def __init__(self, b2bua: B2bua, settings: LineSettingsRepository, users: UserCache,
                 transfers: TransferService) -> None:
        self.b2bua = b2bua
        self.settings = settings
        self.users = users
        self.transfers = transfers
        b2bua.divert_unanswered(self.divert, first=True)

    async def divert(self, call: Call, reason: str) -> tuple[str, Mapping[str, Any]] | None:
        """The follow-me flow for an extension with a list; None leaves the call to others."""
        if call.server is None:
            return None
        settings = await self.settings.get(call.callee)
        if not settings.follow_me:
            return None
        log.info("call %s: %s (%s), following %s to %s", call.id, call.callee, reason,
                 call.callee, ",".join(settings.follow_me))
        return FLOW, {"call_id": call.id, "numbers": list(settings.follow_me),
                      "ring_seconds": settings.ring_seconds}

    async def flow(self, flow_call: FlowCall) -> None:
        """Ring each number in turn; connect the caller to the first that answers."""
        call = self.b2bua.find(str(flow_call.variables["call_id"]))
        if call is None or call.a is None:
            return
        user = await self.users.get(call.callee)
        cos = user.class_of_service if user is not None else "internal"
        for number in flow_call.variables["numbers"]:
            try:
                target = await self.b2bua.originate(
                    str(number), caller_id=call.caller, cos=cos,
                    timeout=float(flow_call.variables["ring_seconds"]),
                    purpose=f"follow-me for {call.callee}")
            except OriginateError as exc:
                log.info("call %s: follow-me %s: %s", call.id, number, exc)
                continue
            if call.state is CallState.ENDED:
                target.hangup("caller left")
                return
            await flow_call.answer()
            assert target.call.b is not None
            self.transfers.connect(call.a, target.call.b)
            ended = asyncio.get_running_loop().create_future()
            call.on_end.append(lambda cause, side: ended.done() or ended.set_result(cause))
            await ended  # the talk lasts until either side hangs up (the link ends both)
            return
