"""Call transfer on B2BUA calls: REFER (RFC 3515), blind or attended with Replaces (RFC 3891).

The switch anchors every call's media, so a transfer never re-INVITEs the phones that stay: it
moves media legs between bridges. The transferor's leg is *detached* from its call as soon as
the REFER is accepted (`B2bua.detach`), so its BYE ends only that leg, whenever it comes
(transferor hanging up early). Then:

- blind: the switch calls the Refer-To number itself (`B2bua.originate`, with the
  transferor's class of service and the transferee's number as caller id) while the
  transferee hears ringback, and bridges the transferee to the answered leg;
- attended: Refer-To carries a Replaces naming the transferor's other call; the two far ends
  are bridged together and both of the transferor's legs are hung up.

Two legs bridged across calls are *linked*: when either call ends, the other is hung up, so
nobody is left in silence. Progress goes back to the transferor as NOTIFYs with a
message/sipfrag body on the REFER's implicit subscription (100 Trying, then 200 OK or the
failure), unless it asked for none (``Refer-Sub: false``, RFC 4488). A failed blind transfer
puts the transferor back with the transferee when it is still there.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from functools import partial
from typing import Any

from media.tones import ToneSpec, tone
from softswitch.features.incall_keys import InCallKeys
from softswitch.features.transfer_sip import (
    SIPFRAG,
    TransferError,
    notify_headers,
    parse_refer_to,
    parse_replaces,
    sipfrag,
)
from softswitch.sip.dialog import DialogError, DialogId, DialogStateError
from softswitch.sip.message import Response
from softswitch.store.cdr import HangupSide
from softswitch.store.records import User
from softswitch.switch.auth import RequestAuthenticator
from softswitch.switch.b2bua import B2bua
from softswitch.switch.core import ServerRequest
from softswitch.switch.legs import Call, CallLeg, CallState
from softswitch.switch.originate import OriginateError

__all__ = ["TransferService", "party_of"]

log = logging.getLogger(__name__)

NOTIFY_WAIT = 2.0  # seconds the final NOTIFY may take before we BYE the transferor anyway


def party_of(leg: CallLeg) -> str:
    """The number of the phone on ``leg``: the caller on leg A, the called number on leg B."""
    return leg.call.caller if leg.side == "a" else leg.call.callee


class _Progress:
    """The NOTIFYs of one REFER's implicit subscription (RFC 3515 section 2.4.4)."""

    def __init__(self, b2bua: B2bua, leg: CallLeg, subscribed: bool) -> None:
        self.b2bua = b2bua
        self.leg = leg
        self.subscribed = subscribed
        self.done = False

    def send(self, status: int, reason: str, *, final: bool = False) -> asyncio.Future[Response] | None:
        """Report ``status``; nothing once terminated or when the transferor has gone."""
        dialog = self.leg.dialog
        if not self.subscribed or self.done or dialog is None or dialog.terminated:
            return None
        try:
            notify = dialog.create_request("NOTIFY", body=sipfrag(status, reason),
                                           content_type=SIPFRAG, headers=notify_headers(final))
        except DialogStateError as exc:
            log.info("call %s: no NOTIFY: %s", self.leg.call.id, exc.reason)
            return None
        self.done = final
        return self.b2bua.core.send_request(notify, self.leg.destination)


