"""All SIP sockets of the switch: UDP and TCP on one port, TLS when configured, IPv4 and IPv6.

The manager binds the listeners, passes every received message through the `InboundFilter`
(parse, validate, refuse), sends the refusals itself, and hands accepted messages to whoever
registered with `set_receiver` (the SIP core). Outgoing bytes leave through `send`.
"""

from __future__ import annotations

import logging
import socket
import ssl
from collections.abc import Callable, Iterable

from softswitch.config import SipConfig
from softswitch.metrics import SwitchMetrics
from softswitch.sip.destination import Destination
from softswitch.sip.errors import ProtocolError
from softswitch.sip.inbound import InboundFilter, Reply, metric_method, retransmission_key
from softswitch.sip.message import Request, Response
from softswitch.sip.uri import format_host
from softswitch.transport.stream import StreamLimits, StreamTransport
from softswitch.transport.udp import UdpTransport

__all__ = ["Absorber", "TransportManager", "Receiver", "SUPPORTED_EXTENSIONS", "TlsConfigError"]

log = logging.getLogger(__name__)

Receiver = Callable[[Request | Response, Destination], None]
# Given a server transaction key, answers a retransmission and says True, or says False.
Absorber = Callable[[tuple[str, str, int | None, str]], bool]

# Option tags the switch understands in Require (RFC 3327 Path, RFC 5626 outbound).
SUPPORTED_EXTENSIONS = ("path", "outbound", "100rel", "replaces")


class TlsConfigError(Exception):
    """The TLS certificate or key cannot be loaded."""


