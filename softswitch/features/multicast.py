"""Multicast RTP paging: the page's audio sent to a group address for speakers that listen.

A multicast "phone" has no SIP: it is a media-engine leg whose remote address is the group
(RFC 3550 works unchanged over multicast: one sender, any number of listeners). The stream
is PCMU at 20 ms, what paging speakers expect. The socket sends on the interface of the
switch's media address (IP_MULTICAST_IF), so a switch bound to 127.0.0.1 pages loopback
listeners only; with the default TTL of 1 the page never leaves the local network.
"""

from __future__ import annotations

import ipaddress
import socket

from media import Direction, MediaEngine, MediaFormat
from media import Leg as MediaLeg

__all__ = ["open_multicast_leg"]


async def open_multicast_leg(media: MediaEngine, group: tuple[str, int], leg_id: str,
                             *, ttl: int = 1) -> MediaLeg:
    """A send-only PCMU leg towards ``group`` (address, port), ready to join a bridge."""
    leg = await media.open_leg(MediaFormat("PCMU", 0, None), leg_id=leg_id)
    transport = leg.stream.transport
    sock: socket.socket | None = transport.get_extra_info("socket") if transport else None
    if sock is not None:
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, ttl)
        host = leg.stream.local[0]
        if _specific_ipv4(host):
            sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(host))
    media.configure(leg, remote=group, direction=Direction.SENDONLY)
    return leg


def _specific_ipv4(host: str) -> bool:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.version == 4 and not address.is_unspecified