class TransferService:
    """Answers REFER on the B2BUA's dialogs and joins legs across calls."""

    def __init__(self, b2bua: B2bua, authenticator: RequestAuthenticator, *,
                 keys: InCallKeys | None = None,
                 ringback: ToneSpec = tone("cn", "ringback")) -> None:
        self.b2bua = b2bua
        self.auth = authenticator
        self.keys = keys  # in-call keys follow legs joined here
        self.ringback_tone = ringback
        self._links: dict[CallLeg, CallLeg] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        b2bua.core.handle("REFER", self.on_refer)
        b2bua.serve_replaces(self.on_replacing_invite)

    async def close(self) -> None:
        """Stop the transfers in progress (the calls themselves end with the B2BUA)."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def detach(self, leg: CallLeg) -> Call:
        """`B2bua.detach`, and ``leg`` is no longer joined or watched for keys."""
        if self.keys is not None:
            self.keys.unwatch(leg)
        self.unlink(leg)
        return self.b2bua.detach(leg)

    def partner(self, leg: CallLeg) -> CallLeg | None:
        """The leg ``leg`` talks to: the other leg of its call, or the leg linked to it."""
        linked = self._links.get(leg)
        if linked is not None:
            return linked
        return leg.call.b if leg is leg.call.a else leg.call.a

    # -- REFER ----------------------------------------------------------------------------
    async def on_refer(self, server: ServerRequest) -> None:
        """Authenticate, check, answer 202 and run the transfer (or refuse with a 4xx)."""
        request = server.request
        leg = self.b2bua.leg_of(DialogId.of_request(request))
        if leg is None or leg.dialog is None or leg.call.state is not CallState.ANSWERED:
            server.reply(481, "No Call To Transfer")
            return
        user = await self.auth.authenticate(server)
        if user is None:
            return
        user = await self.b2bua.identify(user)  # a hot-desk phone transfers as its user
        dialog = leg.dialog
        if user.extension != party_of(leg):
            server.respond(dialog.make_response(request, 403, "Not Your Call"))
            return
        try:
            dialog.receive_request(request)
        except DialogError as exc:
            server.reply(exc.status, exc.reason)
            return
        try:
            target = parse_refer_to(request)
            transferee = self.partner(leg)
            if transferee is None:
                raise TransferError(403, "Nothing To Transfer")
            replaced = self._replaced(leg, target.replaces, user) if target.replaces else None
        except TransferError as exc:
            server.respond(dialog.make_response(request, exc.status, exc.reason))
            return
        subscribed = (request.headers.get("refer-sub") or "").strip().lower() != "false"
        extra = [] if subscribed else [("Refer-Sub", "false")]
        server.respond(dialog.make_response(request, 202, "Accepted", headers=extra))
        progress = _Progress(self.b2bua, leg, subscribed)
        progress.send(100, "Trying")
        log.info("call %s: %s transfers %s to %s%s", leg.call.id, user.extension,
                 party_of(transferee), target.number, " (attended)" if replaced else "")
        if replaced is not None:
            self._spawn(self._attended(leg, transferee, replaced, progress))
        else:
            self._spawn(self.blind(leg, transferee, target.number, user, progress))

    def _replaced(self, leg: CallLeg, replaces: Any, user: User) -> CallLeg:
        """The transferor's other call that the Replaces names (either tag order: phones
        differ in whose view they write it)."""
        found = self.b2bua.leg_of(replaces.dialog_id) or self.b2bua.leg_of(
            DialogId(replaces.call_id, replaces.from_tag, replaces.to_tag))
        if found is None or found.call.state is not CallState.ANSWERED or found is leg:
            raise TransferError(481, "Replaced Call Does Not Exist")
        if party_of(found) != user.extension:
            raise TransferError(403, "Not Your Call")
        if self.partner(found) is None:
            raise TransferError(481, "Replaced Call Has Nobody To Join")
        return found

    # -- INVITE with Replaces -------------------------------------------------------------
    async def on_replacing_invite(self, call: Call) -> None:
        """An INVITE with Replaces (RFC 3891) takes the place of the dialog it names: the
        same user moving a call to another phone. The old leg is hung up; nobody else sees a
        change (the media stays anchored)."""
        assert call.server is not None
        try:
            replaces = parse_replaces(call.server.request.headers.get("replaces") or "")
        except TransferError as exc:
            await self.b2bua.refuse(call, exc.status, exc.reason, exc.reason)
            return
        old = self.b2bua.leg_of(replaces.dialog_id) or self.b2bua.leg_of(
            DialogId(replaces.call_id, replaces.from_tag, replaces.to_tag))
        partner = self.partner(old) if old is not None else None
        if old is None or partner is None or old.call.state is not CallState.ANSWERED:
            await self.b2bua.refuse(call, 481, "Call/Transaction Does Not Exist",
                                    "replaced dialog not found")
            return
        if party_of(old) != call.caller:
            await self.b2bua.refuse(call, 403, "Not Your Call", "replaces another's call")
            return
        log.info("call %s: %s replaces its dialog in %s", call.id, call.caller, old.call.id)
        call.callee = party_of(partner)
        alone = self.detach(old)
        leg = await self.b2bua.answer_alone(call)
        self.connect(leg, partner)
        self.b2bua.hang_up(alone, "replaced")

    # -- blind ----------------------------------------------------------------------------
    async def blind(self, leg: CallLeg, transferee: CallLeg, number: str, user: User,
                    progress: _Progress | None = None) -> bool:
        """Connect ``transferee`` to ``number`` (the switch calls it); ``leg``, the
        transferor, is detached at once and hung up after success. True when connected."""
        alone = self.detach(leg)
        call = transferee.call
        ringing = self.ringback(transferee)
        dialling = asyncio.ensure_future(self.b2bua.originate(
            number, caller_id=party_of(transferee), cos=user.class_of_service,
            purpose=f"transfer from {user.extension}"))
        call.on_end.append(lambda cause, side: dialling.cancel())  # transferee hung up
        try:
            target = await dialling
        except OriginateError as exc:
            log.info("call %s: transfer to %s failed: %s", call.id, number, exc)
            if progress is not None:
                progress.send(exc.status, exc.reason, final=True)
            self._stop_ring(transferee, ringing)
            if alone.state is CallState.ANSWERED and call.state is CallState.ANSWERED:
                self.connect(leg, transferee)  # back to the transferor
            else:
                self.b2bua.hang_up(call, f"transfer to {number} failed")
            return False
        except asyncio.CancelledError:  # the transferee hung up while the target rang
            if progress is not None:
                progress.send(487, "Request Terminated", final=True)
            self.b2bua.hang_up(alone, "transferee hung up")
            raise
        self._stop_ring(transferee, ringing)
        assert target.call.b is not None
        if call.state is not CallState.ANSWERED:
            target.hangup("transferee left")
            self.b2bua.hang_up(alone, "transferee left")
            return False
        self.connect(transferee, target.call.b)
        await self._finish(progress, [alone])
        return True

    # -- attended -------------------------------------------------------------------------
    async def _attended(self, leg: CallLeg, transferee: CallLeg, replaced: CallLeg,
                        progress: _Progress) -> None:
        """Join the far ends of the transferor's two calls; hang up its two legs."""
        target = self.partner(replaced)
        assert target is not None
        alone = [self.detach(leg), self.detach(replaced)]
        self.connect(transferee, target)
        await self._finish(progress, alone)

    async def _finish(self, progress: _Progress | None, transferor: list[Call]) -> None:
        """Final NOTIFY (200 OK), then the transferor's legs are hung up."""
        sent = progress.send(200, "OK", final=True) if progress is not None else None
        if sent is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(asyncio.shield(sent), NOTIFY_WAIT)
        for call in transferor:
            self.b2bua.hang_up(call, "transferred")

    # -- joining legs -----------------------------------------------------------------------
    def connect(self, x: CallLeg, y: CallLeg) -> None:
        """Bridge two legs (of different calls, usually): media only, no re-INVITE."""
        media = self.b2bua.media
        for leg in (x, y):
            if leg.hold_music is not None:
                leg.hold_music.cancel()
                leg.hold_music = None
            media.leave(leg.media)
            self.unlink(leg)
        bridge = media.bridge(x.media, y.media)
        x.call.bridge = y.call.bridge = bridge
        if self.keys is not None:
            self.keys.watch_pair(x, y)
        if x.call is not y.call:
            self._links[x], self._links[y] = y, x
            x.call.on_end.append(partial(self._leg_ended, x))
            y.call.on_end.append(partial(self._leg_ended, y))

    def unlink(self, leg: CallLeg) -> None:
        other = self._links.pop(leg, None)
        if other is not None and self._links.get(other) is leg:
            del self._links[other]

    def _leg_ended(self, leg: CallLeg, cause: str, side: HangupSide) -> None:
        """A linked call ended: its partner's call ends too."""
        other = self._links.pop(leg, None)
        if other is None:
            return
        self._links.pop(other, None)
        self.b2bua.hang_up(other.call, f"other party hung up ({cause})", side)

    def ringback(self, leg: CallLeg) -> asyncio.Future[Any] | None:
        """Ringback to the transferee while the target rings (unless it hears hold tone)."""
        if leg.hold_music is not None:
            return None
        return asyncio.ensure_future(
            self.b2bua.media.play(leg.media, [self.ringback_tone], loop=True, barge_in=False))

    @staticmethod
    def _stop_ring(leg: CallLeg, ringing: asyncio.Future[Any] | None) -> None:
        if ringing is not None:
            ringing.cancel()

    def _spawn(self, work: Any) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("transfer failed", exc_info=task.exception())
