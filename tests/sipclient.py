"""A tiny raw SIP peer for tests: sends bytes over UDP or TCP and waits for what comes back."""

from __future__ import annotations

import asyncio
import secrets

from softswitch.sip import Response, parse_message

__all__ = ["UdpPeer", "TcpPeer", "options_request", "request_bytes"]


def request_bytes(
    method: str = "OPTIONS",
    uri: str = "sip:switch@127.0.0.1",
    *,
    local: tuple[str, int] = ("127.0.0.1", 5999),
    transport: str = "UDP",
    extra: str = "",
    body: bytes = b"",
    cseq_method: str | None = None,
    version: str = "SIP/2.0",
) -> bytes:
    """A well-formed request; `extra` adds header lines (each ending in CRLF)."""
    branch = "z9hG4bK" + secrets.token_hex(6)
    host = f"[{local[0]}]" if ":" in local[0] else local[0]
    head = (
        f"{method} {uri} {version}\r\n"
        f"Via: SIP/2.0/{transport} {host}:{local[1]};branch={branch};rport\r\n"
        f"Max-Forwards: 70\r\n"
        f"From: <sip:tester@127.0.0.1>;tag={secrets.token_hex(4)}\r\n"
        f"To: <{uri}>\r\n"
        f"Call-ID: {secrets.token_hex(8)}@test\r\n"
        f"CSeq: 1 {cseq_method or method}\r\n"
        f"{extra}"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


def options_request(**kwargs: object) -> bytes:
    return request_bytes("OPTIONS", **kwargs)  # type: ignore[arg-type]


class _Datagrams(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.queue: asyncio.Queue[bytes] = asyncio.Queue()

    def datagram_received(self, data: bytes, addr: object) -> None:
        self.queue.put_nowait(data)


class UdpPeer:
    def __init__(self, transport: asyncio.DatagramTransport, protocol: _Datagrams) -> None:
        self.transport = transport
        self.protocol = protocol
        self.local: tuple[str, int] = transport.get_extra_info("sockname")[:2]

    @classmethod
    async def connect(cls, port: int, host: str = "127.0.0.1") -> UdpPeer:
        loop = asyncio.get_running_loop()
        transport, protocol = await loop.create_datagram_endpoint(
            _Datagrams, remote_addr=(host, port)
        )
        return cls(transport, protocol)

    def send(self, data: bytes) -> None:
        self.transport.sendto(data)

    async def receive(self, timeout: float = 2.0) -> Response:
        data = await asyncio.wait_for(self.protocol.queue.get(), timeout)
        message = parse_message(data)
        assert isinstance(message, Response), data
        return message

    async def expect_silence(self, seconds: float = 0.3) -> None:
        try:
            data = await asyncio.wait_for(self.protocol.queue.get(), seconds)
        except TimeoutError:
            return
        raise AssertionError(f"expected no reply, got {data!r}")

    async def request(self, data: bytes, timeout: float = 2.0) -> Response:
        self.send(data)
        return await self.receive(timeout)

    def close(self) -> None:
        self.transport.close()


class TcpPeer:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.local: tuple[str, int] = writer.get_extra_info("sockname")[:2]

    @classmethod
    async def connect(cls, port: int, host: str = "127.0.0.1") -> TcpPeer:
        reader, writer = await asyncio.open_connection(host, port)
        return cls(reader, writer)

    def send(self, data: bytes) -> None:
        self.writer.write(data)

    async def receive(self, timeout: float = 2.0) -> Response:
        head = await asyncio.wait_for(self.reader.readuntil(b"\r\n\r\n"), timeout)
        length = 0
        for line in head.split(b"\r\n"):
            name, _, value = line.partition(b":")
            if name.strip().lower() in (b"content-length", b"l"):
                length = int(value)
        body = await asyncio.wait_for(self.reader.readexactly(length), timeout)
        message = parse_message(head + body)
        assert isinstance(message, Response)
        return message

    async def request(self, data: bytes, timeout: float = 2.0) -> Response:
        self.send(data)
        return await self.receive(timeout)

    async def closed_by_peer(self, timeout: float = 3.0) -> bool:
        data = await asyncio.wait_for(self.reader.read(), timeout)
        return data == b""

    def close(self) -> None:
        self.writer.close()
