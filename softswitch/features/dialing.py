"""`Call.dial`, `bridge` and `transfer` for flows on the switch: a flow rings a number and
connects its caller to whoever answers (an IVR's "press 0 for an operator", a consultation
line that puts the patient through to the expert on duty).

The number is rung with `B2bua.originate` as the caller (their number shown, their class of
service checked), while an answered caller hears ringback; at the answer the caller is answered
if the flow had not done so, and the two media legs are bridged. The flow waits until the
dialled party hangs up (the caller is then back in the flow, unbridged) or the caller does
(`Hangup` cancels the wait, and the dialled party gets a BYE).
"""

from __future__ import annotations

import asyncio
import logging

from media.tones import tone
from softswitch.flows import Call as FlowCall
from softswitch.flows import CallState, DialFailed, EngineMediaPort, MediaPort
from softswitch.switch.b2bua import B2bua
from softswitch.switch.originate import OriginateError
from softswitch.switch.readcache import UserCache

__all__ = ["FlowDialer"]

log = logging.getLogger(__name__)

RINGBACK = tone("cn", "ringback")


class FlowDialer:
    """The switch's `DialSeam`: one per switch, set on the flow runner."""

    def __init__(self, b2bua: B2bua, users: UserCache) -> None:
        self.b2bua = b2bua
        self.users = users

    async def dial(self, call: FlowCall, port: MediaPort, number: str, timeout: float) -> None:
        if not isinstance(port, EngineMediaPort):
            raise DialFailed(number, 503, "this call has no media leg to connect")
        user = await self.users.get(call.caller)
        cos = user.class_of_service if user is not None else "internal"
        ringback = port.play([RINGBACK] * 30, barge_in=False) if (
            call.state is CallState.ANSWERED) else None
        try:
            far = await self.b2bua.originate(number, caller_id=call.caller, cos=cos,
                                             timeout=timeout, purpose=f"dialled by {call.call_id}")
        except OriginateError as exc:
            raise DialFailed(number, exc.status, exc.reason) from None
        finally:
            if ringback is not None:
                port.stop()
        try:
            ended: asyncio.Future[str] = asyncio.get_running_loop().create_future()
            far.on_end(lambda cause, side: ended.done() or ended.set_result(cause))
            if call.state is not CallState.ANSWERED:
                await call.answer()
            bridge = port.engine.bridge(port.leg, far.media)
            try:
                cause = await ended
            finally:
                await port.engine.close_bridge(bridge)  # the caller's leg is the flow's again
            log.info("call %s: dialled %s ended (%s)", call.call_id, number, cause)
        finally:
            if not far.ended:
                far.hangup("caller left the flow")  # Hangup, or the flow failed meanwhile