class TransportManager:
    def __init__(self, config: SipConfig, metrics: SwitchMetrics) -> None:
        self.config = config
        self.metrics = metrics
        self.udp: list[UdpTransport] = []
        self.streams: dict[str, list[StreamTransport]] = {"TCP": [], "TLS": []}
        self.filter = InboundFilter(
            metrics,
            supported=SUPPORTED_EXTENSIONS,
            server=config.user_agent,
            max_udp_bytes=config.max_udp_bytes,
        )
        self._receiver: Receiver | None = None
        self._absorber: Absorber | None = None
        self._unabsorbable: tuple[bytes, ...] = ()
        self.port = config.port

    def set_receiver(self, receiver: Receiver) -> None:
        self._receiver = receiver

    def set_absorber(self, absorber: Absorber, stateless: Iterable[str] = ()) -> None:
        """Who answers UDP retransmissions of known transactions before they are parsed.

        Requests of the ``stateless`` methods never have a transaction, so they skip the
        pre-parse scan (it would always miss: about 7 us per OPTIONS for nothing).
        """
        self._absorber = absorber
        self._unabsorbable = tuple(f"{method} ".encode() for method in stateless)

    # -- lifecycle ---------------------------------------------------------------------------
    async def start(self) -> None:
        cfg = self.config
        hosts = [cfg.host]
        if cfg.ipv6 and cfg.host in ("0.0.0.0", ""):
            hosts.append("::")
        limits = StreamLimits(
            max_header_bytes=cfg.max_header_bytes,
            max_body_bytes=cfg.max_body_bytes,
            idle_timeout=cfg.tcp_idle_timeout,
            partial_timeout=cfg.tcp_partial_timeout,
            max_connections=cfg.max_connections,
        )
        self.port = await self._bind_pair(hosts[0], cfg.port, limits)
        for host in hosts[1:]:
            try:
                await self._bind_pair(host, self.port, limits)
            except OSError as exc:  # a host without IPv6 still runs on IPv4
                log.warning("IPv6 SIP listener not available on [%s]:%s: %s", host, self.port, exc)
        if cfg.tls_cert and cfg.tls_key:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            try:
                context.load_cert_chain(cfg.tls_cert, cfg.tls_key)
            except (OSError, ssl.SSLError) as exc:
                raise TlsConfigError(
                    f"TLS certificate {cfg.tls_cert} or key {cfg.tls_key} unusable: "
                    f"{getattr(exc, 'strerror', None) or exc}"
                ) from None
            tls = StreamTransport(self._on_stream_message, limits, context, self._on_stream_error)
            await tls.listen(cfg.host, cfg.tls_port)
            self.streams["TLS"].append(tls)
        self.filter.local_sent_by = self._local_sent_by()

    async def _bind_pair(self, host: str, port: int, limits: StreamLimits) -> int:
        """UDP and TCP on the same port; with port 0, retry until both get one free port."""
        for _ in range(50 if port == 0 else 1):
            udp = await UdpTransport.bind(host, port, self._on_datagram)
            tcp = StreamTransport(self._on_stream_message, limits, None, self._on_stream_error)
            try:
                await tcp.listen(host, udp.local[1])
            except OSError:
                udp.close()
                if port != 0:
                    raise
                continue
            self.udp.append(udp)
            self.streams["TCP"].append(tcp)
            return udp.local[1]
        raise OSError(f"no free port pair for UDP and TCP on {host}")

    async def stop(self) -> None:
        for udp in self.udp:
            udp.close()
        for group in self.streams.values():
            for stream in group:
                await stream.close()
        self.udp.clear()
        for group in self.streams.values():
            group.clear()

    def listening(self) -> list[str]:
        out = [f"udp:{_fmt(u.local)}" for u in self.udp]
        for name, group in self.streams.items():
            out.extend(f"{name.lower()}:{_fmt(s.local)}" for s in group)
        return out

    def _local_sent_by(self) -> set[tuple[str, int]]:
        addresses = {(u.local[0], u.local[1]) for u in self.udp}
        for host in ("127.0.0.1", "::1", socket.gethostname(), self.config.advertise or ""):
            if host:
                addresses.add((host, self.port))
        return addresses

    # -- receiving ---------------------------------------------------------------------------
    def _on_datagram(self, data: bytes, source: Destination) -> None:
        if data in (b"\r\n\r\n", b"\r\n", b"\x00\x00\x00\x00") or not data.strip():
            return  # NAT keep-alives sent over UDP by many phones
        if (
            self._absorber is not None
            and len(data) <= self.filter.max_udp_bytes
            and not data.startswith(self._unabsorbable)
        ):
            key = retransmission_key(data)
            if key is not None and self._absorber(key):
                self.metrics.requests_in[metric_method(key[3])] += 1
                return
        self._dispatch(data, source)

    def _on_stream_message(self, data: bytes, source: Destination) -> None:
        self._dispatch(data, source)

    def _dispatch(self, data: bytes, source: Destination) -> None:
        result = self.filter.accept(data, source)
        if result is None:
            return
        if isinstance(result, Reply):
            self.send(result.data, result.destination)
            return
        if self._receiver is not None:
            self._receiver(result, source)

    def _on_stream_error(self, error: ProtocolError, partial: bytes) -> bytes | None:
        """A broken stream (no Content-Length, oversize): answer if the head allows it."""
        result = self.filter.refuse_unframed(partial, error)  # type: ignore[arg-type]
        return result.data if result is not None else None

    # -- sending -----------------------------------------------------------------------------
    def send(self, data: bytes, destination: Destination) -> None:
        if destination.transport == "UDP":
            udp = self._udp_for(destination.host)
            if udp is not None:
                udp.send(data, destination.host, destination.port)
            return
        group = self.streams.get(destination.transport) or []
        if group:
            stream = next(
                (s for s in group if destination.connection_id in s.connections), group[0]
            )
            stream.send(data, destination)

    def _udp_for(self, host: str) -> UdpTransport | None:
        want_v6 = ":" in host
        for udp in self.udp:
            if (":" in udp.local[0]) == want_v6:
                return udp
        return self.udp[0] if self.udp else None


def _fmt(address: tuple[str, int]) -> str:
    host, port = address
    return f"{format_host(host)}:{port}"
