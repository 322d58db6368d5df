"""A small answering phone for feature tests: real UDP sockets for SIP and RTP on 127.0.0.1.

It answers INVITEs the way the test asks (`answer`: 200 at once, `ring`: 180 and wait, or a
final failure status), keeps the INVITEs it got (headers to check), acknowledges BYE, can
hang up itself, and keeps the RTP payloads it receives. Bounded waits only.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from dataclasses import dataclass, field

import numpy as np

from media.codecs import get_codec
from softswitch.sip import Request, make_response, parse_message

__all__ = ["AnsweringPhone", "sdp_address", "send_tone"]


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


@dataclass(eq=False)
class AnsweringPhone:
    """One phone; ``mode`` is 'answer', 'ring' or a failure status such as '486'."""

    mode: str = "answer"
    invites: list[Request] = field(default_factory=list)
    rtp: list[bytes] = field(default_factory=list)
    byes: int = 0
    cancels: int = 0
    answered_at: float | None = None
    sip_port: int = 0
    rtp_port: int = 0
    _sip: asyncio.DatagramTransport | None = None
    _rtp: asyncio.DatagramTransport | None = None
    _dialog: tuple[Request, str, tuple[str, int]] | None = None
    _events: asyncio.Queue[str] = field(default_factory=asyncio.Queue)
    _talking: asyncio.Task[None] | None = None

    async def start(self) -> AnsweringPhone:
        loop = asyncio.get_running_loop()
        self._sip, _ = await loop.create_datagram_endpoint(
            lambda: _Socket(self._on_sip), local_addr=("127.0.0.1", 0))
        self._rtp, _ = await loop.create_datagram_endpoint(
            lambda: _Socket(self._on_rtp), local_addr=("127.0.0.1", 0))
        self.sip_port = self._sip.get_extra_info("sockname")[1]
        self.rtp_port = self._rtp.get_extra_info("sockname")[1]
        return self

    def talk(self, freq: float) -> None:
        """Send a tone to the address of the answered INVITE's SDP until close()."""
        assert self._dialog is not None and self._rtp is not None
        remote = sdp_address(self._dialog[0].body)
        assert remote is not None
        self._talking = asyncio.ensure_future(send_tone(self._rtp, remote, freq))

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

    def hang_up(self) -> None:
        """Send BYE in the answered dialog (to the switch's Contact address)."""
        assert self._dialog is not None and self._sip is not None
        invite, tag, switch = self._dialog
        branch = "z9hG4bK" + secrets.token_hex(6)
        contact = invite.headers.get("contact") or ""
        target = contact.strip("<>").split(";")[0]
        lines = [
            f"BYE {target} SIP/2.0",
            f"Via: SIP/2.0/UDP 127.0.0.1:{self.sip_port};branch={branch};rport",
            "Max-Forwards: 70",
            f"From: {invite.headers.get('to')};tag={tag}",
            f"To: {invite.headers.get('from')}",
            f"Call-ID: {invite.call_id}",
            "CSeq: 1 BYE",
            "Content-Length: 0",
        ]
        self._sip.sendto(("\r\n".join(lines) + "\r\n\r\n").encode(), switch)

    def _on_rtp(self, data: bytes, addr: tuple[str, int]) -> None:
        if len(data) > 12:
            self.rtp.append(data[12:])

    def _on_sip(self, data: bytes, addr: tuple[str, int]) -> None:
        try:
            message = parse_message(data)
        except Exception:
            return
        if not isinstance(message, Request):
            return
        method = message.method
        if method == "INVITE":
            self._on_invite(message, addr)
        elif method == "ACK":
            self._events.put_nowait("ack")
        elif method == "BYE":
            self.byes += 1
            self._reply(message, 200, addr)
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
            sdp = (f"v=0\r\no=phone 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\n"
                   f"t=0 0\r\nm=audio {self.rtp_port} RTP/AVP 0 101\r\n"
                   "a=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\n"
                   "a=sendrecv\r\n").encode()
            self._reply(invite, 200, addr, tag=tag, body=sdp)
            self._dialog = (invite, tag, addr)
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
