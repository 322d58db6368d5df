"""Where a message came from or goes to: host, port, transport and, for streams, the connection."""

from __future__ import annotations

from typing import NamedTuple

__all__ = ["Destination"]


class Destination(NamedTuple):
    """A transport address. `connection_id` pins TCP/TLS traffic to one open connection.

    A NamedTuple rather than a dataclass: one is made per received datagram, so construction
    cost matters, and it is hashable for use as a dict key.
    """

    host: str
    port: int
    transport: str = "UDP"
    connection_id: int | None = None

    @property
    def reliable(self) -> bool:
        return self.transport != "UDP"
