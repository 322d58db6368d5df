"""RFC 3261 section 12 dialogs, UAC and UAS side, sans-IO.

A `Dialog` is the state two user agents share for one call leg: its id (Call-ID, local tag,
remote tag), the route set and remote target that in-dialog requests follow, and the CSeq
counters of both directions. It builds in-dialog requests (BYE, re-INVITE, UPDATE, INFO,
REFER, NOTIFY, and the ACK for a 2xx), checks incoming ones, and keeps two kinds of deadline:
the UAS's 2xx retransmission until the ACK (13.3.1.4) and the RFC 4028 session timer. Time
comes in as `now`; `next_deadline()` says when to call `handle_timer(now)`, whose outputs are
small frozen events for the TU.

Rules and where they come from:

- 12.1.1 / 12.1.2: the UAS's route set is the INVITE's Record-Route in order, the UAC's is
  the response's Record-Route reversed; the remote target is the peer's Contact.
- 12.2.1.1: a loose first route (`;lr`) keeps the remote target as Request-URI; a strict one
  becomes the Request-URI and the remote target goes last in Route.
- 12.2.1.2: a 481 or 408 (or no response at all) to an in-dialog request ends the dialog.
- 12.2.2: a request with a CSeq lower than (or equal to) the last one is out of order: 500.
- 13.2.2.4: the ACK for a 2xx repeats the INVITE's CSeq number; 2xx responses to the initial
  INVITE recompute the route set.
- 13.3.1.4: the UAS resends its 2xx at T1, 2T1, 4T1 ... capped at T2 until the ACK; after
  64*T1 without one it sends BYE. Over a reliable transport it only waits.
- 14.1 / 14.2: no new INVITE while one is in progress in either direction (500 to theirs).
- 15: the callee may not send BYE on an early dialog nor before its 2xx was acknowledged.

State machine (generated from `DIALOG_TABLE` by `describe`; a test keeps it in step)::

    EARLY
      --PROVISIONAL/pass_up--> EARLY
      --ANSWERED/pass_up--> CONFIRMED
      --REJECTED/pass_up--> TERMINATED
      --BYE/pass_up--> TERMINATED
      --GONE/pass_up--> TERMINATED
      --EXPIRED/pass_up--> TERMINATED
    CONFIRMED
      --BYE/pass_up--> TERMINATED
      --GONE/pass_up--> TERMINATED
      --EXPIRED/pass_up--> TERMINATED
      ignores: PROVISIONAL, ANSWERED
      rejects: REJECTED
    TERMINATED
      ignores: PROVISIONAL, ANSWERED, REJECTED, BYE, GONE, EXPIRED
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal

from softswitch.sip.builders import make_response, new_branch
from softswitch.sip.errors import LocalProtocolError, RemoteProtocolError
from softswitch.sip.headers import Headers
from softswitch.sip.message import Request, Response
from softswitch.sip.session_timer import SessionTimer, SessionTimerTerms
from softswitch.sip.transaction.table import Action, MachineEnum, Table
from softswitch.sip.uri import URI, SipURI
from softswitch.sip.values import Address, Via, parse_address

__all__ = [
    "DIALOG_TABLE",
    "AnswerResent",
    "Dialog",
    "DialogEnded",
    "DialogError",
    "DialogId",
    "DialogInput",
    "DialogOutput",
    "DialogState",
    "DialogStateError",
    "RefreshDue",
    "SendRequest",
]

Role = Literal["uac", "uas"]
# Requests whose Contact sets the remote target (RFC 3261 12.2, RFC 3311, RFC 3515, RFC 6665).
_TARGET_REFRESH = frozenset({"INVITE", "UPDATE", "SUBSCRIBE", "NOTIFY", "REFER"})


class DialogError(RemoteProtocolError):
    """A peer's request does not fit the dialog; answer `status` (481, 500 or 400).

    `retry_later`: the answer must carry a Retry-After of 0 to 10 s, chosen at random by
    whoever answers (RFC 3261 14.2: an INVITE that arrives while an earlier one is pending).
    """

    def __init__(self, reason: str, status: int = 400, *, retry_later: bool = False) -> None:
        super().__init__(reason, status)
        self.retry_later = retry_later


class DialogStateError(LocalProtocolError):
    """The TU asked for something the dialog's state forbids (a bug of ours, not the peer's)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason, 500)


class DialogState(MachineEnum):
    EARLY = "early"
    CONFIRMED = "confirmed"
    TERMINATED = "terminated"


