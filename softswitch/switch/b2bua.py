"""The B2BUA: calls between registered extensions, media anchored on the switch.

A call is two legs (see `legs.py`). Leg A is the caller's INVITE, answered by us; leg B is a
fresh dialog we start towards every registered contact of the callee (parallel forking, RFC
3261 16.6 done by a UA: first 2xx wins, the others are CANCELled, a late 2xx gets ACK + BYE).
Nothing is copied from one leg's SIP to the other's: new Call-ID, tags, Via and Contact. What
crosses between the legs is call control: ringing, answer, hangup with a cause.

The order of one call follows docs/calls-design.md: authenticate (407, the registrar's digest
service), read the offer (400/488), route through the dial plan (403/404 for refusals), find
the contacts (480 when none), open both media legs, offer leg B the caller's codecs first so
the engine can relay without transcoding, relay 180/183, answer A from B's answer, bridge.

The asyncio work is thin: one coroutine per call set-up, `loop.call_at` handles for the dialog
deadlines (2xx resend until ACK, give-up BYE) and the maximum call duration; the protocol rules
live in the sans-IO `Dialog`, `SdpSession` and transaction layer.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import secrets
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from functools import cache, partial
from pathlib import Path
from typing import Any

from media import Direction as MediaDirection
from media import Leg as MediaLeg
from media import MediaEngine, MediaFormat
from media.tones import ToneSpec
from softswitch.sip.builders import new_branch, new_call_id, new_tag
from softswitch.sip.destination import Destination
from softswitch.sip.dialog import (
    AnswerResent,
    Dialog,
    DialogEnded,
    DialogError,
    DialogId,
    DialogStateError,
    RefreshDue,
    SendRequest,
)
from softswitch.sip.errors import RemoteProtocolError, TransactionError
from softswitch.sip.headers import Headers
from softswitch.sip.message import Request, Response
from softswitch.sip.reliable import prack_for, requires_100rel
from softswitch.sip.sdp import Direction, SdpError, SessionDescription, parse_sdp
from softswitch.sip.sdp_negotiation import (
    Negotiated,
    SdpSession,
    accept_answer,
    answer_from_other_leg,
    bridge_preference,
)
from softswitch.sip.session_timer import (
    MIN_SE_FLOOR,
    SessionIntervalTooSmall,
    SessionTimerTerms,
    negotiate_as_uac,
    negotiate_as_uas,
    uac_request_headers,
    uas_response_headers,
)
from softswitch.sip.uri import URI, SipURI, format_host, parse_uri
from softswitch.sip.values import Address, Via, parse_via
from softswitch.store.cdr import CallRecord, CdrRepository, Disposition, HangupSide
from softswitch.store.records import Binding, User
from softswitch.switch.announce import LIMIT_PROMPT, PromptFinder, announce
from softswitch.switch.auth import RequestAuthenticator
from softswitch.switch.call import best_failure, disposition_for
from softswitch.switch.call_settings import CallSettings
from softswitch.switch.cancel_signal import CancelSignal
from softswitch.switch.core import ServerRequest, SipCore
from softswitch.switch.dialplan import DialPlan, Extension, Feature, Flow, Refused, Route, Trunk
from softswitch.switch.fork_answer import ForkOutcome, first_answer
from softswitch.switch.leg_records import leg_records
from softswitch.switch.legs import Call, CallLeg, CallState, FlowSessionLike, Fork
from softswitch.switch.location import Location, destination_of
from softswitch.switch.originate import OriginatedLeg, Originator
from softswitch.switch.prack import ReliableLeg
from softswitch.switch.rtp_watch import RtpWatch
from softswitch.switch.trunk_auth import authorized_retry
from softswitch.switch.trunks import Trunks, present_caller

__all__ = ["B2bua", "CallHook", "CallSettings", "Diversion", "FlowStarter", "RouteHandler"]

# Starts the flow named by a Flow route on the call's media leg, with the B2BUA's answer and
# hang-up callbacks and the flow's initial variables; None when no flow has that name.
# Supplied by the app (softswitch.flows sits above the switching core, so the B2BUA does not
# import it).
FlowStarter = Callable[
    [str, MediaLeg, Callable[[], Awaitable[None]], Callable[[str], None], Call,
     Mapping[str, Any] | None],
    FlowSessionLike | None,
]

# Takes over a new call whose route a feature serves (conference, paging, a `*` code): it must
# answer, refuse (`B2bua.refuse`) or hand the call to a flow (`B2bua.start_flow`).
RouteHandler = Callable[[Call, Route], Awaitable[None]]

# Told that a call's two legs are connected (answer, transfer); `Call.on_end` tells its end.
CallHook = Callable[[Call], None]
# Decides where a call to an extension goes when it cannot be connected: ``reason`` is busy,
# no_answer or unavailable (not registered); returns (flow name, variables) to run that flow
# on the caller's leg instead of failing the call (voicemail), or None to fail as usual.
Diversion = Callable[[Call, str], Awaitable[tuple[str, Mapping[str, Any]] | None]]

log = logging.getLogger(__name__)

ALLOW = "INVITE, ACK, CANCEL, BYE, OPTIONS, UPDATE, REFER, PRACK"
# What a held party hears: a short soft beep every four seconds, so it knows the line is alive.
HOLD_TONE = ToneSpec("hold", (425.0,), ((200, 3800),), level_dbfs=-20.0)


class B2bua:
    """Owns the calls in progress; `attach()` hooks it into the SIP core."""

    def __init__(
        self,
        core: SipCore,
        authenticator: RequestAuthenticator,
        location: Location,
        plan: DialPlan,
        media: MediaEngine,
        cdr: CdrRepository,
        *,
        host: str,
        port: int,
        settings: CallSettings = CallSettings(),
        clock: Callable[[], float] = time.time,
        trunks: Trunks | None = None,
        flows: FlowStarter | None = None,
        prompts: PromptFinder | None = None,
    ) -> None:
        self.core = core
        self.auth = authenticator
        self.location = location
        self.plan = plan
        self.media = media
        self.cdr = cdr
        self.host = host  # our address in Via, Contact and SDP
        self.port = port
        self.settings = settings
        self.trunks = trunks  # SIP trunks: IP-ACL inbound, outbound routes (trunks.py)
        self.flows = flows  # call flows (IVR) bound to numbers of the dial plan
        self.prompts = prompts  # the switch's own announcements (announce.py)
        self._clock = clock
        self._loop = asyncio.get_running_loop()
        self._calls: dict[str, Call] = {}
        self._legs: dict[DialogId, CallLeg] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._ids = itertools.count(1)
        self._route_handlers: dict[type, RouteHandler] = {}
        self._feature_handlers: dict[str, RouteHandler] = {}
        self._bridged_hooks: list[CallHook] = []
        self._replaces: Callable[[Call], Awaitable[None]] | None = None
        self._rewrite: Callable[[str, str], Awaitable[str | None]] | None = None
        self._identify: Callable[[User], Awaitable[User]] | None = None
        self._diversions: list[Diversion] = []
        self._busy: Callable[[str], Awaitable[bool]] | None = None
        self.originator = Originator(self)

    async def originate(self, number: str, **options: Any) -> OriginatedLeg:
        """The switch calls ``number`` itself and returns the answered leg: see
        `Originator.originate` for the options; raises `OriginateError`."""
        return await self.originator.originate(number, **options)

    def serve(self, kind: type, handler: RouteHandler) -> None:
        """Let a feature serve every call routed to ``kind`` (Conference, Paging, Queue...)."""
        self._route_handlers[kind] = handler

    def serve_feature(self, name: str, handler: RouteHandler) -> None:
        """Let a feature serve the dial plan's feature code named ``name`` (``pickup``...)."""
        self._feature_handlers[name] = handler

    def identify_callers(self, identify: Callable[[User], Awaitable[User]]) -> None:
        """``await identify(user)`` names who calls from an authenticated phone (hot-desking:
        the user logged in there, with that user's class of service)."""
        self._identify = identify

    async def identify(self, user: User) -> User:
        """The user calls from ``user``'s phone are made as (itself when nobody logged in)."""
        return await self._identify(user) if self._identify is not None else user

    def rewrite_numbers(self, rewrite: Callable[[str, str], Awaitable[str | None]]) -> None:
        """Before routing an extension's call, ``await rewrite(caller, dialled)`` may give the
        number to route instead (speed dial); None keeps the dialled one."""
        self._rewrite = rewrite

    def serve_replaces(self, handler: Callable[[Call], Awaitable[None]]) -> None:
        """Let a feature take every new INVITE with a Replaces header (RFC 3891) from an
        extension: ``handler(call)`` answers or refuses it like a route handler."""
        self._replaces = handler

    def on_bridged(self, hook: CallHook) -> None:
        """Call ``hook(call)`` whenever a call's two legs are connected (answer, transfer)."""
        self._bridged_hooks.append(hook)

    def _tell(self, hooks: list[CallHook], call: Call) -> None:
        for hook in hooks:
            try:
                hook(call)
            except Exception:  # a feature's bug must not break the call
                log.exception("call %s: hook %r failed", call.id, hook)

    def divert_unanswered(self, diversion: Diversion, *, first: bool = False) -> None:
        """Let a feature take calls to extensions that are busy, do not answer or are not
        registered (voicemail) instead of failing them; the first diversion that names a
        flow wins (``first``: ask this one before the others, e.g. follow-me before
        voicemail)."""
        if first:
            self._diversions.insert(0, diversion)
        else:
            self._diversions.append(diversion)

    def busy_when(self, busy: Callable[[str], Awaitable[bool]]) -> None:
        """``await busy(extension)`` before ringing an extension: True refuses the call 486
        (or diverts it as busy) instead of ringing (call waiting off)."""
        self._busy = busy

    def _handler_for(self, route: Route) -> RouteHandler | None:
        if isinstance(route, Feature):
            return self._feature_handlers.get(route.name)
        return self._route_handlers.get(type(route))

    def attach(self) -> None:
        core = self.core
        core.handle("INVITE", self.on_invite)
        core.handle("BYE", self.on_bye)
        core.handle("UPDATE", self.on_update)
        core.handle("PRACK", self.on_prack)
        core.on_ack = self.on_ack
        core.on_stray_response = self.on_stray_response

    def calls(self) -> list[dict[str, Any]]:
        """The calls in progress, oldest first."""
        return [call.summary() for call in self._calls.values()]

    def in_answered_call(self, extension: str) -> bool:
        """Whether ``extension`` is a party of an answered call (checked on every INVITE:
        no summaries built)."""
        return any(call.state is CallState.ANSWERED and extension in (call.caller, call.callee)
                   for call in self._calls.values())

    def find(self, call_id: str) -> Call | None:
        """A call in progress by its leg A Call-ID (monitoring, tests, later transfer)."""
        return self._calls.get(call_id)

    async def close(self) -> None:
        """Hang up every call (BYE both sides) and write their records."""
        for call in list(self._calls.values()):
            self._hangup(call, None, "switch stopping", HangupSide.SWITCH)
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    # -- seams for transfer and pickup (softswitch/features/transfer.py) -----------------
    def leg_of(self, dialog_id: DialogId) -> CallLeg | None:
        """The call leg of a dialog (an in-dialog REFER's, or the one a Replaces names)."""
        return self._legs.get(dialog_id)

    def detach(self, leg: CallLeg) -> Call:
        """Take ``leg`` out of its call (a transferor): it lives on alone, unbridged, until
        its BYE or ours ends only it. Returns the one-leg call now holding it."""
        call = leg.call
        alone = Call(id=f"{call.id}/{leg.side}", caller=call.caller, callee=call.callee,
                     dialled=call.dialled, route=call.route, started_at=call.started_at,
                     server=None, offer=None, state=call.state)  # no record of its own
        setattr(call, leg.side, None)
        setattr(alone, leg.side, leg)
        leg.call = alone
        if leg.hold_music is not None:
            leg.hold_music.cancel()
            leg.hold_music = None
        self.media.leave(leg.media)
        return alone

    def hang_up(self, call: Call, cause: str, side: HangupSide = HangupSide.SWITCH, *,
                disposition: Disposition = Disposition.ANSWERED) -> None:
        """End ``call``: BYE its legs, free its media, close its record (once); a call never
        answered is recorded FAILED unless ``disposition`` says why."""
        self._hangup(call, None, cause, side, disposition=disposition)

    async def answer_alone(self, call: Call) -> CallLeg:
        """Answer a new call on a media leg of its own, with nobody bridged yet: a feature
        then bridges that leg (an INVITE with Replaces, a pickup)."""
        assert call.server is not None
        media_a = await self.media.open_leg(leg_id=f"call{next(self._ids)}-a")
        call.a = CallLeg("a", call, media_a,
                         SdpSession(self.settings.capabilities, self.host, media_a.stream.local[1]),
                         call.server.source)
        self._calls[call.id] = call
        await self.cdr.open(_record_of(call))
        await self._answer_flow(call)
        return call.a

    async def take_over(self, call: Call) -> CallLeg:
        """Answer a ringing call's caller ourselves (call pickup): its forks are CANCELled,
        its leg B dropped, leg A answered; returns leg A for a feature to bridge."""
        a, b = call.a, call.b
        assert a is not None and call.state in (CallState.ROUTING, CallState.RINGING)
        call.taken = True
        self.cancel_forks(fork for fork in call.forks if not fork.future.done())
        if b is not None:
            call.b, call.bridge = None, None
            await self.media.close_leg(b.media)
        if call.answer_a is None:
            await self._answer_flow(call)
        else:  # early media already gave A our answer: the 200 repeats it
            self.send_to_a(call, 200, call.answer_a)
            self.mark_answered(call)
        return a

    async def on_invite(self, server: ServerRequest) -> None:
        request = server.request
        if request.to.tag:
            self._in_dialog_offer(server)
            return
        if not request.contacts:  # RFC 3261 8.1.1.8: the call's dialog needs a remote target
            server.reply(400, "Missing Contact")
            return
        trunk_in = self.trunks.inbound(server.source.host) if self.trunks else None
        if trunk_in is None:
            user = await self.auth.authenticate(server)
            if user is None:
                return
            user = await self.identify(user)
            caller, cos = user.extension, user.class_of_service
        else:  # a trunk's ACL admits the source: no digest, the From user is the caller
            caller, cos = _caller_number(request), "internal"
        try:
            offer = _offer_of(request)
        except SdpError as exc:
            server.reply(exc.status, exc.reason)
            return
        try:
            terms_a = self._session_terms(request)
        except RemoteProtocolError as exc:
            _refuse_session_terms(server, exc)
            return
        dialled = request.uri.user if isinstance(request.uri, SipURI) else None
        if self._replaces is not None and trunk_in is None and "replaces" in request.headers:
            await self._replaces(Call(
                id=request.call_id, caller=caller, callee="", dialled=dialled or "",
                route="replaces", started_at=self._clock(), server=server, offer=offer,
                session_terms=terms_a))
            return
        target = trunk_in.did_target(dialled or "") if trunk_in else dialled  # DID map
        if self._rewrite is not None and trunk_in is None and target:
            target = await self._rewrite(caller, target) or target  # speed dial
        route = self.route(target or "", cos)
        call = Call(
            id=request.call_id, caller=caller, callee=_callee_of(route),
            dialled=dialled or "", route=_describe(route), started_at=self._clock(),
            server=server, offer=offer, session_terms=terms_a, cost_class=_cost_class(route),
        )
        if requires_100rel(request):
            call.reliable = self._reliable_for(call)
        if isinstance(route, Refused):
            log.info("call %s from %s to %r refused: %s (prompt %s)", call.id, call.caller,
                     call.dialled, route.reason, route.prompt)
            await self._refuse_spoken(call, route)
            return
        trunk_target = self.trunk_target(route)
        if trunk_target is not None:
            assert isinstance(route, Trunk)
            call.trunk, contacts = route.trunk, [trunk_target]
        elif (handler := self._handler_for(route)) is not None:
            await handler(call, route)
            return
        elif isinstance(route, Flow) and self.flows is not None:
            await self.start_flow(call, route.flow)
            return
        elif not isinstance(route, Extension):
            server.reply(480, f"{call.route} is not served yet")
            await self._record_unanswered(call, 480, f"{call.route} not served")
            return
        else:
            contacts = await self.location.contacts_for(route.number)
        if (contacts and isinstance(route, Extension) and self._busy is not None
                and await self._busy(route.number)):
            if not await self._divert(call, "busy"):
                await self.refuse(call, 486, "Busy Here", "callee busy")
            return
        if not contacts:
            if isinstance(route, Extension) and await self._divert(call, "unavailable"):
                return
            server.reply(480, "Not Registered")
            await self._record_unanswered(call, 480, "callee not registered")
            return
        if request.call_id in self._calls:
            server.reply(482, "Loop Detected")
            return
        self._calls[call.id] = call
        try:
            # Not awaited: the INVITE is not held up by a disk commit (~1-100 ms). Later writes
            # of the call (answered, close) are queued after this one, so they apply in order.
            self._recorded(self.cdr.post_open(_record_of(call)))
            await self._ring(call, contacts, route.max_seconds)
        except BaseException:
            if call.state is not CallState.ENDED:
                server.reply(500)
                self._hangup(call, None, "internal error", HangupSide.SWITCH,
                             disposition=Disposition.FAILED)
            raise

    def _session_terms(self, request: Request) -> SessionTimerTerms | None:
        """RFC 4028 terms for an INVITE/UPDATE we answer (None: timers off); raises
        SessionIntervalTooSmall (422) or RemoteProtocolError (400) for a bad header."""
        policy = self.settings.session_timer
        return negotiate_as_uas(request, policy) if policy is not None else None

    def route(self, dialled: str, cos: str) -> Route:
        """Where ``dialled`` goes for class of service ``cos`` (the dial plan's answer)."""
        try:
            return self.plan.route(dialled, cos)
        except Exception as exc:  # an unknown class of service is a configuration slip
            log.warning("class of service %r: %s; using 'internal'", cos, exc)
            return self.plan.route(dialled, "internal")

    # -- calls answered by a flow (IVR) ------------------------------------------------------
    async def start_flow(self, call: Call, name: str,
                         variables: Mapping[str, Any] | None = None) -> None:
        """One media leg on the switch, and flow ``name`` runs against it (softswitch.flows);
        404 when no flow has that name."""
        assert self.flows is not None
        media_a = await self.media.open_leg(leg_id=f"call{next(self._ids)}-a")
        call.a = CallLeg("a", call, media_a,
                         SdpSession(self.settings.capabilities, self.host, media_a.stream.local[1]),
                         call.server.source)
        call.flow = self.flows(name, media_a, partial(self._answer_flow, call),
                               partial(self._flow_hangup, call), call, variables)
        if call.flow is None:
            await self.media.close_leg(media_a)
            await self.refuse(call, 404, "No Such Service", f"flow {name} not registered")
            return
        self._calls[call.id] = call
        await self.cdr.open(_record_of(call))
        await self._run_flow(call)

    async def _divert(self, call: Call, reason: str) -> bool:
        """Hand a call that cannot be connected to the diversion's flow (see `Diversion`),
        on the caller's media leg; leg B, if any, is dropped. False: fail it as usual."""
        if not self._diversions or self.flows is None or call.trunk is not None:
            return False
        target = None
        for diversion in self._diversions:
            target = await diversion(call, reason)
            if target is not None:
                break
        cancelled = call.server.cancelled is not None and call.server.cancelled.is_set()
        if target is None or call.state is CallState.ENDED or cancelled:
            return False
        name, variables = target
        if call.a is None:  # never rang anywhere: a fresh call answered by the flow
            await self.start_flow(call, name, variables)
            return True
        session = self.flows(name, call.a.media, partial(self._answer_flow, call),
                             partial(self._flow_hangup, call), call, variables)
        if session is None:
            return False
        call.flow = session
        if call.b is not None:
            await self.media.close_leg(call.b.media)
            call.b, call.bridge = None, None
        log.info("call %s: %s, diverted to flow %s", call.id, reason, name)
        await self._run_flow(call)
        return True

    async def _run_flow(self, call: Call) -> None:
        """Watch the call's flow to its end. The INVITE's handler waits here: the core answers
        500 to an INVITE whose handler returns before a final response, and a flow may take
        its time to answer (or never does). The watch itself survives the handler's task."""
        watch = self.spawn(self._watch_flow(call))
        await asyncio.shield(watch)

    async def _answer_flow(self, call: Call) -> None:
        """The flow answers: 200 with our SDP answer (or offer, for a late offer)."""
        a = call.a
        assert a is not None
        if call.state is CallState.ANSWERED or call.state is CallState.ENDED:
            return
        if call.answer_a is None:  # else early media already gave A its answer (diverted)
            if call.offer is None:
                call.answer_a = a.sdp.create_offer().serialize()
            else:
                answer, negotiated = a.sdp.receive_offer(call.offer)
                self.apply_media(a, negotiated)
                call.answer_a = answer.serialize()
        self.send_to_a(call, 200, call.answer_a)
        call.state, call.answered_at = CallState.ANSWERED, self._clock()
        self._recorded(self.cdr.post_answered(call.id, call.answered_at))

    def _flow_hangup(self, call: Call, cause: str) -> None:
        """The flow hung up: BYE if answered, else a final failure to the caller."""
        if call.state is CallState.ANSWERED:
            self._hangup(call, None, cause, HangupSide.SWITCH)
        elif call.state is not CallState.ENDED:
            self.fail_call(call, 480, "Temporarily Unavailable", Disposition.FAILED,
                       HangupSide.SWITCH, cause)

    async def _watch_flow(self, call: Call) -> None:
        """A CANCEL before the flow answers ends it; a flow that returns hangs up."""
        assert call.flow is not None and call.server.cancelled is not None
        cancelled = asyncio.ensure_future(call.server.cancelled.wait())
        finished = asyncio.ensure_future(call.flow.wait())
        await asyncio.wait([cancelled, finished], return_when=asyncio.FIRST_COMPLETED)
        if cancelled.done() and call.state is not CallState.ANSWERED:
            call.flow.caller_hung_up()
            self.fail_call(call, 487, None, Disposition.CANCELLED, HangupSide.CALLER,
                       "cancelled by caller")
        cancelled.cancel()
        await finished
        self._flow_hangup(call, "flow ended")

    async def refuse(self, call: Call, status: int, reason: str, cause: str) -> None:
        """Answer a new call with a final failure and write its record (``cause`` for the CDR)."""
        call.server.reply(status, reason)
        await self._record_unanswered(call, status, cause)

    async def _refuse_spoken(self, call: Call, route: Refused) -> None:
        """The refusal's prompt as early media (183 + SDP), then the final status; at once
        when there is no prompt or the caller made no offer (it could not hear one)."""
        prompt = self.prompts(route.prompt) if self.prompts and call.offer is not None else None
        if prompt is None:
            await self.refuse(call, route.status, route.reason, route.reason)
            return
        assert call.server.cancelled is not None
        media_a = await self.media.open_leg(leg_id=f"call{next(self._ids)}-a")
        call.a = CallLeg("a", call, media_a,
                         SdpSession(self.settings.capabilities, self.host, media_a.stream.local[1]),
                         call.server.source)
        status, reason, cause = route.status, route.reason, route.reason
        try:
            answer, negotiated = call.a.sdp.receive_offer(call.offer)
            self.apply_media(call.a, negotiated)
            self.send_to_a(call, 183, answer.serialize())
            if not await announce(self.media, media_a, prompt, call.server.cancelled):
                status, reason, cause = 487, "Request Terminated", "cancelled by caller"
        except SdpError as exc:
            log.info("call %s: no early media for the refusal: %s", call.id, exc.reason)
        finally:
            await self.media.close_leg(media_a)
        self.send_to_a(call, status, b"", reason)
        self._forget(call.a)
        await self._record_unanswered(call, status, cause)

    def _time_up(self, call: Call) -> None:
        """The class of service's maximum duration: both sides hear why, then the BYE."""
        prompt = self.prompts(LIMIT_PROMPT) if self.prompts else None
        if prompt is None or call.bridge is None:
            self._hangup(call, None, "maximum call duration", HangupSide.SWITCH)
            return
        ended = asyncio.Event()
        call.on_end.append(lambda cause, side: ended.set())
        self.spawn(self._announce_then_end(call, prompt, ended))

    async def _announce_then_end(self, call: Call, prompt: Path, ended: asyncio.Event) -> None:
        assert call.bridge is not None
        await announce(self.media, call.bridge, prompt, ended)
        self._hangup(call, None, "maximum call duration", HangupSide.SWITCH)

    async def _record_unanswered(self, call: Call, status: int, cause: str) -> None:
        try:
            await self.cdr.open(_record_of(call))
        except Exception:
            log.warning("no CDR for refused call %s (duplicate Call-ID?)", call.id)
            return
        at, disposition, why = self._clock(), disposition_for(status), f"{status} {cause}"
        await self.cdr.close(call.id, at, disposition, why, HangupSide.SWITCH,
                             leg_records(call, at, disposition, why))

    async def _ring(self, call: Call, contacts: list[Binding], max_seconds: int | None) -> None:
        n = next(self._ids)
        caps = self.settings.capabilities
        media_a = await self.media.open_leg(leg_id=f"call{n}-a")
        media_b = await self.media.open_leg(leg_id=f"call{n}-b")
        server = call.server
        call.a = CallLeg("a", call, media_a, SdpSession(caps, self.host, media_a.stream.local[1]),
                         server.source)
        first = destination_of(contacts[0])
        call.b = CallLeg("b", call, media_b, SdpSession(caps, self.host, media_b.stream.local[1]),
                         first)
        prefer = bridge_preference(call.offer, caps) if call.offer is not None else ()
        offer_b = call.b.sdp.create_offer(prefer=prefer).serialize()
        call_id_b, tag_b = new_call_id(self.host), new_tag()
        for binding in contacts:
            invite = self._invite_for(call, binding, call_id_b, tag_b, offer_b)
            self.start_fork(call, binding, invite, self._on_provisional)
        await self._await_answer(call, max_seconds)

    def start_fork(self, call: Call, binding: Binding, invite: Request,
                   on_provisional: Callable[[Call, Fork, Response], None]) -> Fork:
        """Send one forked INVITE (the trunk's caller presentation applied) and track it."""
        trunk = self.trunks.get(call.trunk) if self.trunks and call.trunk else None
        if trunk is not None:
            present_caller(invite, trunk, call.caller)
        destination = destination_of(binding)
        fork = Fork(invite, destination, self._loop.create_future(), started_at=self._clock())
        fork.future = self.core.send_request(
            invite, destination, on_provisional=partial(on_provisional, call, fork))
        call.forks.append(fork)
        return fork

    def _invite_for(
        self, call: Call, binding: Binding, call_id: str, tag: str, body: bytes
    ) -> Request:
        invite_a = call.server.request
        caller = Address(invite_a.from_.uri, invite_a.from_.display_name)
        callee = Address(invite_a.to.uri, invite_a.to.display_name)
        return self.new_invite(binding, caller, callee, call_id, tag, body)

    def new_invite(self, binding: Binding, caller: Address, callee: Address, call_id: str,
                   tag: str, body: bytes, extra: Iterable[tuple[str, str]] = ()) -> Request:
        """An initial INVITE from us to one contact (leg B, or an originated call with
        ``extra`` headers such as auto-answer ones)."""
        headers = Headers()
        headers.add("Via", str(self._via(binding.transport).with_params(branch=new_branch())))
        headers.add("Max-Forwards", "70")
        for hop in binding.path:
            headers.add("Route", hop)
        headers.add("From", str(caller.with_tag(tag)))
        headers.add("To", str(callee))
        headers.add("Call-ID", call_id)
        headers.add("CSeq", "1 INVITE")
        headers.add("Contact", f"<{self._contact(binding.transport)}>")
        headers.add("Allow", ALLOW)
        headers.add("Supported", "100rel")  # their reliable 18x get our PRACK (RFC 3262)
        if self.settings.session_timer is not None:
            for name, value in uac_request_headers(self.settings.session_timer):
                headers.add(name, value)
        for name, value in extra:
            headers.add(name, value)
        headers.add("Content-Type", "application/sdp")
        return Request("INVITE", parse_uri(binding.contact), headers, body)

    async def _await_answer(self, call: Call, max_seconds: int | None) -> None:
        """Wait for the first 2xx, every fork failing, the caller's CANCEL or the timeout."""
        assert call.server.cancelled is not None
        outcome = await self.first_answer(call, self.settings.no_answer_timeout,
                                          stop=call.server.cancelled)
        winner, pending, failures = outcome.winner, outcome.pending, outcome.failures
        if call.taken:  # picked up (take_over): the forks are CANCELled already
            if winner is not None:
                self.drop_late_answer(*winner)
            return
        self.cancel_forks(pending.values())
        if call.server.cancelled.is_set() and winner is not None:
            self.drop_late_answer(*winner)  # the CANCEL crossed the 2xx: the caller left
            winner = None
        if winner is not None:
            self._connect(call, *winner, max_seconds)
        elif call.server.cancelled.is_set():
            self.fail_call(call, 487, "Request Terminated", Disposition.CANCELLED,
                       HangupSide.CALLER, "cancelled by caller")
        elif pending:
            if not await self._divert(call, "no_answer"):
                self.fail_call(call, 480, "No Answer", Disposition.NO_ANSWER, HangupSide.SWITCH,
                           "no answer")
        else:
            status = best_failure(failures)
            reason = _DIVERT_ON.get(status)
            if reason is None or not await self._divert(call, reason):
                self.fail_call(call, status, None, disposition_for(status), HangupSide.CALLEE,
                           f"{status} from callee")

    # -- leg B's forks, for the B2BUA's calls and the switch's own (originate.py) ---------
    def track(self, call: Call) -> None:
        """Count ``call`` among the calls in progress (one the switch places itself)."""
        self._calls[call.id] = call

    def now(self) -> float:
        """The wall-clock time of the switch's records (the CDR's clock)."""
        return self._clock()

    async def first_answer(self, call: Call, timeout: float,
                           stop: CancelSignal | None = None) -> ForkOutcome:
        """Wait for the first 2xx among ``call.forks`` (see fork_answer.py); a trunk's
        challenge is answered on the way, a second 2xx dropped."""
        return await first_answer(call, timeout, retry=self._trunk_retry,
                                  drop_late=self.drop_late_answer, stop=stop)

    def cancel_forks(self, forks: Iterable[Fork]) -> None:
        """CANCEL forks still ringing; a 2xx crossing the CANCEL gets ACK + BYE."""
        for fork in forks:
            self.core.cancel(fork.future)
            fork.future.add_done_callback(partial(self._after_cancel, fork))

    def confirm_answer(self, call: Call, fork: Fork, ok: Response) -> None:
        """The winning fork's 2xx: leg B's dialog confirmed (its session timer negotiated
        with our floor) and ACKed. Raises DialogError, DialogStateError or
        RemoteProtocolError for a 2xx we cannot take (nothing is sent then)."""
        b = call.b
        assert b is not None
        if fork.dialog is not None and fork.dialog.id.remote_tag == ok.to.tag:
            fork.dialog.receive_response(ok)
            dialog = fork.dialog
        else:
            dialog = self._uac_dialog(fork, ok)
        policy = self.settings.session_timer
        terms = negotiate_as_uac(ok, policy.floor) if policy else None
        b.dialog, b.destination = dialog, fork.destination
        fork.won = True
        b.ack = dialog.create_ack()
        self.core.send_ack(b.ack, fork.destination)
        self._legs[dialog.id] = b
        if terms is not None:
            dialog.start_session_timer(terms, self._loop.time())
            self._arm(b)

    def mark_answered(self, call: Call) -> None:
        """The call is answered: its record starts billing now."""
        call.state = CallState.ANSWERED
        call.answered_at = self._clock()
        self._recorded(self.cdr.post_answered(call.id, call.answered_at))

    # -- trunks (trunks.py): where a Trunk route goes, the provider's challenge ------------
    def trunk_target(self, route: Route) -> Binding | None:
        """The trunk's contact a Trunk route goes to (None: not a trunk route, no trunk)."""
        if not isinstance(route, Trunk) or self.trunks is None:
            return None
        return self.trunks.target(route.trunk, route.number)

    def _trunk_retry(self, call: Call, fork: Fork,
                     response: Response) -> asyncio.Future[Response] | None:
        """A provider's first 401/407 to our INVITE: send it again with the trunk's
        credentials (RFC 3261 22.2); the new transaction replaces the fork's."""
        if response.status not in (401, 407) or call.trunk is None or self.trunks is None:
            return None
        headers = fork.invite.headers
        credentials = self.trunks.credentials(call.trunk)
        if credentials is None or "authorization" in headers or "proxy-authorization" in headers:
            return None
        retry = authorized_retry(fork.invite, response, credentials, secrets.token_hex(8))
        if retry is None:
            return None
        fork.invite = retry
        fork.future = self.core.send_request(
            retry, fork.destination, on_provisional=partial(self._on_provisional, call, fork))
        return fork.future

    def track_early(self, call: Call, fork: Fork, response: Response) -> bool:
        """A fork's 18x: its early dialog (made or advanced), a PRACK if it is reliable.
        False when there is nothing more to do with it: a 100, no To tag, the call ended, a
        response the dialog refuses, or a retransmitted (or out of order) reliable one."""
        if response.status == 100 or not response.to.tag or call.state is CallState.ENDED:
            return False
        try:
            if fork.dialog is None or fork.dialog.id.remote_tag != response.to.tag:
                fork.dialog, fork.rseq = self._uac_dialog(fork, response), None
            else:
                fork.dialog.receive_response(response)
        except (DialogError, DialogStateError) as exc:
            log.info("call %s: ignoring %s: %s", call.id, response.status, exc.reason)
            return False
        return not requires_100rel(response) or self._prack(fork, response)

    def _on_provisional(self, call: Call, fork: Fork, response: Response) -> None:
        """180/183 from a fork: an early dialog for it, ringing (or early media) to A."""
        if not self.track_early(call, fork, response):
            return
        assert call.a is not None and call.b is not None
        sdp = _sdp_of(response)
        if sdp is not None and call.answer_a is None:
            try:
                self.take_answer_b(call, sdp)
                body = self._answer_a(call)
            except SdpError as exc:
                log.info("call %s: unusable early media SDP: %s", call.id, exc.reason)
                body = None
            if body is not None:
                self.send_to_a(call, 183, body)
                self._ensure_bridge(call)
                call.state = CallState.RINGING
                return
        if call.state is CallState.ROUTING:
            self.send_to_a(call, 180, b"")
            call.state = CallState.RINGING

    def _prack(self, fork: Fork, response: Response) -> bool:
        """PRACK a callee's reliable 18x in its early dialog (RFC 3262 section 7.2)."""
        rack = prack_for(response, fork.rseq)
        if rack is None or fork.dialog is None:
            return False
        fork.rseq = rack[0]
        try:
            prack = fork.dialog.create_request("PRACK", headers=[("RAck", rack[1])])
        except DialogStateError as exc:
            log.info("no PRACK: %s", exc.reason)
            return False
        self.core.send_request(prack, fork.destination)
        return True

    def _connect(self, call: Call, fork: Fork, ok: Response, max_seconds: int | None) -> None:
        """The first 2xx: ACK it, answer A, bridge the media, start the CDR's billing."""
        assert call.a is not None and call.b is not None
        try:
            self.confirm_answer(call, fork, ok)
        except (DialogError, DialogStateError, RemoteProtocolError) as exc:
            log.warning("call %s: bad 2xx from callee: %s", call.id, exc)
            self.fail_call(call, 502, "Bad Gateway", Disposition.FAILED, HangupSide.CALLEE, "bad 2xx")
            return
        try:
            if call.answer_a is None:
                sdp = _sdp_of(ok)
                if sdp is None:
                    raise SdpError("the callee's 2xx has no SDP answer", 488)
                self.take_answer_b(call, sdp)
            body = self._answer_a(call)
        except SdpError as exc:
            log.info("call %s: %s", call.id, exc.reason)
            self.fail_call(call, exc.status if exc.status != 400 else 488, exc.reason,
                       Disposition.FAILED, HangupSide.SWITCH, exc.reason)
            return
        self.send_to_a(call, 200, body)
        self._ensure_bridge(call)
        self.mark_answered(call)
        if max_seconds:
            call.limit = self._loop.call_later(max_seconds, self._time_up, call)
        if self.settings.rtp_timeout > 0:
            call.rtp_watch = RtpWatch(self.settings.rtp_timeout, 2, self._loop.time())
            self._check_media(call)
        log.info("call %s: %s -> %s answered", call.id, call.caller, call.callee)
        self._tell(self._bridged_hooks, call)

    def _check_media(self, call: Call) -> None:
        """Sample both legs' RTP counters; a leg silent for rtp_timeout ends the call."""
        call.media_timer = None
        watch = call.rtp_watch
        if watch is None or call.state is not CallState.ANSWERED:
            return
        silent = watch.observe([self._rtp_received(call.a), self._rtp_received(call.b)],
                               self._loop.time())
        if silent is not None:
            side = "caller" if silent == 0 else "callee"
            log.info("call %s: no RTP from the %s for %.1f s", call.id, side, watch.timeout)
            self._hangup(call, None, "rtp_timeout", HangupSide.SWITCH)
            return
        call.media_timer = self._loop.call_later(watch.interval, self._check_media, call)

    def _rtp_received(self, leg: CallLeg | None) -> int | None:
        """The leg's received-packet count, None while its phone is not meant to send."""
        if leg is None or leg.negotiated is None:
            return None
        if leg.negotiated.direction not in (Direction.SENDRECV, Direction.RECVONLY):
            return None
        return self.media.packets_received(leg.media)

    def take_answer_b(self, call: Call, sdp: SessionDescription) -> None:
        """Leg B's answer to our offer (first one through the session, other forks' too)."""
        b = call.b
        assert b is not None
        if b.sdp.pending_offer is not None:
            negotiated = b.sdp.receive_answer(sdp)
        else:
            assert b.sdp.local is not None
            negotiated = accept_answer(b.sdp.local, sdp, b.sdp.caps)
            b.sdp.negotiated, b.sdp.remote = negotiated, sdp
        self.apply_media(b, negotiated)

    def _answer_a(self, call: Call) -> bytes:
        """The SDP for A's 183/200: an answer to its offer, or our offer (late offer)."""
        a, b = call.a, call.b
        assert a is not None and b is not None
        if call.answer_a is not None:
            return call.answer_a
        if call.offer is None:
            prefer = (b.negotiated.codec,) if b.negotiated else ()
            call.answer_a = a.sdp.create_offer(prefer=prefer).serialize()
            return call.answer_a
        leg_answer = answer_from_other_leg(a.sdp, call.offer, b.negotiated)
        self.apply_media(a, leg_answer.negotiated)
        call.answer_a = leg_answer.answer.serialize()
        return call.answer_a

    def send_to_a(self, call: Call, status: int, body: bytes, reason: str | None = None) -> None:
        a = call.a
        assert a is not None
        invite = call.server.request
        if a.dialog is None:
            a.dialog = Dialog.as_uas(invite, new_tag(), self._contact(a.destination.transport),
                                     via=self._via(a.destination.transport),
                                     t1=self.core.config.t1, t2=self.core.config.t2,
                                     reliable=a.destination.reliable)
            self._legs[a.dialog.id] = a
        headers = [("Allow", ALLOW)] if status < 300 else []
        if call.reliable is not None and status < 200:
            rel = call.reliable.headers()
            if rel is None:
                return  # the caller has not acknowledged the previous 18x yet
            headers += rel
        terms = call.session_terms if 200 <= status < 300 else None
        if terms is not None:
            headers += uas_response_headers(invite, terms)
        response = a.dialog.make_response(invite, status, reason, body=body, headers=headers)
        call.server.respond(response)
        if call.reliable is not None:
            if status < 200:
                call.reliable.sent(response)
            else:
                call.reliable.final_sent()
        now = self._loop.time()
        a.dialog.sent_response(response, now)
        if terms is not None:
            a.dialog.start_session_timer(terms, now)
        self._arm(a)

    def fail_call(self, call: Call, status: int, reason: str | None, disposition: Disposition,
              side: HangupSide, cause: str) -> None:
        """Leg A gets a final failure; the call and its media end."""
        if call.a is not None and call.a.dialog is not None:
            self.send_to_a(call, status, b"", reason)
        else:
            call.server.reply(status, reason)
        self._hangup(call, None, cause, side, disposition=disposition)

    # -- forks that lost --------------------------------------------------------------------
    def _after_cancel(self, fork: Fork, future: asyncio.Future[Response]) -> None:
        if not future.cancelled() and 200 <= future.result().status < 300:
            self.drop_late_answer(fork, future.result())

    def drop_late_answer(self, fork: Fork, ok: Response) -> None:
        """A fork answered after another won (or after a CANCEL): ACK it, then BYE it."""
        try:
            dialog = self._uac_dialog(fork, ok)
            self.core.send_ack(dialog.create_ack(), fork.destination)
            self.core.send_request(dialog.create_request("BYE"), fork.destination)
        except (DialogError, DialogStateError, RemoteProtocolError) as exc:
            log.info("cannot end a late answer: %s", exc)

    def _uac_dialog(self, fork: Fork, response: Response) -> Dialog:
        transport = fork.destination.transport
        return Dialog.as_uac(fork.invite, response, self._contact(transport),
                             via=self._via(transport), t1=self.core.config.t1,
                             t2=self.core.config.t2, reliable=fork.destination.reliable)

    # -- in-dialog requests -----------------------------------------------------------------
    def on_bye(self, server: ServerRequest) -> None:
        leg = self._legs.get(DialogId.of_request(server.request))
        if leg is None or leg.dialog is None:
            server.reply(481)
            return
        try:
            leg.dialog.receive_request(server.request)
        except DialogError as exc:
            server.reply(exc.status, exc.reason)
            return
        server.reply(200)
        side = HangupSide.CALLER if leg.side == "a" else HangupSide.CALLEE
        self._hangup(leg.call, leg, f"BYE from {side.value}", side)

    def on_prack(self, server: ServerRequest) -> None:
        """The caller acknowledges our reliable 18x (RFC 3262): 200, or 481 for none."""
        leg = self._legs.get(DialogId.of_request(server.request))
        if leg is None or leg.dialog is None or leg.call.reliable is None:
            server.reply(481, "No Reliable Response To Acknowledge")
            return
        try:
            leg.dialog.receive_request(server.request)
            leg.call.reliable.prack(server.request)
        except (DialogError, RemoteProtocolError) as exc:
            server.reply(exc.status, exc.reason)
            return
        server.respond(leg.dialog.make_response(server.request, 200))

    def _reliable_for(self, call: Call) -> ReliableLeg:
        """The caller requires 100rel: our 18x go reliably, resent until PRACKed; a caller
        that never acknowledges is treated as gone (as after a CANCEL)."""
        def resend(response: Response) -> None:
            if call.state is not CallState.ENDED:
                call.server.respond(response)

        def give_up() -> None:
            log.info("call %s: the caller never acknowledged our reliable 18x", call.id)
            if call.server.cancelled is not None:
                call.server.cancelled.set()

        return ReliableLeg(call.server.request, self.core.config.t1, resend, give_up)

    def on_update(self, server: ServerRequest) -> None:
        self._in_dialog_offer(server)

    def _in_dialog_offer(self, server: ServerRequest) -> None:
        """re-INVITE or UPDATE: a session refresh, hold/resume or a new address (RFC 3264 8).

        The switch anchors media, so the other phone is not re-INVITEd: only this leg's
        media is reconfigured (a held phone's peer keeps its stream)."""
        request = server.request
        leg = self._legs.get(DialogId.of_request(request))
        if leg is None or leg.dialog is None or leg.call.state is not CallState.ANSWERED:
            server.reply(481)
            return
        dialog = leg.dialog
        try:
            terms = self._session_terms(request) if dialog.session_timer or \
                request.headers.get("session-expires") else None
        except RemoteProtocolError as exc:
            _refuse_session_terms(server, exc)
            return
        try:
            dialog.receive_request(request)
            offer = _offer_of(request)
            if offer is None:
                body = leg.sdp.local.serialize() if leg.sdp.local is not None else b""
            elif leg.sdp.is_refresh(offer) and leg.sdp.local is not None:
                body = leg.sdp.local.serialize()
            else:
                other = leg.call.b if leg.side == "a" else leg.call.a
                prefer = (other.negotiated.codec,) if other and other.negotiated else ()
                answer, negotiated = leg.sdp.receive_offer(offer, prefer=prefer)
                self.apply_media(leg, negotiated)
                body = answer.serialize()
                self._hold_music(leg, other, negotiated.remote_hold)
        except (DialogError, SdpError) as exc:
            retry = isinstance(exc, DialogError) and exc.retry_later
            server.reply(exc.status, exc.reason,
                         headers=[("Retry-After", str(secrets.randbelow(11)))] if retry else ())
            return
        if offer is None and request.method == "UPDATE":
            body = b""
        headers = [("Allow", ALLOW)]
        if terms is not None:
            headers += uas_response_headers(request, terms)
        response = dialog.make_response(request, 200, body=body, headers=headers)
        server.respond(response)
        now = self._loop.time()
        dialog.sent_response(response, now)
        if terms is not None:
            dialog.start_session_timer(terms, now)
        self._arm(leg)

    def on_ack(self, ack: Request, source: Destination) -> None:
        leg = self._legs.get(DialogId.of_request(ack))
        if leg is None or leg.dialog is None:
            return
        try:
            leg.dialog.receive_request(ack)
        except DialogError:
            return
        if leg.sdp.pending_offer is not None and ack.body:
            try:
                self.apply_media(leg, leg.sdp.receive_answer(parse_sdp(ack.body)))
            except SdpError as exc:
                log.info("call %s: bad SDP in ACK: %s", leg.call.id, exc.reason)
        if leg.bye_after_ack:
            self._send_bye(leg)
            self._forget(leg)
        self._arm(leg)

    def on_stray_response(self, response: Response) -> None:
        """A 2xx retransmitted because our ACK was lost: send the ACK again (13.2.2.4)."""
        if response.cseq.method != "INVITE" or not 200 <= response.status < 300:
            return
        leg = self._legs.get(DialogId.of_response(response))
        if leg is not None and leg.ack is not None:
            self.core.send_ack(leg.ack, leg.destination)

    # -- timers -----------------------------------------------------------------------------
    def _arm(self, leg: CallLeg) -> None:
        if leg.timer is not None:
            leg.timer.cancel()
            leg.timer = None
        deadline = leg.dialog.next_deadline() if leg.dialog is not None else None
        if deadline is not None:
            leg.timer = self._loop.call_at(deadline, self._on_dialog_timer, leg)

    def _on_dialog_timer(self, leg: CallLeg) -> None:
        leg.timer = None
        if leg.dialog is None:
            return
        for out in leg.dialog.handle_timer(self._loop.time()):
            if isinstance(out, AnswerResent):
                try:
                    self.core.send_response(leg.call.server, out.response)
                except TransactionError:
                    pass  # Timer L ended the server transaction; the dialog gives up soon
            elif isinstance(out, SendRequest):
                self.core.send_request(out.request, leg.destination)
            elif isinstance(out, RefreshDue):
                self._send_refresh(leg)
            elif isinstance(out, DialogEnded):
                self._forget(leg)
                self._hangup(leg.call, leg, out.reason, HangupSide.SWITCH)
        self._arm(leg)

    def _send_refresh(self, leg: CallLeg) -> None:
        """We are the refresher (RFC 4028 section 7.4): an UPDATE without SDP keeps the
        media as it is; its 2xx restarts the timer, a 408/481 ends the call."""
        policy, dialog = self.settings.session_timer, leg.dialog
        if policy is None or dialog is None or dialog.session_timer is None:
            return
        interval = dialog.session_timer.terms.interval
        try:
            update = dialog.create_request(
                "UPDATE", headers=uac_request_headers(policy, interval=interval))
        except DialogStateError as exc:
            log.info("call %s: no refresh: %s", leg.call.id, exc.reason)
            return
        future = self.core.send_request(update, leg.destination)
        future.add_done_callback(partial(self._refresh_answered, leg))

    def _refresh_answered(self, leg: CallLeg, future: asyncio.Future[Response]) -> None:
        if future.cancelled() or leg.dialog is None or leg.call.state is CallState.ENDED:
            return
        if future.exception() is not None:
            return  # transport trouble: the session timer still expires on its own
        response = future.result()
        if 200 <= response.status < 300:
            try:
                policy = self.settings.session_timer
                terms = negotiate_as_uac(response, policy.floor if policy else MIN_SE_FLOOR)
            except RemoteProtocolError as exc:
                log.info("call %s: bad refresh answer: %s", leg.call.id, exc)
                return
            if terms is not None:
                leg.dialog.start_session_timer(terms, self._loop.time())
                self._arm(leg)
        elif response.status in (408, 481):
            side = HangupSide.CALLER if leg.side == "a" else HangupSide.CALLEE
            self._hangup(leg.call, None, f"session refresh failed ({response.status})", side)

    # -- ending -----------------------------------------------------------------------------
    def _hangup(
        self,
        call: Call,
        ended_by: CallLeg | None,
        cause: str,
        side: HangupSide,
        *,
        disposition: Disposition = Disposition.ANSWERED,
    ) -> None:
        """End the call once: BYE the legs still up, free the media, close the record."""
        if call.state is CallState.ENDED:
            return
        if call.state is not CallState.ANSWERED and disposition is Disposition.ANSWERED:
            disposition = Disposition.FAILED
        call.state = CallState.ENDED
        if call.flow is not None:
            call.flow.caller_hung_up()  # a no-op when the flow itself hung up
        for watcher in call.on_end:
            watcher(cause, side)
        if call.reliable is not None:
            call.reliable.close()
        for handle in (call.limit, call.media_timer):
            if handle is not None:
                handle.cancel()
        for leg in (call.a, call.b):
            if leg is None:
                continue
            if leg.hold_music is not None:
                leg.hold_music.cancel()
            if leg is not ended_by and leg.dialog is not None and not leg.dialog.terminated:
                if leg.dialog.awaiting_ack:
                    leg.bye_after_ack = True
                    continue  # stays known until the ACK (or the dialog's give-up BYE)
                self._send_bye(leg)
            self._forget(leg)
        self._calls.pop(call.id, None)
        ended_at = self._clock()
        # Both legs are closed at once (each one tried, no short cut); a task only where a
        # recording must be finished first.
        closed = [self.media.close_leg_now(leg.media) for leg in (call.a, call.b) if leg is not None]
        if all(closed):
            self._close_record(call, ended_at, disposition, cause, side)
        else:
            self.spawn(self._release(call, ended_at, disposition, cause, side))
        log.info("call %s ended: %s (%s)", call.id, cause, disposition.value)

    def _send_bye(self, leg: CallLeg) -> None:
        assert leg.dialog is not None
        if leg.dialog.state.value != "confirmed":
            return
        try:
            bye = leg.dialog.create_request("BYE")
        except DialogStateError as exc:
            log.info("call %s: no BYE to %s: %s", leg.call.id, leg.side, exc.reason)
            return
        self.core.send_request(bye, leg.destination)

    def _forget(self, leg: CallLeg) -> None:
        if leg.timer is not None and (leg.dialog is None or leg.dialog.terminated):
            leg.timer.cancel()
            leg.timer = None
        if leg.dialog is not None and not leg.bye_after_ack:
            self._legs.pop(leg.dialog.id, None)

    async def _release(self, call: Call, ended_at: float, disposition: Disposition, cause: str,
                       side: HangupSide) -> None:
        for leg in (call.a, call.b):
            if leg is not None:
                await self.media.close_leg(leg.media)
        self._close_record(call, ended_at, disposition, cause, side)

    def _close_record(self, call: Call, ended_at: float, disposition: Disposition, cause: str,
                      side: HangupSide) -> None:
        self._recorded(self.cdr.post_close(call.id, ended_at, disposition, cause, side,
                                           leg_records(call, ended_at, disposition, cause)))

    # -- helpers ----------------------------------------------------------------------------
    def apply_media(self, leg: CallLeg, negotiated: Negotiated) -> None:
        """Hand a negotiated stream to the media engine."""
        leg.negotiated = negotiated
        fmt = MediaFormat(negotiated.codec, negotiated.payload_type, negotiated.telephone_event)
        self.media.configure(leg.media, remote=negotiated.remote, fmt=fmt,
                             direction=MediaDirection(negotiated.direction.value))

    def _hold_music(self, holder: CallLeg, held: CallLeg | None, on_hold: bool) -> None:
        """The phone on ``holder`` put the call on hold (or resumed): the tone loops to the
        other leg while the hold lasts; the held phone itself is not re-INVITEd."""
        if held is None:
            return
        if on_hold and held.hold_music is None:
            log.info("call %s: %s side on hold", holder.call.id, holder.side)
            held.hold_music = asyncio.ensure_future(
                self.media.play(held.media, [HOLD_TONE], loop=True, barge_in=False))
        elif not on_hold and held.hold_music is not None:
            log.info("call %s: %s side resumed", holder.call.id, holder.side)
            held.hold_music.cancel()
            held.hold_music = None

    def _ensure_bridge(self, call: Call) -> None:
        if call.bridge is None and call.a is not None and call.b is not None:
            call.bridge = self.media.bridge(call.a.media, call.b.media)

    def _via(self, transport: str) -> Via:
        return _our_via(transport.upper(), self.host, self.port)

    def _contact(self, transport: str) -> URI:
        return _our_contact(transport.upper(), self.host, self.port)

    def spawn(self, work: Any) -> asyncio.Future[Any]:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _recorded(self, write: asyncio.Future[None]) -> None:
        """A CDR write posted without waiting (the database closes only once it is done):
        a failure is logged, as a failed bookkeeping task's is."""
        write.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Future[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("call bookkeeping failed", exc_info=task.exception())


# Final statuses of every fork that send a call to its diversion (voicemail), and why.
_DIVERT_ON = {486: "busy", 600: "busy", 603: "busy", 408: "no_answer", 480: "no_answer"}


def _refuse_session_terms(server: ServerRequest, exc: RemoteProtocolError) -> None:
    """422 with our Min-SE (RFC 4028 section 8.1), or 400 for a malformed header."""
    if isinstance(exc, SessionIntervalTooSmall):
        server.reply(422, "Session Interval Too Small", headers=exc.response_headers())
    else:
        server.reply(exc.status, exc.reason[:120])


@cache
def _our_via(transport: str, host: str, port: int) -> Via:
    """Our Via (without branch) on ``transport``: parsed once, it is immutable."""
    return parse_via(f"SIP/2.0/{transport} {format_host(host)}:{port};rport")


@cache
def _our_contact(transport: str, host: str, port: int) -> URI:
    """Our Contact URI on ``transport``: parsed once, it is immutable."""
    suffix = "" if transport == "UDP" else f";transport={transport.lower()}"
    return parse_uri(f"sip:switch@{format_host(host)}:{port}{suffix}")


def _sdp_of(message: Request | Response) -> SessionDescription | None:
    """The message's SDP body, or None; SdpError (400) for a malformed one."""
    if not message.body:
        return None
    content_type = (message.content_type or "").split(";")[0].strip().lower()
    if content_type != "application/sdp":
        raise SdpError(f"unsupported body type {content_type!r}", 415)
    return parse_sdp(message.body)


def _offer_of(request: Request) -> SessionDescription | None:
    """Leg A's offer; None means a late offer (we offer in the 2xx, RFC 3264 section 5)."""
    return _sdp_of(request)


def _caller_number(request: Request) -> str:
    """The caller of a trunk call as the CDR names it: the From user (the calling number)."""
    uri = request.from_.uri
    return (uri.user or "") if isinstance(uri, SipURI) else ""


def _record_of(call: Call) -> CallRecord:
    return CallRecord(call.id, call.caller, call.callee, call.dialled, call.route,
                      call.started_at, cost_class=call.cost_class)


def _cost_class(route: Route) -> str | None:
    """The number class statistics bill the call as: a trunk call's class, else internal."""
    if isinstance(route, Refused):
        return None
    return route.kind.value if isinstance(route, Trunk) else "internal"


def _callee_of(route: Route) -> str:
    number = getattr(route, "number", None)
    return str(number) if number is not None else ""


def _describe(route: Route) -> str:
    """The route as the CDR names it: 'extension', 'refused: reason', 'flow appointments'."""
    if isinstance(route, Refused):
        return f"refused: {route.reason}"
    kind = type(route).__name__.lower()
    detail = getattr(route, "flow", None) or getattr(route, "trunk", None)
    return f"{kind} {detail}" if detail else kind
