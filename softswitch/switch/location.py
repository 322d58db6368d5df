"""Where to reach an extension: the lookup the B2BUA and features use to call a phone.

A binding remembers the address, transport and connection its REGISTER came from, because a
phone behind NAT can only be reached there (RFC 3581, RFC 5626): over UDP at the public
address and port that the NAT mapped, over TCP/TLS through the very connection the phone
opened (nobody can connect back in). ``destination_of`` turns a binding into that target.

Every call to an extension needs its contacts, and a database trip per INVITE costs the
event loop more than the lookup itself, so :class:`Location` keeps them per extension in
a `ReadCache` (`switch/readcache.py`, the users' cache too):

* every write through the switch's binding repository (REGISTER, qualify results, the API,
  the purge of expired rows) drops the entry of its AOR before the writer goes on, so a
  REGISTER that got its 200 OK is seen by the very next INVITE, as without the cache;
* a lookup that overlapped such a write is not kept (it may have read the old rows);
* writes by other processes sharing the database file (the CLI, another node) are noticed
  through SQLite's ``data_version``, checked at most every ``ttl`` seconds: the whole cache
  is emptied when it moved;
* expiry needs no event: bindings past ``expires_at`` are filtered out at each lookup.
"""

from __future__ import annotations

from collections.abc import Callable

from softswitch.sip.destination import Destination
from softswitch.store.bindings import BindingRepository
from softswitch.store.records import Binding
from softswitch.switch.readcache import ReadCache

__all__ = ["Location", "destination_of"]


def destination_of(binding: Binding) -> Destination:
    """The transport address a request to this binding is sent to (its REGISTER's source).

    With a Path (RFC 3327) the source is the edge proxy that added it, which is also the
    first hop of the route; the Path values become the Route set of the request.
    """
    connection = int(binding.connection_id) if binding.connection_id else None
    return Destination(binding.source_host, binding.source_port, binding.transport, connection)


class Location:
    """Read side of the registrar, through the store so any node sees every binding, with
    the cache described above (changes by other processes show within ``ttl`` seconds)."""

    def __init__(self, bindings: BindingRepository, clock: Callable[[], float], *,
                 ttl: float = 1.0, max_entries: int = 20_000) -> None:
        self._bindings = bindings
        self._clock = clock
        self._cache: ReadCache[list[Binding]] = ReadCache(
            self._read, clock, ttl=ttl, max_entries=max_entries, version=bindings.version)
        bindings.watch(self._cache.invalidate)

    async def contacts_for(self, extension: str) -> list[Binding]:
        """Live bindings of ``extension``: highest q first, reachable before unreachable.

        Unreachable ones (failed keep-alive) are kept at the end rather than dropped: a phone
        that missed one OPTIONS may still ring, and the caller decides whether to try it.
        """
        found = await self._cache.get(extension)
        now = self._clock()
        return [binding for binding in found if binding.expires_at > now]

    async def registered(self) -> list[Binding]:
        """Every live binding of every extension (paging group "all")."""
        return await self._bindings.active(self._clock())

    async def _read(self, extension: str) -> list[Binding]:
        bindings = await self._bindings.committed_for_aor(extension, self._clock())
        return sorted(bindings, key=lambda b: not b.reachable)  # stable: q order is kept