class DialogInput(MachineEnum):
    PROVISIONAL = "provisional"  # 101-199 with a To tag to the dialog's INVITE
    ANSWERED = "answered"  # 2xx to the dialog's INVITE (sent or received)
    REJECTED = "rejected"  # 3xx-6xx to the initial INVITE
    BYE = "bye"  # BYE sent or received
    GONE = "gone"  # 481/408 or timeout of an in-dialog request, or no ACK for our 2xx
    EXPIRED = "expired"  # session timer ran out


_S, _I = DialogState, DialogInput
_ENDING = (_I.REJECTED, _I.BYE, _I.GONE, _I.EXPIRED)
DIALOG_TABLE: Table = {
    (_S.EARLY, _I.PROVISIONAL): (_S.EARLY, Action.PASS_UP),
    (_S.EARLY, _I.ANSWERED): (_S.CONFIRMED, Action.PASS_UP),
    **{(_S.EARLY, i): (_S.TERMINATED, Action.PASS_UP) for i in _ENDING},
    (_S.CONFIRMED, _I.PROVISIONAL): (_S.CONFIRMED, Action.IGNORE),
    (_S.CONFIRMED, _I.ANSWERED): (_S.CONFIRMED, Action.IGNORE),  # 2xx retransmission
    (_S.CONFIRMED, _I.REJECTED): (_S.CONFIRMED, Action.REJECT),
    **{(_S.CONFIRMED, i): (_S.TERMINATED, Action.PASS_UP) for i in _ENDING[1:]},
    **{(_S.TERMINATED, i): (_S.TERMINATED, Action.IGNORE) for i in DialogInput},
}


@dataclass(frozen=True, slots=True)
class DialogId:
    """Call-ID plus both tags, seen from our side (RFC 3261 section 12)."""

    call_id: str
    local_tag: str
    remote_tag: str

    @classmethod
    def of_request(cls, request: Request) -> DialogId:
        """The id an incoming request names: its To tag is ours (empty on an initial one)."""
        return cls(request.call_id, request.to.tag or "", request.from_.tag or "")

    @classmethod
    def of_response(cls, response: Response) -> DialogId:
        """The id an incoming response names: its From tag is ours."""
        return cls(response.call_id, response.from_.tag or "", response.to.tag or "")


# -- outputs ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AnswerResent:
    """Send this 2xx again through the INVITE's server transaction (no ACK yet)."""

    response: Response


@dataclass(frozen=True, slots=True)
class SendRequest:
    """Send this in-dialog request (the BYE the dialog decided on); it has a top Via if the
    dialog has a `via` template, else the TU adds one."""

    request: Request


@dataclass(frozen=True, slots=True)
class RefreshDue:
    """We are the session refresher and half the interval has passed: send a re-INVITE or
    UPDATE (with the current SDP) and call `refresh_succeeded` on its 2xx."""


@dataclass(frozen=True, slots=True)
class DialogEnded:
    """The dialog terminated on its own; `reason` is for logs and the CDR hangup cause."""

    reason: str


DialogOutput = AnswerResent | SendRequest | RefreshDue | DialogEnded


@dataclass(slots=True)
class _UnackedAnswer:
    response: Response
    cseq: int
    resend_at: float | None
    interval: float
    give_up_at: float


