"""Message-waiting indication (RFC 3842): the lamp on a phone that has voicemail.

Solicited: a phone SUBSCRIBEs to ``message-summary`` for its own mailbox (digest
authenticated, RFC 6665 section 4.2), gets 200 with the granted Expires and at once a NOTIFY
with the summary; every change of the mailbox's counts NOTIFYs it again, a refresh extends the
subscription, Expires 0 or the lapse of it ends it (a last NOTIFY with
``Subscription-State: terminated``). Unsolicited: phones that do not subscribe still get an
out-of-dialog NOTIFY at each registered contact when the counts change and when they
(re-)register with messages waiting, as most phones light their lamp from that too.

Subscriptions are soft state kept in memory: a restarted switch has none, and phones
re-subscribe when their refresh is refused with 481 (RFC 6665 section 4.1.2.2).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from softswitch.sip.builders import new_branch, new_call_id, new_tag
from softswitch.sip.destination import Destination
from softswitch.sip.headers import Headers
from softswitch.sip.message import Request, Response
from softswitch.sip.uri import SipURI, format_host, parse_uri
from softswitch.sip.values import parse_via
from softswitch.store.records import Binding
from softswitch.switch.auth import RequestAuthenticator
from softswitch.switch.core import ServerRequest, SipCore
from softswitch.switch.location import Location, destination_of

__all__ = ["EVENT", "MwiService", "message_summary"]

log = logging.getLogger(__name__)

EVENT = "message-summary"
CONTENT_TYPE = "application/simple-message-summary"
MAX_EXPIRES = 3600
DEFAULT_EXPIRES = 3600  # RFC 3842 section 5: no default in the package; ours


def message_summary(account: str, new: int, old: int) -> bytes:
    """The RFC 3842 section 5.2 body: waiting yes/no, the account, voice new/old counts."""
    return (f"Messages-Waiting: {'yes' if new else 'no'}\r\n"
            f"Message-Account: {account}\r\n"
            f"Voice-Message: {new}/{old} (0/0)\r\n").encode()


@dataclass(eq=False)
class _Subscription:
    mailbox: str
    call_id: str
    local_tag: str
    remote: str  # the subscriber's From (with its tag): our NOTIFY's To
    local: str  # the subscription's To with our tag: our NOTIFY's From
    target: str  # the subscriber's Contact: our NOTIFY's Request-URI
    destination: Destination
    expires_at: float
    cseq: int = 0
    timer: asyncio.TimerHandle | None = field(default=None, repr=False)


Counts = Callable[[str], Awaitable[tuple[int, int]]]


class MwiService:
    """``core.handle("SUBSCRIBE", mwi.on_subscribe)``; ``mailbox_changed`` and
    ``registered`` are the voicemail service's and the registrar's hooks."""

    def __init__(self, core: SipCore, authenticator: RequestAuthenticator, location: Location,
                 counts: Counts, *, host: str, port: int,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.core = core
        self.auth = authenticator
        self.location = location
        self.counts = counts
        self.host = host
        self.port = port
        self._clock = clock
        self._subs: dict[tuple[str, str], _Subscription] = {}  # (Call-ID, our tag)
        self._tasks: set[asyncio.Task[None]] = set()

    def attach(self) -> None:
        self.core.handle("SUBSCRIBE", self.on_subscribe)

    def subscriptions(self, mailbox: str) -> int:
        """How many live subscriptions watch ``mailbox`` (status, tests)."""
        return sum(1 for sub in self._subs.values() if sub.mailbox == mailbox)

    def close(self) -> None:
        for sub in self._subs.values():
            if sub.timer is not None:
                sub.timer.cancel()
        self._subs.clear()
        for task in self._tasks:
            task.cancel()

    # -- SUBSCRIBE ---------------------------------------------------------------------------
    async def on_subscribe(self, server: ServerRequest) -> None:
        request = server.request
        event = (request.headers.get("event") or "").split(";")[0].strip().lower()
        if event != EVENT:
            server.reply(489, "Bad Event", headers=[("Allow-Events", EVENT)])
            return
        try:
            expires = int(request.headers.get("expires") or DEFAULT_EXPIRES)
        except ValueError:
            server.reply(400, "Malformed Expires")
            return
        if expires < 0:
            server.reply(400, "Malformed Expires")
            return
        expires = min(expires, MAX_EXPIRES)
        if request.to.tag:
            await self._refresh(server, request.to.tag, expires)
            return
        user = await self.auth.authenticate(server)
        if user is None:
            return
        uri = request.uri
        mailbox = uri.user if isinstance(uri, SipURI) and uri.user else user.extension
        if mailbox != user.extension:
            server.reply(403, "Only Your Own Mailbox")
            return
        if not request.contacts:
            server.reply(400, "Missing Contact")
            return
        tag = new_tag()
        sub = _Subscription(
            mailbox=mailbox, call_id=request.call_id, local_tag=tag,
            remote=request.headers.get("from") or "",
            local=f"{request.headers.get('to')};tag={tag}",
            target=str(request.contacts[0].uri), destination=server.source,
            expires_at=self._clock() + expires, cseq=0)
        self._reply_ok(server, sub, expires)
        if expires == 0:  # a fetch: one NOTIFY, no subscription (RFC 6665 section 4.4.3)
            self._spawn(self._notify(sub, terminated="timeout"))
            return
        self._subs[(sub.call_id, tag)] = sub
        self._arm(sub)
        log.info("MWI: %s subscribed from %s for %d s", mailbox, server.source.host, expires)
        self._spawn(self._notify(sub))

    async def _refresh(self, server: ServerRequest, tag: str, expires: int) -> None:
        sub = self._subs.get((server.request.call_id, tag))
        if sub is None:
            server.reply(481, "Subscription Does Not Exist")
            return
        self._reply_ok(server, sub, expires)
        sub.destination = server.source
        if expires == 0:
            self._end(sub)
            self._spawn(self._notify(sub, terminated="timeout"))
            return
        sub.expires_at = self._clock() + expires
        self._arm(sub)
        self._spawn(self._notify(sub))

    def _reply_ok(self, server: ServerRequest, sub: _Subscription, expires: int) -> None:
        server.reply(200, headers=[("Expires", str(expires)), ("Contact", f"<{self._contact()}>")],
                     to_tag=sub.local_tag)

    def _arm(self, sub: _Subscription) -> None:
        if sub.timer is not None:
            sub.timer.cancel()
        loop = asyncio.get_running_loop()
        sub.timer = loop.call_later(max(0.0, sub.expires_at - self._clock()), self._lapsed, sub)

    def _lapsed(self, sub: _Subscription) -> None:
        sub.timer = None
        if self._subs.get((sub.call_id, sub.local_tag)) is sub:
            self._end(sub)
            self._spawn(self._notify(sub, terminated="timeout"))

    def _end(self, sub: _Subscription) -> None:
        self._subs.pop((sub.call_id, sub.local_tag), None)
        if sub.timer is not None:
            sub.timer.cancel()
            sub.timer = None

    # -- NOTIFY ------------------------------------------------------------------------------
    def mailbox_changed(self, mailbox: str) -> None:
        """Counts of ``mailbox`` changed: NOTIFY its subscribers and its owner's contacts."""
        self._spawn(self._announce(mailbox))

    def registered(self, aor: str, bindings: list[Binding]) -> None:
        """A phone (re-)registered: light its lamp at once when the mailbox holds messages
        (an empty mailbox sends nothing: most registrations are of phones with none, and
        a phone that registers knows of no lamp to clear)."""
        self._spawn(self._unsolicited(aor, bindings, only_if_messages=True))

    async def _announce(self, mailbox: str) -> None:
        subscribed = [sub for sub in self._subs.values() if sub.mailbox == mailbox]
        for sub in subscribed:
            await self._notify(sub)
        watched = {(sub.destination.host, sub.destination.port) for sub in subscribed}
        contacts = await self.location.contacts_for(mailbox)
        await self._unsolicited(mailbox, [b for b in contacts
                                          if (b.source_host, b.source_port) not in watched])

    async def _notify(self, sub: _Subscription, terminated: str | None = None) -> None:
        new, old = await self.counts(sub.mailbox)
        sub.cseq += 1
        if terminated is not None:
            state = f"terminated;reason={terminated}"
        else:
            state = f"active;expires={max(0, round(sub.expires_at - self._clock()))}"
        headers = self._headers(sub.destination, sub.local, sub.remote, sub.call_id, sub.cseq)
        headers.add("Subscription-State", state)
        await self._send(parse_uri(sub.target), headers, sub.mailbox, new, old,
                         sub.destination)

    async def _unsolicited(self, mailbox: str, bindings: list[Binding], *,
                           only_if_messages: bool = False) -> None:
        if not bindings:
            return
        new, old = await self.counts(mailbox)
        if only_if_messages and not new + old:
            return
        for binding in bindings:
            destination = destination_of(binding)
            account = f"<{self._account(mailbox)}>"
            headers = self._headers(destination, f"{account};tag={new_tag()}", account,
                                    new_call_id(self.host), 1)
            for hop in binding.path:
                headers.add("Route", hop)
            headers.add("Subscription-State", "active")
            await self._send(parse_uri(binding.contact), headers, mailbox, new, old,
                             destination)

    def _headers(self, destination: Destination, from_: str, to: str, call_id: str,
                 cseq: int) -> Headers:
        headers = Headers()
        via = parse_via(f"SIP/2.0/{destination.transport.upper()} "
                        f"{format_host(self.host)}:{self.port};rport")
        headers.add("Via", str(via.with_params(branch=new_branch())))
        headers.add("Max-Forwards", "70")
        headers.add("From", from_)
        headers.add("To", to)
        headers.add("Call-ID", call_id)
        headers.add("CSeq", f"{cseq} NOTIFY")
        headers.add("Contact", f"<{self._contact()}>")
        headers.add("Event", EVENT)
        headers.add("Content-Type", CONTENT_TYPE)
        return headers

    async def _send(self, uri: object, headers: Headers, mailbox: str, new: int, old: int,
                    destination: Destination) -> None:
        body = message_summary(self._account(mailbox), new, old)
        request = Request("NOTIFY", uri, headers, body)  # type: ignore[arg-type]
        try:
            response: Response = await self.core.send_request(request, destination)
        except Exception as exc:  # a phone gone away must not break the others
            log.info("MWI NOTIFY to %s failed: %s", destination.host, exc)
            return
        if response.status == 481:  # the phone forgot the subscription
            for key, sub in list(self._subs.items()):
                if sub.call_id == headers.get("call-id"):
                    self._end(self._subs[key])

    def _account(self, mailbox: str) -> str:
        return f"sip:{mailbox}@{format_host(self.host)}"

    def _contact(self) -> str:
        return f"sip:switch@{format_host(self.host)}:{self.port}"

    def _spawn(self, work: Awaitable[None]) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("MWI notification failed", exc_info=task.exception())
