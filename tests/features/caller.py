"""A small calling phone for feature tests: digest-authenticated INVITE over UDP, RTP out and in.

`dial()` sends the INVITE (answering the 407 once), keeps every provisional response, ACKs
the final one and returns it. While a call is up the phone sends a PCMU tone (`talk()`),
keeps the RTP it receives, answers the switch's BYE and can send its own (`hang_up()`).
Real sockets on 127.0.0.1; every wait is bounded.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from dataclasses import dataclass, field

from softswitch.sip import Request, Response, make_response, parse_message
from softswitch.sip.digest import DigestAlgorithm, DigestCredentials, compute_ha1
from tests.features.phone import _Socket, sdp_address, send_tone
from tests.registrar.client import challenge_of

__all__ = ["CallingPhone"]


@dataclass(eq=False)
class CallingPhone:
    extension: str
    password: str
    switch_port: int
    provisional: list[Response] = field(default_factory=list)
    rtp: list[tuple[float, bytes]] = field(default_factory=list)
    byes: int = 0
    sip_port: int = 0
    rtp_port: int = 0
    _sip: asyncio.DatagramTransport | None = None
    _rtp: asyncio.DatagramTransport | None = None
    _responses: asyncio.Queue[Response] = field(default_factory=asyncio.Queue)
    _bye: asyncio.Event = field(default_factory=asyncio.Event)
    _dialog: tuple[str, str, str, str] | None = None  # call-id, from, to, remote target
    _remote_rtp: tuple[str, int] | None = None
    _talking: asyncio.Task[None] | None = None
    _cseq: int = 1
    _pending: tuple[str, str, str, int, str] | None = None  # the INVITE being answered

    async def start(self) -> CallingPhone:
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

    async def dial(self, number: str, timeout: float = 10.0) -> Response:
        """INVITE ``number``; the final response (200 is ACKed and the call is up)."""
        call_id, tag = secrets.token_hex(8) + "@caller", secrets.token_hex(4)
        uri = f"sip:{number}@127.0.0.1:{self.switch_port}"
        invite, branch = self._invite(uri, call_id, tag, 1, "")
        self._pending = (uri, call_id, tag, 1, branch)
        self._send(invite)
        final = await self._final(timeout)
        if final.status == 407:
            self._send(self._ack(uri, call_id, tag, final, 1, branch))
            challenge = challenge_of(final, DigestAlgorithm.MD5)
            ha1 = compute_ha1(self.extension, challenge.realm, self.password, challenge.algorithm)
            auth = DigestCredentials.answer(challenge, username=self.extension, ha1=ha1,
                                            method="INVITE", uri=uri,
                                            cnonce=secrets.token_hex(4)).to_header()
            self._cseq = 2
            invite, branch = self._invite(uri, call_id, tag, 2, f"Proxy-Authorization: {auth}\r\n")
            self._pending = (uri, call_id, tag, 2, branch)
            self._send(invite)
            final = await self._final(timeout)
        if 200 <= final.status < 300:
            contact = (final.headers.get("contact") or "").strip("<>").split(";")[0].rstrip(">")
            to = final.headers.get("to") or ""
            self._dialog = (call_id, f"<sip:{self.extension}@127.0.0.1>;tag={tag}", to, contact)
            self._remote_rtp = sdp_address(final.body)
            self._send(self._ack(contact, call_id, tag, final, self._cseq, None))
        else:
            self._send(self._ack(uri, call_id, tag, final, self._cseq, branch))
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

    def talk(self, freq: float = 1000.0) -> None:
        """Send a PCMU tone every 20 ms until the call ends (or close())."""
        assert self._rtp is not None and self._remote_rtp is not None
        self._talking = asyncio.ensure_future(send_tone(self._rtp, self._remote_rtp, freq))

    def hang_up(self) -> None:
        assert self._dialog is not None
        call_id, from_, to, target = self._dialog
        self._cseq += 1
        self._send(
            f"BYE {target} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP 127.0.0.1:{self.sip_port};branch=z9hG4bK{secrets.token_hex(6)}"
            ";rport\r\nMax-Forwards: 70\r\n"
            f"From: {from_}\r\nTo: {to}\r\nCall-ID: {call_id}\r\nCSeq: {self._cseq} BYE\r\n"
            "Content-Length: 0\r\n\r\n")
        if self._talking is not None:
            self._talking.cancel()

    async def wait_bye(self, timeout: float = 5.0) -> None:
        await asyncio.wait_for(self._bye.wait(), timeout)

    def _invite(self, uri: str, call_id: str, tag: str, cseq: int,
                extra: str) -> tuple[str, str]:
        branch = "z9hG4bK" + secrets.token_hex(6)
        sdp = ("v=0\r\no=caller 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
               f"m=audio {self.rtp_port} RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\n"
               "a=rtpmap:101 telephone-event/8000\r\na=sendrecv\r\n")
        return (f"INVITE {uri} SIP/2.0\r\n"
                f"Via: SIP/2.0/UDP 127.0.0.1:{self.sip_port};branch={branch};rport\r\n"
                f"Max-Forwards: 70\r\nFrom: <sip:{self.extension}@127.0.0.1>;tag={tag}\r\n"
                f"To: <{uri}>\r\nCall-ID: {call_id}\r\nCSeq: {cseq} INVITE\r\n"
                f"Contact: <sip:{self.extension}@127.0.0.1:{self.sip_port}>\r\n{extra}"
                f"Content-Type: application/sdp\r\nContent-Length: {len(sdp)}\r\n\r\n{sdp}",
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

    def _on_rtp(self, data: bytes, addr: tuple[str, int]) -> None:
        if len(data) > 12 and data[1] & 0x7F == 0:
            self.rtp.append((time.monotonic(), data[12:]))

    def _on_sip(self, data: bytes, addr: tuple[str, int]) -> None:
        try:
            message = parse_message(data)
        except Exception:
            return
        if isinstance(message, Response):
            self._responses.put_nowait(message)
        elif isinstance(message, Request) and message.method == "BYE":
            self.byes += 1
            assert self._sip is not None
            self._sip.sendto(make_response(message, 200).serialize(), addr)
            self._bye.set()
            if self._talking is not None:
                self._talking.cancel()

