"""A small softphone for feature tests: SIP over real UDP on 127.0.0.1, RTP through a
`media.MediaEngine` leg (so it sends tones and RFC 4733 digits and records what it hears).

It places one call at a time (answering the 407 digest challenge), answers BYE and NOTIFY
with 200 (keeping the NOTIFYs), answers calls to itself (``auto_answer``) or refuses them as busy, and can REGISTER and
SUBSCRIBE. Every wait is bounded.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from dataclasses import dataclass, field

import numpy as np

from media import Leg, MediaEngine, MediaFormat, get_codec
from media.stream import rtp_payload
from softswitch.sip import parse_message
from softswitch.sip.message import Request, Response
from softswitch.sip.sdp import parse_sdp
from softswitch.switch.trunk_auth import ClientCredentials, authorized_retry

__all__ = ["Phone", "tone", "dominant_frequency"]

RATE = 8000


def tone(freq: float, seconds: float, level: float = 0.3) -> np.ndarray:
    """A sine tone as int16 samples at 8 kHz."""
    t = np.arange(int(seconds * RATE)) / RATE
    return (np.sin(2 * np.pi * freq * t) * level * 32767).astype(np.int16)


def dominant_frequency(samples: np.ndarray, rate: int = RATE) -> float:
    """The strongest frequency of a stretch of audio (Hann-windowed FFT)."""
    data = samples.astype(np.float64)
    spectrum = np.abs(np.fft.rfft(data * np.hanning(data.size)))
    return float(np.fft.rfftfreq(data.size, 1 / rate)[int(np.argmax(spectrum[1:])) + 1])


def _is_tone(samples: np.ndarray, freq: float) -> bool:
    """Loud, and most of its energy near ``freq`` (speech is never that pure)."""
    data = samples.astype(np.float64)
    if np.sqrt(np.mean(data**2)) < 300:
        return False
    spectrum = np.abs(np.fft.rfft(data * np.hanning(data.size))) ** 2
    freqs = np.fft.rfftfreq(data.size, 1 / RATE)
    near = spectrum[np.abs(freqs - freq) <= 40].sum()
    return bool(near > 0.7 * spectrum.sum())


class _Udp(asyncio.DatagramProtocol):
    def __init__(self, phone: Phone) -> None:
        self.phone = phone

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.phone._received(data)


@dataclass
class _Dialog:
    call_id: str
    local_tag: str
    remote_tag: str
    remote_target: str
    cseq: int
    to_uri: str


@dataclass
class Phone:
    """``async with Phone(switch_port, "1001", "pw") as phone:``."""

    switch_port: int
    extension: str
    password: str
    auto_answer: bool = False  # answer calls to this phone (else refuse them as busy)
    notifies: list[Request] = field(default_factory=list)
    byes: asyncio.Event = field(default_factory=asyncio.Event)

    async def __aenter__(self) -> Phone:
        loop = asyncio.get_running_loop()
        self._transport, _ = await loop.create_datagram_endpoint(
            lambda: _Udp(self), local_addr=("127.0.0.1", 0))
        self.port: int = self._transport.get_extra_info("sockname")[1]
        self._responses: asyncio.Queue[Response] = asyncio.Queue()
        self._notified = asyncio.Condition()
        self.engine = MediaEngine(host="127.0.0.1", port_range=None)
        await self.engine.start()
        self.leg: Leg | None = None
        self.dialog: _Dialog | None = None
        self._heard: list[np.ndarray] = []
        self._answering = False
        return self

    async def __aexit__(self, *exc: object) -> None:
        with contextlib.suppress(Exception):
            if self.dialog is not None and not self.byes.is_set():
                await self.hangup()
        await self.engine.close()
        self._transport.close()

    # -- SIP plumbing ------------------------------------------------------------------------
    def _send(self, data: bytes) -> None:
        self._transport.sendto(data, ("127.0.0.1", self.switch_port))

    def _received(self, data: bytes) -> None:
        if not data.strip():
            return
        message = parse_message(data)
        if isinstance(message, Response):
            self._responses.put_nowait(message)
            return
        if message.method == "ACK":
            return
        if message.method == "INVITE":
            if self.auto_answer and not self._answering and not message.to.tag:
                self._answering = True  # a retransmitted INVITE is not answered twice
                self._accepting = asyncio.ensure_future(self._accept(message))
            elif not message.to.tag:
                self._answer(message, 486)
            return
        self._answer(message, 200)
        if message.method == "BYE":
            self.byes.set()
        elif message.method == "NOTIFY":
            self.notifies.append(message)
            asyncio.ensure_future(self._wake())

    async def _wake(self) -> None:
        async with self._notified:
            self._notified.notify_all()

    async def _accept(self, invite: Request) -> None:
        """Answer a call: 200 with our SDP, media to the offer's address."""
        leg = await self.engine.open_leg(MediaFormat("PCMU", 0, 101))
        self.leg = leg
        offer = parse_sdp(invite.body)
        connection = offer.connection_of(offer.media[0])
        assert connection is not None
        self.engine.configure(leg, remote=(connection.host, offer.media[0].port))
        self._tap(leg)
        tag = secrets.token_hex(4)
        self.dialog = _Dialog(invite.call_id, tag, invite.from_.tag or "",
                              str(invite.contacts[0].uri), 0, invite.headers.get("from") or "")
        self.byes.clear()
        body = self._sdp(leg)
        lines = ["SIP/2.0 200 OK"]
        for name in ("via", "from", "to", "call-id", "cseq"):
            for value in invite.headers.get_all(name):
                lines.append(f"{name.title()}: {value};tag={tag}" if name == "to"
                             else f"{name.title()}: {value}")
        lines += [f"Contact: <sip:{self.extension}@127.0.0.1:{self.port}>",
                  "Content-Type: application/sdp", f"Content-Length: {len(body)}"]
        self._send(("\r\n".join(lines) + "\r\n\r\n").encode() + body)

    @staticmethod
    def _sdp(leg: Leg) -> bytes:
        return (f"v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
                f"m=audio {leg.stream.local[1]} RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\n"
                "a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\n"
                "a=sendrecv\r\n").encode()

    def _answer(self, request: Request, status: int) -> None:
        lines = [f"SIP/2.0 {status} {'OK' if status == 200 else 'Busy Here'}"]
        for name in ("via", "from", "to", "call-id", "cseq"):
            for value in request.headers.get_all(name):
                if name == "to" and "tag=" not in value:
                    value += f";tag={secrets.token_hex(4)}"
                lines.append(f"{name.title()}: {value}")
        self._send(("\r\n".join(lines) + "\r\nContent-Length: 0\r\n\r\n").encode())

    def _via(self) -> str:
        return f"SIP/2.0/UDP 127.0.0.1:{self.port};branch=z9hG4bK{secrets.token_hex(6)};rport"

    async def _response(self, timeout: float = 10.0) -> Response:
        return await asyncio.wait_for(self._responses.get(), timeout)

    async def _transaction(self, request: Request, timeout: float = 15.0) -> Response:
        """Send, skip provisional responses, answer one digest challenge; the final response."""
        self._send(request.serialize())
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        challenged = False
        while True:
            response = await self._response(deadline - loop.time())
            if response.status < 200:
                continue
            if response.status in (401, 407) and not challenged:
                if request.method == "INVITE":
                    self._ack_failure(request, response)
                retry = authorized_retry(request, response,
                                         ClientCredentials(self.extension, self.password),
                                         secrets.token_hex(4))
                assert retry is not None, response
                request, challenged = retry, True
                self._send(request.serialize())
                continue
            self.last_request = request
            return response

    def _ack_failure(self, invite: Request, response: Response) -> None:
        via = invite.headers.get("via")
        self._send((f"ACK {invite.uri} SIP/2.0\r\nVia: {via}\r\nMax-Forwards: 70\r\n"
                    f"From: {invite.headers.get('from')}\r\nTo: {response.headers.get('to')}\r\n"
                    f"Call-ID: {invite.call_id}\r\nCSeq: {invite.cseq.number} ACK\r\n"
                    "Content-Length: 0\r\n\r\n").encode())

    def _request(self, method: str, uri: str, *, to: str, from_tag: str, call_id: str,
                 cseq: int, extra: str = "", body: bytes = b"") -> Request:
        data = (f"{method} {uri} SIP/2.0\r\nVia: {self._via()}\r\nMax-Forwards: 70\r\n"
                f"From: <sip:{self.extension}@127.0.0.1>;tag={from_tag}\r\nTo: {to}\r\n"
                f"Call-ID: {call_id}\r\nCSeq: {cseq} {method}\r\n"
                f"Contact: <sip:{self.extension}@127.0.0.1:{self.port}>\r\n{extra}"
                f"Content-Length: {len(body)}\r\n\r\n").encode() + body
        message = parse_message(data)
        assert isinstance(message, Request)
        return message

    # -- calls -------------------------------------------------------------------------------
    async def call(self, number: str, *, timeout: float = 30.0) -> Response:
        """INVITE ``number``; on 200 ACK it and connect the media (recording what we hear)."""
        self.leg = await self.engine.open_leg(MediaFormat("PCMU", 0, 101))
        self.byes.clear()
        sdp = self._sdp(self.leg)
        tag, call_id = secrets.token_hex(4), f"{secrets.token_hex(8)}@phone"
        uri = f"sip:{number}@127.0.0.1:{self.switch_port}"
        invite = self._request("INVITE", uri, to=f"<{uri}>", from_tag=tag, call_id=call_id,
                               cseq=1, extra="Content-Type: application/sdp\r\n", body=sdp)
        response = await self._transaction(invite, timeout)
        if response.status >= 300:
            self._ack_failure(self.last_request, response)
            return response
        contact = response.contacts[0].uri
        self.dialog = _Dialog(call_id, tag, response.to.tag or "", str(contact),
                              self.last_request.cseq.number, response.headers.get("to") or "")
        self._send((f"ACK {contact} SIP/2.0\r\nVia: {self._via()}\r\nMax-Forwards: 70\r\n"
                    f"From: <sip:{self.extension}@127.0.0.1>;tag={tag}\r\n"
                    f"To: {self.dialog.to_uri}\r\nCall-ID: {call_id}\r\n"
                    f"CSeq: {self.dialog.cseq} ACK\r\nContent-Length: 0\r\n\r\n").encode())
        answer = parse_sdp(response.body)
        media = answer.media[0]
        connection = answer.connection_of(media)
        assert connection is not None
        self.engine.configure(self.leg, remote=(connection.host, media.port))
        self._tap(self.leg)
        return response

    def _tap(self, leg: Leg) -> None:
        """Keep every PCMU payload received, decoded, in arrival order: what the phone heard,
        without the jitter buffer's play-out (its gaps and concealment would blur tests)."""
        decoder = get_codec("PCMU")
        self._heard = []
        sink = leg.stream.on_audio

        def take(data: bytes, pt: int, seq: int, ts: int, ssrc: int) -> None:
            if pt == 0:
                self._heard.append(decoder.decode(rtp_payload(data)))
            if sink is not None:
                sink(data, pt, seq, ts, ssrc)

        leg.stream.on_audio = take

    async def send_digits(self, digits: str) -> None:
        assert self.leg is not None
        await self.engine.send_digits(self.leg, digits)

    async def say(self, samples: np.ndarray) -> None:
        """Send audio to the other side, waiting until it has played."""
        assert self.leg is not None
        await self.engine.play(self.leg, [samples], barge_in=False)

    async def hangup(self) -> None:
        """BYE the call (bounded wait for the 200)."""
        assert self.dialog is not None
        d = self.dialog
        d.cseq += 1
        bye = self._request("BYE", d.remote_target, to=d.to_uri, from_tag=d.local_tag,
                            call_id=d.call_id, cseq=d.cseq)
        self._send(bye.serialize())
        with contextlib.suppress(TimeoutError):
            await self._response(5.0)
        self.byes.set()
        await self._end_media()

    async def wait_for_bye(self, timeout: float = 20.0) -> None:
        await asyncio.wait_for(self.byes.wait(), timeout)
        await self._end_media()

    async def _end_media(self) -> None:
        if self.leg is not None:
            await self.engine.close_leg(self.leg)
            self.leg = None
            self.dialog = None

    async def wait_for_tone(self, freq: float, timeout: float = 20.0, after: int = 0) -> int:
        """Poll what the phone hears until a pure ``freq`` tone shows up at or after sample
        ``after``; the sample it starts at."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        window = RATE // 10
        scanned = after
        while loop.time() < deadline:
            await asyncio.sleep(0.1)
            heard = self.heard()
            for start in range(scanned, heard.size - window, window // 4):
                if _is_tone(heard[start:start + window], freq):
                    return start
                scanned = start
        raise AssertionError(f"no {freq} Hz tone heard within {timeout} s")

    def heard(self) -> np.ndarray:
        """Everything the phone received during its last call, as 8 kHz samples."""
        return np.concatenate(self._heard) if self._heard else np.zeros(0, np.int16)

    async def register(self, expires: int = 600) -> Response:
        """REGISTER this phone's address as the extension's contact (digest answered)."""
        aor = f"<sip:{self.extension}@127.0.0.1>"
        request = self._request("REGISTER", f"sip:127.0.0.1:{self.switch_port}", to=aor,
                                from_tag=secrets.token_hex(4),
                                call_id=f"{secrets.token_hex(8)}@phone", cseq=1,
                                extra=f"Expires: {expires}\r\n")
        return await self._transaction(request)

    # -- subscriptions -----------------------------------------------------------------------
    async def subscribe(self, expires: int = 600, event: str = "message-summary",
                        mailbox: str | None = None) -> Response:
        """A new subscription (to one's own mailbox unless ``mailbox`` says otherwise)."""
        self._sub = [f"{secrets.token_hex(8)}@phone", secrets.token_hex(4), "", 1]
        response = await self._subscribe(expires, event, mailbox or self.extension)
        self._sub[2] = response.to.tag or ""
        return response

    async def refresh(self, expires: int) -> Response:
        """SUBSCRIBE again inside the subscription's dialog (Expires 0 ends it)."""
        return await self._subscribe(expires, "message-summary", self.extension)

    async def _subscribe(self, expires: int, event: str, mailbox: str) -> Response:
        call_id, from_tag, to_tag, cseq = self._sub
        uri = f"sip:{mailbox}@127.0.0.1:{self.switch_port}"
        to = f"<{uri}>" + (f";tag={to_tag}" if to_tag else "")
        request = self._request("SUBSCRIBE", uri, to=to, from_tag=from_tag, call_id=call_id,
                                cseq=cseq, extra=f"Event: {event}\r\nExpires: {expires}\r\n"
                                "Accept: application/simple-message-summary\r\n")
        response = await self._transaction(request)
        self._sub[3] = self.last_request.cseq.number + 1
        return response

    async def next_notify(self, count: int, timeout: float = 10.0) -> Request:
        """Wait until ``count`` NOTIFYs arrived in all; the last one."""
        async def reached() -> None:
            async with self._notified:
                await self._notified.wait_for(lambda: len(self.notifies) >= count)

        await asyncio.wait_for(reached(), timeout)
        return self.notifies[count - 1]
