"""Calls the switch itself places: paging, intercom, conference invites, follow-me, MWI calls.

`Originator.originate(number, ...)` rings an extension (every registered contact in parallel,
or one chosen contact) or an outside number through the dial plan's trunk route, with extra
headers (auto-answer), a no-answer timeout and the caller id to present. It returns an
`OriginatedLeg` once the phone answers: its `media` is a media-engine leg the caller of this
API connects to a bridge, a mixer or a flow; `on_end` reports the phone's BYE (or any other
end) and `hangup()` ends it. A failure raises `OriginateError` with the SIP status.

An originated call is a `Call` whose leg A is missing: leg B is built by the B2BUA's own fork,
answer, dialog and hang-up code (its public `new_invite`, `start_fork`, `first_answer`,
`confirm_answer`, `take_answer_b`, `hang_up`), so BYE, session refresh, late 2xx and CDR
handling are the ones every call gets. Cancelling the
`originate()` coroutine CANCELs the forks still ringing.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

from media import Leg as MediaLeg
from softswitch.sip.builders import new_call_id, new_tag
from softswitch.sip.dialog import DialogError, DialogStateError
from softswitch.sip.errors import RemoteProtocolError
from softswitch.sip.message import Response
from softswitch.sip.sdp import SdpError, SessionDescription, parse_sdp
from softswitch.sip.sdp_negotiation import SdpSession
from softswitch.sip.uri import SipURI, format_host
from softswitch.sip.values import Address
from softswitch.store.cdr import CallRecord, Disposition, HangupSide
from softswitch.store.records import Binding
from softswitch.switch.call import best_failure, disposition_for
from softswitch.switch.dialplan import Extension, Refused, Trunk
from softswitch.switch.legs import Call, CallLeg, CallState, Fork
from softswitch.switch.location import destination_of

if TYPE_CHECKING:
    from softswitch.switch.b2bua import B2bua

__all__ = ["HeaderSource", "OriginateError", "OriginatedLeg", "Originator"]

log = logging.getLogger(__name__)

# Extra INVITE headers: the same for every contact, or chosen per contact (by user agent).
HeaderSource = Sequence[tuple[str, str]] | Callable[[Binding], Iterable[tuple[str, str]]]


class OriginateError(Exception):
    """The originated call was not answered: ``status`` as a caller would have heard it."""

    def __init__(self, status: int, reason: str,
                 disposition: Disposition = Disposition.FAILED) -> None:
        super().__init__(f"{status} {reason}")
        self.status = status
        self.reason = reason
        self.disposition = disposition  # for the originated call's CDR


@dataclass(eq=False)
class OriginatedLeg:
    """An answered call the switch placed; hang it up with `hangup()`."""

    call: Call
    media: MediaLeg
    contact: Binding  # the contact that answered
    _originator: Originator

    @property
    def id(self) -> str:
        return self.call.id

    @property
    def number(self) -> str:
        return self.call.callee

    @property
    def ended(self) -> bool:
        return self.call.state is CallState.ENDED

    def on_end(self, watcher: Callable[[str, HangupSide], None]) -> None:
        """``watcher(cause, side)`` once when the call ends (at once if it already has)."""
        if self.ended:
            watcher("ended", HangupSide.SWITCH)
        else:
            self.call.on_end.append(watcher)

    def hangup(self, cause: str = "hung up by the switch") -> None:
        """BYE the phone, free the media leg, close the CDR (a no-op once ended)."""
        self._originator.b2bua.hang_up(self.call, cause, HangupSide.SWITCH)


class Originator:
    """Places calls from the switch through a B2BUA (reusing leg B's code)."""

    def __init__(self, b2bua: B2bua) -> None:
        self.b2bua = b2bua
        self._ids = itertools.count(1)

    async def originate(
        self,
        number: str,
        *,
        caller_id: str = "switch",
        display_name: str | None = None,
        headers: HeaderSource = (),
        contacts: Sequence[Binding] | None = None,
        timeout: float | None = None,
        cos: str = "internal",
        purpose: str = "originate",
        max_seconds: int | None = None,
    ) -> OriginatedLeg:
        """Call ``number`` and return the answered leg; OriginateError when nobody answers.

        ``contacts`` picks the contacts to ring (default: every registered contact of the
        extension, or the trunk target of an outside number routed with class of service
        ``cos``). ``purpose`` names the call in the CDR's route ('paging 621').
        """
        b2bua = self.b2bua
        trunk: str | None = None
        if contacts is None:
            contacts, trunk = await self._targets(number, cos)
        if not contacts:
            raise OriginateError(480, f"{number} not registered")
        try:
            media = await b2bua.media.open_leg(leg_id=f"orig{next(self._ids)}")
        except OSError as exc:  # no free RTP port
            raise OriginateError(503, f"no media port: {exc}") from None
        call = Call(id=new_call_id(b2bua.host), caller=caller_id, callee=number, dialled=number,
                    route=purpose, started_at=b2bua.now(), server=None, offer=None,
                    trunk=trunk)
        caps = b2bua.settings.capabilities
        call.b = CallLeg("b", call, media, SdpSession(caps, b2bua.host, media.stream.local[1]),
                         destination_of(contacts[0]))
        b2bua.track(call)
        # The record is written while the phones ring (a page opens 100 at once: waiting for
        # each commit before its INVITE would delay the last phone by 100 commits).
        opening = asyncio.ensure_future(b2bua.cdr.open(
            CallRecord(call.id, caller_id, number, number, purpose, call.started_at)))
        try:
            bindings = self._send_invites(call, contacts, headers, display_name)
            fork, ok = await self._await_answer(call, timeout or b2bua.settings.no_answer_timeout)
        except OriginateError as failure:
            _after(opening, partial(b2bua.hang_up, call, failure.reason, HangupSide.CALLEE,
                                    disposition=failure.disposition))
            raise
        except BaseException:
            b2bua.cancel_forks(f for f in call.forks if not f.future.done())
            _after(opening, partial(b2bua.hang_up, call, "originate cancelled",
                                    HangupSide.SWITCH, disposition=Disposition.CANCELLED))
            raise
        try:
            await asyncio.shield(opening)
        except BaseException:  # no record (or cancelled meanwhile): the answer is undone
            b2bua.drop_late_answer(fork, ok)
            _after(opening, partial(b2bua.hang_up, call, "originate cancelled",
                                    HangupSide.SWITCH, disposition=Disposition.CANCELLED))
            raise
        return self._connect(call, fork, ok, bindings[fork], max_seconds)

    async def _targets(self, number: str, cos: str) -> tuple[list[Binding], str | None]:
        b2bua = self.b2bua
        route = b2bua.route(number, cos)
        if isinstance(route, Extension):
            return await b2bua.location.contacts_for(route.number), None
        if isinstance(route, Refused):  # the class of service may not, or no such number
            raise OriginateError(route.status, route.reason)
        target = b2bua.trunk_target(route)
        if target is not None and isinstance(route, Trunk):
            return [target], route.trunk
        raise OriginateError(404, f"{number} is not an extension or outside number")

    def _send_invites(self, call: Call, contacts: Sequence[Binding], headers: HeaderSource,
                      display_name: str | None) -> dict[Fork, Binding]:
        b2bua = self.b2bua
        assert call.b is not None
        host = format_host(b2bua.host)
        caller = Address(SipURI(b2bua.host, call.caller), display_name)
        offer = call.b.sdp.create_offer().serialize()
        tag = new_tag()
        bindings: dict[Fork, Binding] = {}
        for binding in contacts:
            callee = Address(SipURI(b2bua.host, call.callee))
            extra = headers(binding) if callable(headers) else headers
            invite = b2bua.new_invite(binding, caller, callee, call.id, tag, offer,
                                      [(k, v.replace("HOST", host)) for k, v in extra])
            bindings[b2bua.start_fork(call, binding, invite, self._on_provisional)] = binding
        return bindings

    def _on_provisional(self, call: Call, fork: Fork, response: Response) -> None:
        """180/183: an early dialog for the fork (its 2xx then confirms it; a reliable 18x
        gets its PRACK, as the INVITE says Supported: 100rel), call ringing."""
        if self.b2bua.track_early(call, fork, response):
            call.state = CallState.RINGING

    async def _await_answer(self, call: Call, timeout: float) -> tuple[Fork, Response]:
        """The first 2xx wins; the other forks are CANCELled, late 2xx get ACK + BYE."""
        outcome = await self.b2bua.first_answer(call, timeout)
        self.b2bua.cancel_forks(outcome.pending.values())
        if outcome.winner is not None:
            return outcome.winner
        if outcome.pending:
            raise OriginateError(408, "No Answer", Disposition.NO_ANSWER)
        status = best_failure(outcome.failures)
        raise OriginateError(status, f"{status} from {call.callee}", disposition_for(status))

    def _connect(self, call: Call, fork: Fork, ok: Response, binding: Binding,
                 max_seconds: int | None) -> OriginatedLeg:
        """ACK the 2xx, take the SDP answer into the media leg, start billing."""
        b2bua, b = self.b2bua, call.b
        assert b is not None
        try:
            b2bua.confirm_answer(call, fork, ok)
        except (DialogError, DialogStateError, RemoteProtocolError) as exc:
            b2bua.hang_up(call, "bad 2xx", HangupSide.CALLEE, disposition=Disposition.FAILED)
            raise OriginateError(502, f"bad 2xx from {call.callee}: {exc}") from None
        try:
            b2bua.take_answer_b(call, _answer_of(ok))
        except SdpError as exc:
            b2bua.hang_up(call, exc.reason, HangupSide.SWITCH, disposition=Disposition.FAILED)
            raise OriginateError(488, exc.reason) from None
        b2bua.mark_answered(call)
        if max_seconds:
            call.limit = asyncio.get_running_loop().call_later(
                max_seconds, b2bua.hang_up, call, "maximum call duration", HangupSide.SWITCH)
        log.info("originated %s: %s -> %s answered", call.id, call.caller, call.callee)
        return OriginatedLeg(call, b.media, binding, self)


def _answer_of(response: Response) -> SessionDescription:
    """The SDP answer a 2xx to our offer must carry (RFC 3264 section 5)."""
    if not response.body:
        raise SdpError("the 2xx has no SDP answer", 488)
    return parse_sdp(response.body)


def _after(opening: asyncio.Future[None], then: Callable[[], None]) -> None:
    """Run ``then`` once the call's record is written (or failed to be): a hang-up closes
    the record, so it must not overtake the open."""

    def written(future: asyncio.Future[None]) -> None:
        if not future.cancelled() and future.exception() is not None:
            log.warning("originated call: record not written: %s", future.exception())
        then()

    if opening.done():
        written(opening)
    else:
        opening.add_done_callback(written)
