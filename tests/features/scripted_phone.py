"""A scripted SIP phone inside the test (for what SIPp cannot script: one phone holding two
calls and naming one in the other's REFER). One UDP socket towards the switch, the project's
sans-IO `Dialog` for in-dialog requests, digest answers through `authorized_retry`."""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass, field

from softswitch.sip import parse_message
from softswitch.sip.builders import make_response, new_branch, new_call_id, new_tag
from softswitch.sip.dialog import Dialog
from softswitch.sip.headers import Headers
from softswitch.sip.message import Request, Response
from softswitch.sip.uri import parse_uri
from softswitch.sip.values import parse_via
from softswitch.switch.trunk_auth import ClientCredentials, authorized_retry

__all__ = ["PhoneCall", "ScriptedPhone"]

SDP = ("v=0\r\no=phone 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
       "m=audio {port} RTP/AVP 8 101\r\na=rtpmap:8 PCMA/8000\r\n"
       "a=rtpmap:101 telephone-event/8000\r\n")


class _Inbox(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.queue: asyncio.Queue[bytes] = asyncio.Queue()

    def datagram_received(self, data: bytes, addr: object) -> None:
        self.queue.put_nowait(data)


@dataclass(eq=False)
class PhoneCall:
    """One confirmed call of the phone: its dialog with the switch."""

    dialog: Dialog
    inbox: list[Request] = field(default_factory=list)


class ScriptedPhone:
    """Extension ``extension`` on a UDP socket; every wait is bounded."""

    def __init__(self, extension: str, password: str, switch_port: int) -> None:
        self.extension = extension
        self.credentials = ClientCredentials(extension, password)
        self.switch_port = switch_port
        self.transport: asyncio.DatagramTransport | None = None
        self.inbox = _Inbox()
        self.port = 0
        self.pending: list[Request | Response] = []

    async def start(self) -> ScriptedPhone:
        loop = asyncio.get_running_loop()
        self.transport, _ = await loop.create_datagram_endpoint(
            lambda: self.inbox, local_addr=("127.0.0.1", 0),
            remote_addr=("127.0.0.1", self.switch_port))
        self.port = self.transport.get_extra_info("sockname")[1]
        return self

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()

    def send(self, message: Request | Response) -> None:
        assert self.transport is not None
        self.transport.sendto(message.serialize())

    async def _next(self, timeout: float) -> Request | Response:
        message = parse_message(await asyncio.wait_for(self.inbox.queue.get(), timeout))
        assert isinstance(message, Request | Response)
        return message

    async def response(self, cseq: int, method: str, timeout: float = 5.0) -> Response:
        """The final response to our request (provisionals skipped; requests kept)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            message = await self._next(max(0.01, deadline - loop.time()))
            if isinstance(message, Request):
                self.pending.append(message)
            elif (message.cseq.number, message.cseq.method) == (cseq, method) \
                    and message.status >= 200:
                return message

    async def request(self, method: str, timeout: float = 5.0) -> Request:
        """The next request of ``method`` the switch sends us (others are kept)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            for message in self.pending:
                if isinstance(message, Request) and message.method == method:
                    self.pending.remove(message)
                    return message
            message = await self._next(max(0.01, deadline - loop.time()))
            self.pending.append(message)

    def answer(self, request: Request, status: int = 200) -> None:
        self.send(make_response(request, status))

    def _contact(self) -> str:
        return f"sip:{self.extension}@127.0.0.1:{self.port}"

    async def call(self, number: str, rtp_port: int = 40000,
                   extra: tuple[tuple[str, str], ...] = ()) -> PhoneCall:
        """INVITE ``number`` (answering the 407), ACK the 200: a confirmed call."""
        headers = Headers()
        headers.add("Via", f"SIP/2.0/UDP 127.0.0.1:{self.port};branch={new_branch()};rport")
        headers.add("Max-Forwards", "70")
        headers.add("From", f"<sip:{self.extension}@127.0.0.1>;tag={new_tag()}")
        headers.add("To", f"<sip:{number}@127.0.0.1>")
        headers.add("Call-ID", new_call_id("phone"))
        headers.add("CSeq", "1 INVITE")
        headers.add("Contact", f"<{self._contact()}>")
        for name, value in extra:
            headers.add(name, value)
        headers.add("Content-Type", "application/sdp")
        invite = Request("INVITE", parse_uri(f"sip:{number}@127.0.0.1:{self.switch_port}"),
                         headers, SDP.format(port=rtp_port).encode())
        self.send(invite)
        final = await self.response(1, "INVITE")
        if final.status == 407:
            self.send(_ack_for_failure(invite, final))
            retry = authorized_retry(invite, final, self.credentials, secrets.token_hex(8))
            assert retry is not None
            invite = retry
            self.send(invite)
            final = await self.response(invite.cseq.number, "INVITE", timeout=10)
        assert final.status == 200, final.start_line
        dialog = Dialog.as_uac(invite, final, parse_uri(self._contact()),
                               via=parse_via(f"SIP/2.0/UDP 127.0.0.1:{self.port};rport"))
        self.send(dialog.create_ack())
        return PhoneCall(dialog)

    async def answer_call(self, rtp_port: int = 40000) -> PhoneCall:
        """Wait for an INVITE (the phone must be registered at ``self.port``), answer 200 with
        PCMA, wait for the ACK: a confirmed call."""
        invite = await self.request("INVITE", timeout=10)
        dialog = Dialog.as_uas(invite, new_tag(), parse_uri(self._contact()),
                               via=parse_via(f"SIP/2.0/UDP 127.0.0.1:{self.port};rport"))
        ok = dialog.make_response(invite, 200, body=SDP.format(port=rtp_port).encode())
        dialog.sent_response(ok, asyncio.get_running_loop().time())
        self.send(ok)
        dialog.receive_request(await self.request("ACK"))
        return PhoneCall(dialog)

    async def in_dialog(self, call: PhoneCall, method: str,
                        headers: list[tuple[str, str]]) -> Response:
        """Send an in-dialog request, answering a 407 once; the final response."""
        request = call.dialog.create_request(method, headers=headers)
        self.send(request)
        final = await self.response(request.cseq.number, method)
        if final.status == 407:
            retry = authorized_retry(request, final, self.credentials, secrets.token_hex(8))
            assert retry is not None
            call.dialog.local_seq = retry.cseq.number
            self.send(retry)
            final = await self.response(retry.cseq.number, method)
        return final


def _ack_for_failure(invite: Request, response: Response) -> Request:
    """The ACK of a non-2xx final response (same branch, RFC 3261 17.1.1.3)."""
    headers = Headers()
    headers.add("Via", invite.headers.get("via") or "")
    headers.add("Max-Forwards", "70")
    headers.add("From", invite.headers.get("from") or "")
    headers.add("To", response.headers.get("to") or "")
    headers.add("Call-ID", invite.call_id)
    headers.add("CSeq", f"{invite.cseq.number} ACK")
    return Request("ACK", invite.uri, headers)
