"""The registrar: answers REGISTER (RFC 3261 section 10.3) with durable bindings.

Flow of one REGISTER: authenticate (challenges are answered synchronously, without a task or
a database trip), check the To is the user's own AOR, read the AOR's bindings (from a
write-through cache after the first time), apply the pure
rules of :mod:`softswitch.switch.registration`, commit, and only then answer 200 OK: an
acknowledged registration survives a crash. REGISTERs for one AOR are serialised by a lock
per AOR so the Call-ID/CSeq ordering check reads what the previous one wrote.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Callable, Coroutine, Iterable, Sequence
from typing import Any

from softswitch.sip.digest import DigestCredentials
from softswitch.store.bindings import BindingRepository
from softswitch.store.records import Binding, User
from softswitch.switch.auth import RequestAuthenticator
from softswitch.switch.core import ServerRequest
from softswitch.switch.registration import (
    RegistrationError,
    RegistrationPolicy,
    authorised_aor,
    ok_headers,
    parse_contacts,
    plan_registration,
)

__all__ = ["Registrar"]

log = logging.getLogger(__name__)


class Registrar:
    """``core.handle("REGISTER", registrar.on_register)``."""

    def __init__(
        self,
        bindings: BindingRepository,
        authenticator: RequestAuthenticator,
        policy: RegistrationPolicy,
        clock: Callable[[], float],
        cache_size: int = 100_000,
    ) -> None:
        self._bindings = bindings
        self._auth = authenticator
        self._policy = policy
        self._clock = clock
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}
        # Write-through cache of each AOR's bindings, so a refresh needs no read. This node is
        # the only writer of an AOR's bindings as long as a dispatcher keeps each phone on one
        # node; a multi-node store would swap this for a shared cache.
        self._cache: OrderedDict[str, list[Binding]] = OrderedDict()
        self._cache_size = cache_size
        # Told of bindings that are new to an AOR after they are committed (MWI lamps).
        self.on_registered: Callable[[str, list[Binding]], None] | None = None

    def on_register(self, server_request: ServerRequest) -> Coroutine[Any, Any, None] | None:
        """Challenge (or refuse) synchronously when that is the answer; else return the work,
        which the core runs in its one guarded task per request (no second task here)."""
        outcome = self._auth.screen(server_request)
        if outcome is None:
            return None
        return self._register(server_request, outcome)

    async def _register(
        self, server_request: ServerRequest, outcome: DigestCredentials | User
    ) -> None:
        if isinstance(outcome, User):
            user = outcome
        else:
            verified = await self._auth.verify(server_request, outcome)
            if verified is None:
                return
            user = verified
        request = server_request.request
        try:
            aor = authorised_aor(request, user.extension)
            updates = parse_contacts(request, self._policy)
            async with self._aor_lock(aor):
                now = self._clock()
                existing = await self._current(aor, now)
                plan = plan_registration(
                    request, aor, updates, existing, server_request.source, self._policy, now
                )
                if plan.changes:
                    self._cache.pop(aor, None)  # unknown until the write has committed
                    await self._bindings.update(aor, plan.upserts, plan.removals)
                    self._remember(aor, existing, plan.upserts, plan.removals)
        except RegistrationError as error:
            server_request.reply(error.status, error.reason, headers=error.headers)
            return
        server_request.reply(200, headers=ok_headers(plan, request, now))
        if self.on_registered is not None and plan.upserts:
            known = {binding.key for binding in existing}
            fresh = [binding for binding in plan.upserts if binding.key not in known]
            if fresh:
                self.on_registered(aor, fresh)

    async def _current(self, aor: str, now: float) -> list[Binding]:
        """The AOR's live bindings: from the write-through cache, else from the store."""
        cached = self._cache.get(aor)
        if cached is None:
            cached = await self._bindings.for_aor(aor, now)
            self._cache[aor] = cached
            self._cache.move_to_end(aor)
            if len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return [binding for binding in cached if binding.expires_at > now]

    def _remember(
        self, aor: str, existing: list[Binding], upserts: Sequence[Binding], removals: Iterable[str]
    ) -> None:
        """Apply a committed change to the cache, exactly as the store applied it."""
        gone = set(removals) | {binding.key for binding in upserts}
        kept = [binding for binding in existing if binding.key not in gone]
        merged = sorted([*kept, *upserts], key=lambda b: -(b.q if b.q is not None else 1.0))
        self._cache[aor] = merged
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)

    def _aor_lock(self, aor: str) -> _AorLock:
        """One REGISTER per AOR at a time; the lock is dropped when nobody holds or awaits it."""
        return _AorLock(self._locks, aor)


class _AorLock:
    """`async with` one AOR's lock, counting users so the entry goes with the last one.

    A plain class rather than ``@asynccontextmanager``: it is entered by every REGISTER and
    the generator machinery cost more than the lock itself.
    """

    __slots__ = ("_locks", "_aor", "_lock")

    def __init__(self, locks: dict[str, tuple[asyncio.Lock, int]], aor: str) -> None:
        self._locks = locks
        self._aor = aor
        lock, users = locks.get(aor, (None, 0))
        self._lock = lock if lock is not None else asyncio.Lock()
        locks[aor] = (self._lock, users + 1)

    async def __aenter__(self) -> None:
        try:
            await self._lock.acquire()
        except BaseException:
            self._release_user()
            raise

    async def __aexit__(self, *exc_info: object) -> None:
        self._lock.release()
        self._release_user()

    def _release_user(self) -> None:
        lock, users = self._locks[self._aor]
        if users <= 1:
            del self._locks[self._aor]
        else:
            self._locks[self._aor] = (lock, users - 1)
