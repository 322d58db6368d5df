"""Transfer by keypad for phones without a transfer button (in-call keys, `incall_keys.py`).

- ``##`` + number (+ ``#`` or a pause): blind transfer, as a REFER without Replaces would do
  (the transferor is hung up once the target answers; back to the transferee if it fails).
- ``*2`` + number: attended. The transferee hears the hold tone while the transferor consults
  the target. The transferor hanging up completes the transfer; the target hanging up (or not
  answering) puts the transferor back with the transferee.

Only extensions may transfer: the key's leg must be a registered user's (class of service
for the call to the target is the transferor's).
"""

from __future__ import annotations

import asyncio
import logging

from softswitch.features.incall_keys import InCallKeys, KeyPress
from softswitch.features.transfer import TransferService, party_of
from softswitch.store.records import User
from softswitch.switch.b2bua import HOLD_TONE
from softswitch.switch.legs import CallLeg, CallState
from softswitch.switch.originate import OriginateError
from softswitch.switch.readcache import UserCache

__all__ = ["BLIND_KEY", "CONSULT_KEY", "TransferKeys"]

log = logging.getLogger(__name__)

BLIND_KEY = "##"
CONSULT_KEY = "*2"


class TransferKeys:
    """Registers ``##`` and ``*2`` on the in-call keys and runs the transfers."""

    def __init__(self, keys: InCallKeys, transfers: TransferService, users: UserCache) -> None:
        self.transfers = transfers
        self.users = users
        keys.register(BLIND_KEY, self.on_blind, with_number=True)
        keys.register(CONSULT_KEY, self.on_consult, with_number=True)

    async def _transferor(self, press: KeyPress) -> tuple[User, CallLeg] | None:
        user = await self.users.get(party_of(press.leg))
        transferee = self.transfers.partner(press.leg)
        if user is None or not user.enabled or transferee is None or not press.argument:
            log.info("call %s: %s%s ignored (no user, number or party)", press.call.id,
                     press.sequence, press.argument)
            return None
        return user, transferee

    async def on_blind(self, press: KeyPress) -> None:
        found = await self._transferor(press)
        if found is not None:
            user, transferee = found
            await self.transfers.blind(press.leg, transferee, press.argument, user)

    async def on_consult(self, press: KeyPress) -> None:
        found = await self._transferor(press)
        if found is not None:
            await self.consult(press.leg, found[1], press.argument, found[0])

    async def consult(self, leg: CallLeg, transferee: CallLeg, number: str, user: User) -> None:
        """Consultation call from ``leg`` to ``number``, then complete or go back."""
        b2bua, media = self.transfers.b2bua, self.transfers.b2bua.media
        alone = self.transfers.detach(leg)  # its BYE now ends only the transferor's leg
        media.leave(transferee.media)
        held = asyncio.ensure_future(
            media.play(transferee.media, [HOLD_TONE], loop=True, barge_in=False))
        ringing = self.transfers.ringback(leg)
        try:
            target = await b2bua.originate(number, caller_id=party_of(leg),
                                           cos=user.class_of_service,
                                           purpose=f"consultation from {user.extension}")
        except OriginateError as exc:
            log.info("call %s: consultation with %s failed: %s", transferee.call.id, number, exc)
            self._back(leg, transferee, held, ringing)
            return
        if ringing is not None:
            ringing.cancel()
        assert target.call.b is not None
        media.leave(leg.media)
        media.bridge(leg.media, target.media)
        ended = {name: asyncio.get_running_loop().create_future()
                 for name in ("transferor", "target", "transferee")}
        for name, call in (("transferor", alone), ("target", target.call),
                           ("transferee", transferee.call)):
            call.on_end.append(lambda cause, side, f=ended[name]: f.done() or f.set_result(cause))
        done, _ = await asyncio.wait(ended.values(), return_when=asyncio.FIRST_COMPLETED)
        held.cancel()
        if ended["transferor"] in done and transferee.call.state is CallState.ANSWERED:
            log.info("call %s: attended transfer to %s completed", transferee.call.id, number)
            self.transfers.connect(transferee, target.call.b)
        elif ended["target"] in done and alone.state is CallState.ANSWERED:
            self._back(leg, transferee, None, None)
        elif ended["transferee"] in done:
            self.transfers.connect(leg, target.call.b)  # the two left go on talking
        else:
            target.hangup("consultation ended")

    def _back(self, leg: CallLeg, transferee: CallLeg, *playing: asyncio.Future[object] | None
              ) -> None:
        """The transferor and the transferee talk again (when both are still there)."""
        for tone in playing:
            if tone is not None:
                tone.cancel()
        if leg.call.state is CallState.ANSWERED and transferee.call.state is CallState.ANSWERED:
            self.transfers.connect(leg, transferee)
        else:
            for call in (leg.call, transferee.call):
                self.transfers.b2bua.hang_up(call, "consultation failed")
