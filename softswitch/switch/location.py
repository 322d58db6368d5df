"""Where to reach an extension: the lookup the B2BUA and features use to call a phone.

A binding remembers the address, transport and connection its REGISTER came from, because a
phone behind NAT can only be reached there (RFC 3581, RFC 5626): over UDP at the public
address and port that the NAT mapped, over TCP/TLS through the very connection the phone
opened (nobody can connect back in). ``destination_of`` turns a binding into that target.
"""

from __future__ import annotations

from collections.abc import Callable

from softswitch.sip.destination import Destination
from softswitch.store.bindings import BindingRepository
from softswitch.store.records import Binding

__all__ = ["Location", "destination_of"]


def destination_of(binding: Binding) -> Destination:
    """The transport address a request to this binding is sent to (its REGISTER's source).

    With a Path (RFC 3327) the source is the edge proxy that added it, which is also the
    first hop of the route; the Path values become the Route set of the request.
    """
    connection = int(binding.connection_id) if binding.connection_id else None
    return Destination(binding.source_host, binding.source_port, binding.transport, connection)


class Location:
    """Read side of the registrar, through the store so any node sees every binding."""

    def __init__(self, bindings: BindingRepository, clock: Callable[[], float]) -> None:
        self._bindings = bindings
        self._clock = clock

    async def contacts_for(self, extension: str) -> list[Binding]:
        """Live bindings of ``extension``: highest q first, reachable before unreachable.

        Unreachable ones (failed keep-alive) are kept at the end rather than dropped: a phone
        that missed one OPTIONS may still ring, and the caller decides whether to try it.
        """
        bindings = await self._bindings.committed_for_aor(extension, self._clock())
        return sorted(bindings, key=lambda b: not b.reachable)  # stable: q order is kept

    async def registered(self) -> list[Binding]:
        """Every live binding of every extension (paging group "all")."""
        return await self._bindings.active(self._clock())
