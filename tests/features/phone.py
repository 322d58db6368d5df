"""The one small phone of the feature tests: real UDP sockets for SIP and RTP on 127.0.0.1.

It answers INVITEs the way the test asks (`answer`: 200 at once, `ring`: 180 and wait, or a
final failure status) and keeps them (headers to check); given an extension, its password and
the switch's port it also places calls (`dial()`: digest-authenticated INVITE, provisional
responses kept, the final one ACKed). In a call it sends a PCMU tone (`talk()`), keeps the
RTP payloads it receives, answers BYE and can send its own (`hang_up()`). Bounded waits only.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from dataclasses import dataclass, field

import numpy as np

from media.codecs import get_codec
from softswitch.sip import Request, Response, make_response, parse_message
from softswitch.sip.digest import DigestAlgorithm, DigestCredentials, compute_ha1
from tests.registrar.client import challenge_of

__all__ = ["Phone", "sdp_address", "send_tone"]


def sdp_address(body: bytes) -> tuple[str, int] | None:
    """The audio address of an SDP body (c= and m=audio lines)."""
    host, port = None, None
    for line in body.decode().splitlines():
        if line.startswith("c=IN IP4 "):
            host = line.split()[-1]
        elif line.startswith("m=audio "):
            port = int(line.split()[1])
    return (host, port) if host and port else None


async def send_tone(transport: asyncio.DatagramTransport, remote: tuple[str, int],
                    freq: float, seconds: float = 30.0) -> None:
    """A PCMU tone as RTP every 20 ms (paced from a monotonic start) until cancelled."""
    codec = get_codec("PCMU")
    seq, ts, ssrc = 1, 0, secrets.randbits(32)
    start = time.monotonic()
    for n in range(1, int(seconds * 50) + 1):
        t = (np.arange(160) + ts) / 8000
        pcm = (0.4 * 32767 * np.sin(2 * np.pi * freq * t)).astype(np.int16)
        header = bytes([0x80, 0]) + seq.to_bytes(2, "big") + ts.to_bytes(4, "big") \
            + ssrc.to_bytes(4, "big")
        transport.sendto(header + codec.encode(pcm), remote)
        seq, ts = (seq + 1) & 0xFFFF, ts + 160
        await asyncio.sleep(max(0.0, start + n * 0.02 - time.monotonic()))


class _Socket(asyncio.DatagramProtocol):
    def __init__(self, on_datagram: object) -> None:
        self.on_datagram = on_datagram

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.on_datagram(data, addr)  # type: ignore[operator]


@dataclass
class _Dialog:
    """What a BYE of ours needs, for a call we answered or placed."""

    call_id: str
    local: str  # our From (with our tag)
    remote: str  # our To (with theirs)
    target: str  # the Request-URI (their Contact)
    peer: tuple[str, int]  # where to send it (the switch)
    cseq: int = 0


@dataclass(eq=False)
class Phone:
    """One phone; ``mode`` ('answer', 'ring' or a failure status such as '486') says how it
    answers INVITEs; ``extension``, ``password`` and ``switch_port`` let it `dial()`."""

    mode: str = "answer"
    extension: str = ""
    password: str = ""
    switch_port: int = 0
    payload_types: str = "0 101"  # offered (and answered) on the m= line
    invites: list[Request] = field(default_factory=list)
    provisional: list[Response] = field(default_factory=list)  # of our own INVITE
    rtp: list[bytes] = field(default_factory=list)  # PCMU payloads received
    byes: int = 0
    cancels: int = 0
    answered_at: float | None = None
    sip_port: int = 0
    rtp_port: int = 0
    _sip: asyncio.DatagramTransport | None = None
    _rtp: asyncio.DatagramTransport | None = None
    _dialog: _Dialog | None = None
    _remote_rtp: tuple[str, int] | None = None
    _events: asyncio.Queue[str] = field(default_factory=asyncio.Queue)
    _responses: asyncio.Queue[Response] = field(default_factory=asyncio.Queue)
    _talking: asyncio.Task[None] | None = None
    _pending: tuple[str, str, str, int, str] | None = None  # the INVITE we are sending

    async def start(self) -> Phone:
        loop = asyncio.get_running_loop()
        self._sip, _ = await loop.create_datagram_endpoint(
            lambda: _Socket(self._on_sip), local_addr=("127.0.0.1", 0))
        self._rtp, _ = await loop.create_datagram_endpoint(
            lambda: _Socket(self._on_rtp), local_addr=("127.0.0.1", 0))
        self.sip_port = self._sip.get_extra_info("sockname")[1]
        self.rtp_port = self._rtp.get_extra_info("sockname")[1]
        return self

    def close(self) -> None:
        if self._talking is not None:
            self._talking.cancel()
        for transport in (self._sip, self._rtp):
            if transport is not None:
                transport.close()

    async def wait_for(self, event: str, timeout: float = 5.0) -> None:
        """Wait (bounded) until the phone saw ``event``: invite, ack, bye, cancel."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"phone {self.sip_port}: no {event} in {timeout} s")
            try:
                if await asyncio.wait_for(self._events.get(), left) == event:
                    return
            except TimeoutError:
                raise AssertionError(f"phone {self.sip_port}: no {event} in {timeout} s") from None

    # -- in a call ---------------------------------------------------------------------
    def talk(self, freq: float = 1000.0) -> None:
        """Send a PCMU tone every 20 ms to the other side's SDP address until the call ends."""
        assert self._rtp is not None and self._remote_rtp is not None
        self._talking = asyncio.ensure_future(send_tone(self._rtp, self._remote_rtp, freq))

    def hang_up(self) -> None:
        """Send BYE in the call (answered or placed) to the switch."""
        assert self._dialog is not None and self._sip is not None
        dialog = self._dialog
        dialog.cseq += 1
        self._sip.sendto(
            (f"BYE {dialog.target} SIP/2.0\r\n"
             f"Via: SIP/2.0/UDP 127.0.0.1:{self.sip_port};branch=z9hG4bK{secrets.token_hex(6)}"
             f";rport\r\nMax-Forwards: 70\r\nFrom: {dialog.local}\r\nTo: {dialog.remote}\r\n"
             f"Call-ID: {dialog.call_id}\r\nCSeq: {dialog.cseq} BYE\r\n"
             "Content-Length: 0\r\n\r\n").encode(), dialog.peer)
        if self._talking is not None:
            self._talking.cancel()

    # -- placing a call --------------------------------------------------------------------
    async def dial(self, number: str, timeout: float = 10.0) -> Response:
        """INVITE ``number``; the final response (200 is ACKed and the call is up)."""
        call_id, tag = secrets.token_hex(8) + "@caller", secrets.token_hex(4)
        uri = f"sip:{number}@127.0.0.1:{self.switch_port}"
        cseq = 1
        invite, branch = self._invite(uri, call_id, tag, cseq, "")
        self._pending = (uri, call_id, tag, cseq, branch)
        self._send(invite)
        final = await self._final(timeout)
        if final.status == 407:
            self._send(self._ack(uri, call_id, tag, final, cseq, branch))
            challenge = challenge_of(final, DigestAlgorithm.MD5)
            ha1 = compute_ha1(self.extension, challenge.realm, self.password, challenge.algorithm)
            auth = DigestCredentials.answer(challenge, username=self.extension, ha1=ha1,
                                            method="INVITE", uri=uri,
                                            cnonce=secrets.token_hex(4)).to_header()
            cseq = 2
            invite, branch = self._invite(uri, call_id, tag, cseq,
                                          f"Proxy-Authorization: {auth}\r\n")
            self._pending = (uri, call_id, tag, cseq, branch)
            self._send(invite)
            final = await self._final(timeout)
        if 200 <= final.status < 300:
            contact = (final.headers.get("contact") or "").strip("<>").split(";")[0].rstrip(">")
            self._dialog = _Dialog(call_id, f"<sip:{self.extension}@127.0.0.1>;tag={tag}",
                                   final.headers.get("to") or "", contact,
                                   ("127.0.0.1", self.switch_port), cseq)
            self._remote_rtp = sdp_address(final.body)
            self._send(self._ack(contact, call_id, tag, final, cseq, None))
        else:
            self._send(self._ack(uri, call_id, tag, final, cseq, branch))
        return final

    def cancel(self) -> None:
        """CANCEL the INVITE in progress (RFC 3261 9.1: same branch, CSeq number)."""
        assert self._pending is not None
        uri, call_id, tag, cseq, branch = self._pending
        self._send(f"CANCEL {uri} SIP/2.0\r\n"
                   f"Via: SIP/2.0/UDP 127.0.0.1:{self.sip_port};branch={branch};rport\r\n"
                   f"Max-Forwards: 70\r\nFrom: <sip:{self.extension}@127.0.0.1>;tag={tag}\r\n"
                   f"To: <{uri}>\r\nCall-ID: {call_id}\r\nCSeq: {cseq} CANCEL\r\n"
                   "Content-Length: 0\r\n\r\n")

    def early_media_address(self) -> tuple[str, int] | None:
        for response in self.provisional:
            if response.status == 183 and response.body:
                return sdp_address(response.body)
        return None

    def _invite(self, uri: str, call_id: str, tag: str, cseq: int,
                extra: str) -> tuple[str, str]:
        branch = "z9hG4bK" + secrets.token_hex(6)
        return (f"INVITE {uri} SIP/2.0\r\n"
                f"Via: SIP/2.0/UDP 127.0.0.1:{self.sip_port};branch={branch};rport\r\n"
                f"Max-Forwards: 70\r\nFrom: <sip:{self.extension}@127.0.0.1>;tag={tag}\r\n"
                f"To: <{uri}>\r\nCall-ID: {call_id}\r\nCSeq: {cseq} INVITE\r\n"
                f"Contact: <sip:{self.extension}@127.0.0.1:{self.sip_port}>\r\n{extra}"
                "Content-Type: application/sdp\r\n"
                f"Content-Length: {len(self._sdp())}\r\n\r\n{self._sdp().decode()}",
                branch)

    def _ack(self, uri: str, call_id: str, tag: str, final: Response, cseq: int,
             branch: str | None) -> str:
        """ACK: in the INVITE's transaction for a failure (same branch), new for a 2xx."""
        branch = branch or "z9hG4bK" + secrets.token_hex(6)
        return (f"ACK {uri} SIP/2.0\r\n"
                f"Via: SIP/2.0/UDP 127.0.0.1:{self.sip_port};branch={branch};rport\r\n"
                f"Max-Forwards: 70\r\nFrom: <sip:{self.extension}@127.0.0.1>;tag={tag}\r\n"
                f"To: {final.headers.get('to')}\r\nCall-ID: {call_id}\r\nCSeq: {cseq} ACK\r\n"
                "Content-Length: 0\r\n\r\n")

    async def _final(self, timeout: float) -> Response:
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("no final response in time")
            response = await asyncio.wait_for(self._responses.get(), left)
            if response.cseq.method != "INVITE":
                continue
            if response.status >= 200:
                return response
            if response.status > 100:
                self.provisional.append(response)

    def _send(self, text: str) -> None:
        assert self._sip is not None
        self._sip.sendto(text.encode(), ("127.0.0.1", self.switch_port))

    # -- what arrives ----------------------------------------------------------------------
    def _sdp(self) -> bytes:
        return (f"v=0\r\no=phone 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\n"
                f"t=0 0\r\nm=audio {self.rtp_port} RTP/AVP {self.payload_types}\r\n"
                "a=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\n"
                "a=sendrecv\r\n").encode()

    def _on_rtp(self, data: bytes, addr: tuple[str, int]) -> None:
        if len(data) > 12 and data[1] & 0x7F == 0:
            self.rtp.append(data[12:])

    def _on_sip(self, data: bytes, addr: tuple[str, int]) -> None:
        try:
            message = parse_message(data)
        except Exception:
            return
        if isinstance(message, Response):
            self._responses.put_nowait(message)
            return
        method = message.method
        if method == "INVITE":
            self._on_invite(message, addr)
        elif method == "ACK":
            self._events.put_nowait("ack")
        elif method == "BYE":
            self.byes += 1
            self._reply(message, 200, addr)
            if self._talking is not None:
                self._talking.cancel()
            self._events.put_nowait("bye")
        elif method == "CANCEL":
            self.cancels += 1
            self._reply(message, 200, addr)
            if self.invites:
                self._reply(self.invites[-1], 487, addr, tag="ringing")
            self._events.put_nowait("cancel")
        else:
            self._reply(message, 200, addr)

    def _on_invite(self, invite: Request, addr: tuple[str, int]) -> None:
        if any(i.call_id == invite.call_id for i in self.invites):
            return  # a retransmission: the first answer stands
        self.invites.append(invite)
        self._events.put_nowait("invite")
        if self.mode == "ring":
            self._reply(invite, 180, addr, tag="ringing")
        elif self.mode == "answer":
            tag = secrets.token_hex(4)
            self._reply(invite, 200, addr, tag=tag, body=self._sdp())
            contact = (invite.headers.get("contact") or "").strip("<>").split(";")[0]
            self._dialog = _Dialog(invite.call_id, f"{invite.headers.get('to')};tag={tag}",
                                   invite.headers.get("from") or "", contact, addr)
            self._remote_rtp = sdp_address(invite.body)
            self.answered_at = time.monotonic()
        else:
            self._reply(invite, int(self.mode), addr, tag="refused")

    def _reply(self, request: Request, status: int, addr: tuple[str, int], *,
               tag: str | None = None, body: bytes = b"") -> None:
        assert self._sip is not None
        response = make_response(request, status, to_tag=tag)
        if body:
            response.headers.add("Contact", f"<sip:phone@127.0.0.1:{self.sip_port}>")
            response.headers.add("Content-Type", "application/sdp")
        response.body = body
        self._sip.sendto(response.serialize(), addr)