class Dialog:
    """One dialog; make it with `as_uac` (from a 1xx/2xx) or `as_uas` (from an INVITE)."""

    def __init__(
        self,
        *,
        role: Role,
        dialog_id: DialogId,
        state: DialogState,
        local_uri: Address,
        remote_uri: Address,
        local_contact: URI,
        remote_target: URI,
        route_set: tuple[str, ...],
        local_seq: int,
        remote_seq: int | None,
        via: Via | None = None,
        t1: float = 0.5,
        t2: float = 4.0,
        reliable: bool = False,
    ) -> None:
        self.role = role
        self.id = dialog_id
        self.state = state
        self.local_uri = local_uri
        self.remote_uri = remote_uri
        self.local_contact = local_contact
        self.remote_target = remote_target
        self.route_set = route_set
        self.local_seq = local_seq
        self.remote_seq = remote_seq
        self.via = via
        self.t1, self.t2, self.reliable = t1, t2, reliable
        self.session_timer: SessionTimer | None = None
        self.end_reason: str | None = None
        self._sent_invite: int | None = None  # CSeq of our latest INVITE: its 2xx gets ACKed
        self._local_invite: int | None = None  # our INVITE awaiting its final response
        self._remote_invite: int | None = None  # their INVITE awaiting our final response
        self._unacked: _UnackedAnswer | None = None

    # -- creation ------------------------------------------------------------------------
    @classmethod
    def as_uac(
        cls,
        invite: Request,
        response: Response,
        local_contact: URI,
        *,
        via: Via | None = None,
        t1: float = 0.5,
        t2: float = 4.0,
        reliable: bool = False,
    ) -> Dialog:
        """The dialog a 101-299 response with a To tag creates for our INVITE (12.1.2)."""
        tag = response.to.tag
        if not 100 < response.status < 300 or not tag:
            raise DialogStateError(f"a {response.status} without To tag creates no dialog")
        local_tag = invite.from_.tag
        if not local_tag:
            raise DialogStateError("our INVITE has no From tag")
        dialog = cls(
            role="uac",
            dialog_id=DialogId(invite.call_id, local_tag, tag),
            state=DialogState.EARLY,
            local_uri=_untagged(invite.from_),
            remote_uri=_untagged(response.to),
            local_contact=local_contact,
            remote_target=_contact_uri(response) or invite.uri,
            route_set=tuple(reversed(response.headers.get_list("record-route"))),
            local_seq=invite.cseq.number,
            remote_seq=None,
            via=via,
            t1=t1,
            t2=t2,
            reliable=reliable,
        )
        dialog._local_invite = dialog._sent_invite = invite.cseq.number
        dialog.receive_response(response)
        return dialog

    @classmethod
    def as_uas(
        cls,
        invite: Request,
        local_tag: str,
        local_contact: URI,
        *,
        via: Via | None = None,
        t1: float = 0.5,
        t2: float = 4.0,
        reliable: bool = False,
    ) -> Dialog:
        """The dialog we create by answering an INVITE with a tagged 1xx or a 2xx (12.1.1)."""
        remote_target = _contact_uri(invite)
        if remote_target is None:
            raise DialogError("INVITE without Contact", 400)
        dialog = cls(
            role="uas",
            dialog_id=DialogId(invite.call_id, local_tag, invite.from_.tag or ""),
            state=DialogState.EARLY,
            local_uri=_untagged(invite.to),
            remote_uri=_untagged(invite.from_),
            local_contact=local_contact,
            remote_target=remote_target,
            route_set=tuple(invite.headers.get_list("record-route")),
            local_seq=0,
            remote_seq=invite.cseq.number,
            via=via,
            t1=t1,
            t2=t2,
            reliable=reliable,
        )
        dialog._remote_invite = invite.cseq.number
        return dialog

    # -- state ---------------------------------------------------------------------------
    def _fire(self, event: DialogInput, reason: str | None = None) -> None:
        target, action = DIALOG_TABLE[(self.state, event)]
        if action is Action.REJECT:
            raise DialogStateError(f"dialog {self.state.name} cannot take {event.name}")
        if target is DialogState.TERMINATED and self.state is not DialogState.TERMINATED:
            self.end_reason = reason or event.value
            self._unacked = None
            self.session_timer = None
        self.state = target

    @property
    def terminated(self) -> bool:
        return self.state is DialogState.TERMINATED

    @property
    def awaiting_ack(self) -> bool:
        return self._unacked is not None

    # -- incoming ------------------------------------------------------------------------
    def receive_request(self, request: Request) -> None:
        """Check an in-dialog request (not CANCEL) and apply it: CSeq, target refresh, BYE,
        ACK. Raises DialogError with the status to answer (481, 500)."""
        if DialogId.of_request(request) != self.id:
            raise DialogError("Call/Transaction Does Not Exist", 481)
        if self.terminated:
            raise DialogError("dialog already terminated", 481)
        method = request.method
        number = request.cseq.number
        if method == "ACK":
            if self._unacked is not None and number == self._unacked.cseq:
                self._unacked = None
            return
        if self.remote_seq is not None and number <= self.remote_seq:
            raise DialogError(f"CSeq {number} is not above {self.remote_seq}: out of order", 500)
        if method == "INVITE" and (self._remote_invite is not None or self._unacked is not None):
            raise DialogError("previous INVITE still in progress", 500, retry_later=True)
        if method == "INVITE" and self._local_invite is not None:
            raise DialogError("our INVITE is in progress", 491)
        self.remote_seq = number
        if method == "INVITE":
            self._remote_invite = number
        if method in _TARGET_REFRESH:
            self._refresh_target(request)
        if method == "BYE":
            self._fire(DialogInput.BYE, "remote BYE")

    def receive_response(self, response: Response) -> None:
        """Apply a response to a request we sent in (or to create) this dialog."""
        cseq = response.cseq
        status = response.status
        initial = cseq.method == "INVITE" and self.state is DialogState.EARLY
        if initial and response.to.tag != self.id.remote_tag:
            raise DialogStateError("a response from another fork: create its own Dialog")
        if cseq.method == "INVITE" and status >= 200 and cseq.number == self._local_invite:
            self._local_invite = None
        if status < 200:
            if initial and status > 100:
                self._refresh_target(response)
                self._fire(DialogInput.PROVISIONAL)
            return
        if status < 300:
            if cseq.method in _TARGET_REFRESH:
                self._refresh_target(response)
            if initial:
                # 13.2.2.4: the 2xx fixes the route set, replacing the one of the 1xx.
                self.route_set = tuple(reversed(response.headers.get_list("record-route")))
                self._fire(DialogInput.ANSWERED)
            return
        if initial:
            self._fire(DialogInput.REJECTED, f"{status} {response.reason}")
        elif status in (408, 481):
            self._fire(DialogInput.GONE, f"{status} to in-dialog {cseq.method}")

    def request_timed_out(self, method: str) -> None:
        """No response at all to an in-dialog request (12.2.1.2): the peer is gone."""
        if method == "INVITE":
            self._local_invite = None
        self._fire(DialogInput.GONE, f"no response to {method}")

    def _refresh_target(self, message: Request | Response) -> None:
        contact = _contact_uri(message)
        if contact is not None:
            self.remote_target = contact

    # -- outgoing responses (UAS) --------------------------------------------------------
    def make_response(
        self,
        request: Request,
        status: int,
        reason: str | None = None,
        *,
        body: bytes = b"",
        content_type: str = "application/sdp",
        headers: Sequence[tuple[str, str]] = (),
    ) -> Response:
        """A response from our side: our To tag; Record-Route and Contact where 12.1.1 and
        13.3.1 want them (dialog-creating and target-refresh 1xx/2xx)."""
        response = make_response(request, status, reason, to_tag=self.id.local_tag)
        if 100 < status < 300:
            if request.method == "INVITE":
                for route in request.headers.get_all("record-route"):
                    response.headers.add("Record-Route", route)
            if request.method in _TARGET_REFRESH:
                response.headers.add("Contact", f"<{self.local_contact}>")
        for name, value in headers:
            response.headers.add(name, value)
        if body:
            response.headers.add("Content-Type", content_type)
            response.body = body
        return response

    def sent_response(self, response: Response, now: float) -> None:
        """Record that a response to an INVITE went out: tagged 1xx keeps the dialog early,
        2xx confirms it and starts retransmitting until the ACK, 3xx+ ends an early one."""
        cseq = response.cseq
        if cseq.method != "INVITE" or cseq.number != self._remote_invite:
            return
        status = response.status
        if status < 200:
            if status > 100:
                self._fire(DialogInput.PROVISIONAL)
            return
        self._remote_invite = None
        if status >= 300:
            if self.state is DialogState.EARLY:
                self._fire(DialogInput.REJECTED, f"{status} sent")
            return
        self._fire(DialogInput.ANSWERED)
        self._unacked = _UnackedAnswer(
            response,
            cseq.number,
            None if self.reliable else now + self.t1,
            self.t1,
            now + 64 * self.t1,
        )

    # -- outgoing requests ---------------------------------------------------------------
    def create_request(
        self,
        method: str,
        *,
        body: bytes = b"",
        content_type: str = "application/sdp",
        headers: Sequence[tuple[str, str]] = (),
    ) -> Request:
        """A new in-dialog request with the next CSeq (12.2.1.1). BYE ends the dialog at once:
        media stops when the BYE is handed to its transaction (RFC 3261 section 15.1.1)."""
        if method in ("ACK", "CANCEL"):
            raise DialogStateError(f"use create_ack / build_cancel for {method}")
        if self.terminated:
            raise DialogStateError(f"cannot send {method}: dialog terminated ({self.end_reason})")
        if method == "BYE" and self.role == "uas":
            if self.state is DialogState.EARLY:
                raise DialogStateError("the callee cannot BYE an early dialog; answer 487/4xx")
            if self._unacked is not None:
                raise DialogStateError("BYE must wait for the ACK of our 2xx (RFC 3261 15)")
        if method == "INVITE":
            if self._local_invite is not None or self._remote_invite is not None:
                raise DialogStateError("an INVITE is already in progress in this dialog")
            if self.state is not DialogState.CONFIRMED:
                raise DialogStateError("re-INVITE needs a confirmed dialog")
        self.local_seq += 1
        request = self._build(method, self.local_seq, body, content_type, headers)
        if method == "INVITE":
            self._local_invite = self._sent_invite = self.local_seq
        if method == "BYE":
            self._fire(DialogInput.BYE, "local BYE")
        return request

    def create_ack(
        self,
        *,
        body: bytes = b"",
        content_type: str = "application/sdp",
        headers: Sequence[tuple[str, str]] = (),
    ) -> Request:
        """The ACK for the 2xx to our latest INVITE: same CSeq number (13.2.2.4); a body here
        is the answer to an offer that came in the 2xx (late offer)."""
        if self._sent_invite is None:
            raise DialogStateError("no INVITE of ours to acknowledge")
        return self._build("ACK", self._sent_invite, body, content_type, headers)

    def _build(
        self,
        method: str,
        number: int,
        body: bytes,
        content_type: str,
        extra: Sequence[tuple[str, str]],
    ) -> Request:
        uri, routes = self._request_target()
        headers = Headers()
        if self.via is not None:
            headers.add("Via", str(self.via.with_params(branch=new_branch())))
        headers.add("Max-Forwards", "70")
        for route in routes:
            headers.add("Route", route)
        headers.add("From", str(self.local_uri.with_tag(self.id.local_tag)))
        to = self.remote_uri.with_tag(self.id.remote_tag) if self.id.remote_tag else self.remote_uri
        headers.add("To", str(to))
        headers.add("Call-ID", self.id.call_id)
        headers.add("CSeq", f"{number} {method}")
        if method in _TARGET_REFRESH:
            headers.add("Contact", f"<{self.local_contact}>")
        for name, value in extra:
            headers.add(name, value)
        if body:
            headers.add("Content-Type", content_type)
        return Request(method, uri, headers, body)

    def _request_target(self) -> tuple[URI, list[str]]:
        if not self.route_set:
            return self.remote_target, []
        first = parse_address(self.route_set[0]).uri
        if isinstance(first, SipURI) and "lr" not in first.params:
            # 12.2.1.1 strict routing: the first route becomes the Request-URI.
            rest = list(self.route_set[1:]) + [f"<{self.remote_target}>"]
            return first.without_params("method", "maddr", "ttl", "transport", "lr"), rest
        return self.remote_target, list(self.route_set)

    # -- timers --------------------------------------------------------------------------
    def start_session_timer(self, terms: SessionTimerTerms, now: float) -> None:
        """Start (or, after a successful refresh either way, restart) the RFC 4028 timer."""
        if self.session_timer is None:
            self.session_timer = SessionTimer(terms, now)
        else:
            self.session_timer.refreshed(terms, now)

    def next_deadline(self) -> float | None:
        deadlines: list[float] = []
        if self._unacked is not None:
            u = self._unacked
            resend = u.resend_at if u.resend_at is not None else u.give_up_at
            deadlines.append(min(resend, u.give_up_at))
        if self.session_timer is not None:
            deadlines.append(self.session_timer.next_deadline())
        return min(deadlines) if deadlines else None

    def handle_timer(self, now: float) -> list[DialogOutput]:
        """Run whatever is due at `now`: resend the 2xx, give up on the ACK, refresh, expire."""
        out: list[DialogOutput] = []
        unacked = self._unacked
        if unacked is not None:
            if now >= unacked.give_up_at:
                self._unacked = None
                return self._end_with_bye("no ACK for our 2xx within 64*T1", DialogInput.GONE)
            if unacked.resend_at is not None and now >= unacked.resend_at:
                unacked.interval = min(unacked.interval * 2, self.t2)
                unacked.resend_at = now + unacked.interval
                out.append(AnswerResent(unacked.response))
        timer = self.session_timer
        if timer is not None:
            if timer.expired(now):
                out += self._end_with_bye("session timer expired", DialogInput.EXPIRED)
            elif timer.refresh_due(now):
                out.append(RefreshDue())
        return out

    def _end_with_bye(self, reason: str, event: DialogInput) -> list[DialogOutput]:
        """13.3.1.4 and RFC 4028 section 10: the session is over, tell the peer with a BYE."""
        self.local_seq += 1
        reason_header = [("Reason", f'SIP;cause=408;text="{reason}"')]
        bye = self._build("BYE", self.local_seq, b"", "", reason_header)
        self._fire(event, reason)
        return [SendRequest(bye), DialogEnded(reason)]


def _untagged(address: Address) -> Address:
    return replace(address, params={k: v for k, v in address.params.items() if k != "tag"})


def _contact_uri(message: Request | Response) -> URI | None:
    contacts = message.contacts
    if not contacts or contacts[0].uri is None:
        return None
    return contacts[0].uri
