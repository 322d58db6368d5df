"""The mutable state of calls in progress: a call, its two legs, and the forks of leg B.

Plain containers the B2BUA mutates on the event loop; nothing here sends anything. A leg binds
together what the calls design names per leg: one `Dialog`, one `SdpSession`, one media leg,
and the transport address its in-dialog requests go to (the phone's registered source for
leg B, the INVITE's source for leg A, both right behind NAT).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal, Protocol

from media import Bridge
from media import Leg as MediaLeg
from softswitch.sip.destination import Destination
from softswitch.sip.dialog import Dialog
from softswitch.sip.message import Request, Response
from softswitch.sip.sdp import SessionDescription
from softswitch.sip.sdp_negotiation import Negotiated, SdpSession
from softswitch.sip.session_timer import SessionTimerTerms
from softswitch.store.cdr import HangupSide
from softswitch.switch.core import ServerRequest
from softswitch.switch.leg_media import leg_media
from softswitch.switch.prack import ReliableLeg
from softswitch.switch.rtp_watch import RtpWatch

__all__ = ["Call", "CallLeg", "CallState", "FlowSessionLike", "Fork"]



class FlowSessionLike(Protocol):
    """What the B2BUA needs of a running call flow (softswitch.flows.FlowSession)."""

    def caller_hung_up(self) -> None: ...

    async def wait(self) -> object: ...

class CallState(StrEnum):
    ROUTING = "routing"
    RINGING = "ringing"
    ANSWERED = "answered"
    ENDED = "ended"


@dataclass(eq=False)
class CallLeg:
    """One side of a call (A: the caller's dialog, we are UAS; B: the callee's, we are UAC)."""

    side: Literal["a", "b"]
    call: Call
    media: MediaLeg
    sdp: SdpSession
    destination: Destination
    dialog: Dialog | None = None
    negotiated: Negotiated | None = None
    ack: Request | None = None  # leg B: our ACK for the 2xx, resent for its retransmissions
    timer: asyncio.TimerHandle | None = None
    hold_music: asyncio.Future[Any] | None = None  # the tone this leg hears while held
    bye_after_ack: bool = False  # leg A: hang up once the 2xx is acknowledged (RFC 3261 15)


@dataclass(eq=False)
class Fork:
    """One INVITE client transaction of leg B, to one registered contact."""

    invite: Request
    destination: Destination
    future: asyncio.Future[Response]
    dialog: Dialog | None = None
    started_at: float = 0.0  # when the INVITE went out (the leg's CDR row)
    status: int | None = None  # its final failure status, when it failed
    won: bool = False  # its 2xx answered the call
    rseq: int | None = None  # the last RSeq we PRACKed in its early dialog (RFC 3262)


@dataclass(eq=False)
class Call:
    """A call between a caller and a dialled number: leg A, leg B, and what the CDR needs."""

    id: str
    caller: str
    callee: str
    dialled: str
    route: str
    started_at: float
    server: ServerRequest | None  # leg A's INVITE, answered once (None: a call we originate)
    offer: SessionDescription | None  # leg A's offer (None: late offer, RFC 3264 in the 200)
    session_terms: SessionTimerTerms | None = None  # leg A's RFC 4028 terms, for our 2xx
    a: CallLeg | None = None
    b: CallLeg | None = None
    state: CallState = CallState.ROUTING
    answered_at: float | None = None
    answer_a: bytes | None = None  # the SDP answer given to A (early media repeats it in 200)
    bridge: Bridge | None = None
    limit: asyncio.TimerHandle | None = None  # maximum call duration
    flow: FlowSessionLike | None = None  # the call flow answering this call, if any
    rtp_watch: RtpWatch | None = None  # dead media detection, from the answer on
    media_timer: asyncio.TimerHandle | None = None  # next RTP counter sample
    forks: list[Fork] = field(default_factory=list)
    trunk: str | None = None  # leg B goes out through this trunk (dial plan Trunk route)
    taken: bool = False  # answered by the switch for a feature while ringing (pickup)
    # told (cause, side) once when the call ends: features that hold on to a call (paging)
    on_end: list[Callable[[str, HangupSide], None]] = field(default_factory=list)
    cost_class: str | None = None  # the number class the call was routed as (statistics)
    reliable: ReliableLeg | None = None  # our 18x to a caller that requires 100rel

    def summary(self) -> dict[str, Any]:
        """The call as `/api/calls` and `softswitch calls` show it."""
        a = self.a.negotiated if self.a else None
        b = self.b.negotiated if self.b else None
        return {
            "call_id": self.id,
            "caller": self.caller,
            "callee": self.callee,
            "dialled": self.dialled,
            "trunk": self.trunk,
            "state": self.state.value,
            "started_at": self.started_at,
            "answered_at": self.answered_at,
            "codec_caller": a.codec if a else None,
            "codec_callee": b.codec if b else None,
            "relayed": bool(self.bridge and self.bridge.relaying),
            "media": {
                "caller": leg_media(self.a.media.stream.stats()) if self.a else None,
                "callee": leg_media(self.b.media.stream.stats()) if self.b else None,
            },
        }
