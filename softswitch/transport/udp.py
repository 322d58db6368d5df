"""SIP over UDP: one DatagramProtocol per bound address; datagrams go straight to the core."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Callable

from softswitch.sip.destination import Destination

__all__ = ["UdpTransport", "DatagramHandler"]

log = logging.getLogger(__name__)

DatagramHandler = Callable[[bytes, Destination], None]


class UdpTransport(asyncio.DatagramProtocol):
    """A bound UDP socket. Oversized datagrams are cut by the kernel; the core checks size."""

    name = "UDP"

    def __init__(self, on_datagram: DatagramHandler) -> None:
        self.on_datagram = on_datagram
        self.transport: asyncio.DatagramTransport | None = None
        self.local: tuple[str, int] = ("", 0)

    @classmethod
    async def bind(cls, host: str, port: int, on_datagram: DatagramHandler) -> UdpTransport:
        loop = asyncio.get_running_loop()
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_DGRAM)
        try:
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 * 1024 * 1024)
            sock.bind((host, port))
        except OSError:
            sock.close()
            raise
        _, protocol = await loop.create_datagram_endpoint(lambda: cls(on_datagram), sock=sock)
        return protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's is not a subclass
        sockname = transport.get_extra_info("sockname")
        self.local = (sockname[0], sockname[1])

    def datagram_received(self, data: bytes, addr: tuple[str | object, ...]) -> None:
        host = str(addr[0])
        port = int(addr[1])  # type: ignore[call-overload]
        try:
            self.on_datagram(data, Destination(host, port, "UDP"))
        except Exception:  # the switch must survive any single message
            log.exception("error handling a datagram from %s:%s", host, port)

    def error_received(self, exc: Exception) -> None:
        # ICMP errors (port unreachable) surface here; they are normal for phones that left.
        log.debug("UDP error: %s", exc)

    def send(self, data: bytes, host: str, port: int) -> None:
        if self.transport is not None:
            self.transport.sendto(data, (host, port))

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()
