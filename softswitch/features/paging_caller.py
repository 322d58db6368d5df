"""The calling side of a page or an intercom call: a media leg for the caller, answering it,
and refusing it with an early-media announcement first.

These act on the caller's `Call` with the B2BUA's own leg-A code (`send_to_a`, `apply_media`,
`fail_call`, `hang_up`), so the caller's BYE, CANCEL, session timer and CDR work as in any call.
A refusal plays its announcement as early media (183 with SDP, RFC 3960's gateway model)
before the final status, so the caller hears why; a late-offer INVITE (no SDP) cannot carry
early media and gets the status at once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from pathlib import Path

from media import Leg as MediaLeg
from media.tones import ToneSpec
from softswitch.flows.errors import PromptNotFound
from softswitch.flows.prompts import PromptLibrary
from softswitch.sip.sdp import SdpError
from softswitch.sip.sdp_negotiation import SdpSession
from softswitch.store.cdr import CallRecord, Disposition, HangupSide
from softswitch.switch.b2bua import B2bua
from softswitch.switch.legs import Call, CallLeg, CallState

__all__ = ["CallerSide", "REFUSAL_TONE"]

log = logging.getLogger(__name__)

# Heard instead of a missing announcement file: three rising tones (ITU-T E.180 SIT-like).
REFUSAL_TONE = ToneSpec("refused", (950.0, 1400.0, 1800.0), ((330, 30),), level_dbfs=-14.0)
_ANNOUNCE_LIMIT = 15.0  # seconds: an announcement longer than this is cut


class CallerSide:
    """Holds the caller's leg of a feature call; one per call."""

    def __init__(self, b2bua: B2bua, call: Call) -> None:
        self.b2bua = b2bua
        self.call = call
        self._answer: bytes | None = None

    @classmethod
    async def open_for(cls, b2bua: B2bua, call: Call) -> CallerSide | None:
        """The caller's side, opened; None when its offer has no codec we take (the call
        is refused 488 then)."""
        caller = cls(b2bua, call)
        try:
            await caller.open()
        except SdpError as exc:
            await b2bua.refuse(call, 488, exc.reason, exc.reason)
            return None
        return caller

    async def open(self) -> None:
        """A media leg for the caller, our SDP answer ready, the call listed and its CDR open.

        Raises SdpError when the caller's offer has no codec we take."""
        b2bua, call = self.b2bua, self.call
        assert call.server is not None
        media = await b2bua.media.open_leg(leg_id=f"feature-{call.id}")
        caps = b2bua.settings.capabilities
        call.a = CallLeg("a", call, media, SdpSession(caps, b2bua.host, media.stream.local[1]),
                         call.server.source)
        try:
            if call.offer is not None:
                answer, negotiated = call.a.sdp.receive_offer(call.offer)
                b2bua.apply_media(call.a, negotiated)
                self._answer = answer.serialize()
        except SdpError:
            await b2bua.media.close_leg(media)
            call.a = None
            raise
        b2bua.track(call)
        await b2bua.cdr.open(CallRecord(call.id, call.caller, call.callee, call.dialled,
                                        call.route, call.started_at))

    @property
    def media(self) -> MediaLeg:
        assert self.call.a is not None
        return self.call.a.media

    @property
    def ended(self) -> bool:
        return self.call.state is CallState.ENDED

    @property
    def cancelled(self) -> asyncio.Event:
        """Set when the caller CANCELs before the answer."""
        assert self.call.server is not None and self.call.server.cancelled is not None
        return self.call.server.cancelled

    def answer(self, max_seconds: int | None = None) -> None:
        """200 OK with our SDP (an offer when the caller's INVITE had none); the call is
        ended after ``max_seconds`` (the caller's class of service) like any call."""
        b2bua, call = self.b2bua, self.call
        a = call.a
        assert a is not None
        if call.state in (CallState.ANSWERED, CallState.ENDED):
            return
        if self._answer is None:
            self._answer = a.sdp.create_offer().serialize()
        call.answer_a = self._answer
        b2bua.send_to_a(call, 200, self._answer)
        b2bua.mark_answered(call)
        if max_seconds:
            call.limit = asyncio.get_running_loop().call_later(
                max_seconds, b2bua.hang_up, call, "maximum call duration", HangupSide.SWITCH)

    def fail(self, status: int, reason: str, cause: str,
             disposition: Disposition = Disposition.FAILED) -> None:
        """A final failure to the caller; the call, its media and its record end (the
        record's cause is '<status> <cause>', as `B2bua.refuse` writes it)."""
        if self.call.state is CallState.ENDED:
            return
        side = HangupSide.CALLER if disposition is Disposition.CANCELLED else HangupSide.SWITCH
        self.b2bua.fail_call(self.call, status, reason, disposition, side, f"{status} {cause}")

    def hangup(self, cause: str) -> None:
        """BYE the answered caller (or fail an unanswered call with 480)."""
        if self.call.state is CallState.ANSWERED:
            self.b2bua.hang_up(self.call, cause, HangupSide.SWITCH)
        else:
            self.fail(480, "Temporarily Unavailable", cause)

    async def refuse(self, status: int, reason: str, cause: str, prompt: str,
                     language: str, roots: Sequence[Path] | None = None) -> None:
        """Announce ``prompt`` as early media, then answer ``status`` (no early media for a
        late offer). A CANCEL during the announcement ends it with 487."""
        if self._answer is None or self.call.a is None:
            self.fail(status, reason, cause)
            return
        self.b2bua.send_to_a(self.call, 183, self._answer)
        self.call.state = CallState.RINGING
        library = PromptLibrary(roots) if roots else PromptLibrary()
        try:
            item: str | ToneSpec = str(library.path(prompt, language))
        except PromptNotFound as exc:
            log.warning("refusal announcement: %s; playing a tone", exc)
            item = REFUSAL_TONE
        playing = asyncio.ensure_future(
            self.b2bua.media.play(self.media, [item], barge_in=False, timeout=_ANNOUNCE_LIMIT))
        cancelled = asyncio.ensure_future(self.cancelled.wait())
        try:
            await asyncio.wait([playing, cancelled], return_when=asyncio.FIRST_COMPLETED)
        finally:
            cancelled.cancel()
            playing.cancel()
        if self.cancelled.is_set():
            self.fail(487, "Request Terminated", "cancelled by caller", Disposition.CANCELLED)
        else:
            self.fail(status, reason, cause)
