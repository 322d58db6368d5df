"""The registrar: answers REGISTER (RFC 3261 section 10.3) with durable bindings.

Flow of one REGISTER: authenticate (challenges are answered synchronously, without a task or
a database trip), check the To is the user's own AOR, read the AOR's bindings (from a
write-through cache after the first time), apply the pure
rules of :mod:`softswitch.switch.registration`, commit, and only then answer 200 OK: an
acknowledged registration survives a crash. REGISTERs for one AOR are serialised
(`AorLocks`) so the Call-ID/CSeq ordering check reads what the previous one wrote.

The usual REGISTER (a cached user, a cached AOR nobody else is registering) takes no task: it
is planned at once, its write is posted to the group commit, and the 200 OK leaves from the
commit's callback. The rest (a user or an AOR still to be read, or a busy AOR) runs as a
coroutine that waits its turn and then takes the same path (`_apply`).

At start-up (:meth:`Registrar.preload`) every live binding is read in one query, so the cache
holds every AOR that has bindings and an AOR it does not hold has none: after a restart, the
storm of phones registering again needs no read per AOR (it used to stall for a second).
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict, deque
from collections.abc import Callable, Coroutine, Iterable, Sequence
from functools import partial
from typing import Any

from softswitch.sip.digest import DigestCredentials
from softswitch.store.bindings import BindingRepository
from softswitch.store.records import Binding, User
from softswitch.switch.auth import RequestAuthenticator
from softswitch.switch.core import ServerRequest
from softswitch.switch.registration import (
    ContactUpdate,
    RegistrationError,
    RegistrationPlan,
    RegistrationPolicy,
    authorised_aor,
    ok_headers,
    parse_contacts,
    plan_registration,
)

__all__ = ["AorLocks", "Registrar"]

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
        self._locks = AorLocks()
        # Write-through cache of each AOR's bindings, so a refresh needs no read. This node is
        # the only writer of an AOR's bindings as long as a dispatcher keeps each phone on one
        # node; a multi-node store would swap this for a shared cache.
        self._cache: OrderedDict[str, list[Binding]] = OrderedDict()
        self._cache_size = cache_size
        self._whole = False  # preloaded, nothing evicted: an AOR not cached has no bindings
        # Told of bindings that are new to an AOR after they are committed (MWI lamps).
        self.on_registered: Callable[[str, list[Binding]], None] | None = None

    async def preload(self) -> None:
        """Cache every AOR's live bindings from one read; when they all fit, an AOR the cache
        does not hold is known to have none."""
        grouped: OrderedDict[str, list[Binding]] = OrderedDict()
        for binding in await self._bindings.active(self._clock()):
            grouped.setdefault(binding.aor, []).append(binding)
        if len(grouped) <= self._cache_size:
            self._cache = grouped
            self._whole = True

    def on_register(
        self, server_request: ServerRequest
    ) -> Coroutine[Any, Any, None] | asyncio.Future[None] | None:
        """Challenge (or refuse) synchronously when that is the answer. A known user whose
        AOR is cached and free is registered without a task: the write is posted and the
        200 OK goes out from its commit callback (the future returned to the core). Anything
        else returns the work, which the core runs in its one guarded task."""
        outcome = self._auth.screen(server_request)
        if outcome is None:
            return None
        if isinstance(outcome, User):
            return self._register(server_request, outcome)
        return self._verify_then_register(server_request, outcome)

    def _register(
        self, server_request: ServerRequest, user: User
    ) -> Coroutine[Any, Any, None] | asyncio.Future[None] | None:
        """Register an authenticated user: at once when the AOR is cached and free, else
        the coroutine that waits its turn and reads the AOR first."""
        prepared = self._prepare(server_request, user)
        if prepared is None:
            return None
        aor, updates = prepared
        cached = self._cache.get(aor, [] if self._whole else None)
        if cached is None or not self._locks.try_hold(aor):
            return self._register_in_turn(server_request, aor, updates)
        now = self._clock()
        live = [binding for binding in cached if binding.expires_at > now]
        return self._apply(server_request, aor, updates, live, now)

    async def _verify_then_register(
        self, server_request: ServerRequest, credentials: DigestCredentials
    ) -> None:
        user = await self._auth.verify(server_request, credentials)
        if user is not None:
            work = self._register(server_request, user)
            if work is not None:
                await work

    async def _register_in_turn(
        self, server_request: ServerRequest, aor: str, updates: list[ContactUpdate] | None
    ) -> None:
        await self._locks.hold(aor)
        try:
            now = self._clock()
            existing = await self._current(aor, now)
        except BaseException:
            self._locks.release(aor)
            raise
        written = self._apply(server_request, aor, updates, existing, now)
        if written is not None:
            await written

    def _apply(
        self, server_request: ServerRequest, aor: str, updates: list[ContactUpdate] | None,
        existing: list[Binding], now: float,
    ) -> asyncio.Future[None] | None:
        """With the AOR held: plan, then answer at once when nothing is to be written, else
        post the write, whose callback answers 200 and frees the AOR (the future is returned).
        """
        try:
            plan = plan_registration(
                server_request.request, aor, updates, existing, server_request.source,
                self._policy, now,
            )
            if not plan.changes:
                self._locks.release(aor)
                self._answer(server_request, plan, existing, now)
                return None
            self._cache.pop(aor, None)  # unknown until the write has committed
            written = self._bindings.post_update(aor, plan.upserts, plan.removals)
        except RegistrationError as error:
            self._locks.release(aor)
            server_request.reply(error.status, error.reason, headers=error.headers)
            return None
        except BaseException:
            self._locks.release(aor)
            raise
        written.add_done_callback(partial(self._committed, server_request, plan, existing, now))
        return written

    def _committed(
        self, server_request: ServerRequest, plan: RegistrationPlan, existing: list[Binding],
        now: float, written: asyncio.Future[None],
    ) -> None:
        """The posted write settled: answer 200 once it is on disk. A failed write is left
        to whoever waits for it (the core, or the task), which logs it and answers 500."""
        self._locks.release(plan.aor)
        if written.cancelled() or written.exception() is not None:
            self._whole = False  # the AOR left the cache for the write: unknown again
            return
        self._remember(plan.aor, existing, plan.upserts, plan.removals)
        self._answer(server_request, plan, existing, now)

    def _prepare(
        self, server_request: ServerRequest, user: User
    ) -> tuple[str, list[ContactUpdate] | None] | None:
        """(AOR, Contact updates) of an authenticated REGISTER, or None after refusing it."""
        request = server_request.request
        try:
            return authorised_aor(request, user.extension), parse_contacts(request, self._policy)
        except RegistrationError as error:
            server_request.reply(error.status, error.reason, headers=error.headers)
            return None

    def _answer(
        self, server_request: ServerRequest, plan: RegistrationPlan, existing: list[Binding],
        now: float,
    ) -> None:
        """200 OK listing the bindings; then tell whoever listens of bindings new to the AOR."""
        server_request.reply(200, headers=ok_headers(plan, server_request.request, now))
        if self.on_registered is not None and plan.upserts:
            known = {binding.key for binding in existing}
            fresh = [binding for binding in plan.upserts if binding.key not in known]
            if fresh:
                self.on_registered(plan.aor, fresh)

    async def _current(self, aor: str, now: float) -> list[Binding]:
        """The AOR's live bindings: from the write-through cache, else from the store."""
        cached = self._cache.get(aor, [] if self._whole else None)
        if cached is None:
            cached = await self._bindings.for_aor(aor, now)
            self._cache[aor] = cached
            self._cache.move_to_end(aor)
            self._bound_cache()
        return [binding for binding in cached if binding.expires_at > now]

    def _remember(
        self, aor: str, existing: list[Binding], upserts: Sequence[Binding], removals: Iterable[str]
    ) -> None:
        """Apply a committed change to the cache, exactly as the store applied it."""
        gone = set(removals) | {binding.key for binding in upserts}
        kept = [binding for binding in existing if binding.key not in gone]
        merged = sorted([*kept, *upserts], key=lambda b: -(b.q if b.q is not None else 1.0))
        self._cache[aor] = merged
        self._bound_cache()

    def _bound_cache(self) -> None:
        """Evict the oldest AOR past the size limit; the cache is then no longer whole."""
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
            self._whole = False


class AorLocks:
    """One REGISTER per AOR at a time, so the Call-ID/CSeq ordering check reads what the
    previous one wrote. Unlike an ``asyncio.Lock`` per AOR, it can be taken without a
    coroutine (:meth:`try_hold`), which the task-free path needs; waiters are served in order
    and an AOR nobody holds costs no entry."""

    def __init__(self) -> None:
        self._held: dict[str, deque[asyncio.Future[None]]] = {}

    def __len__(self) -> int:
        return len(self._held)

    def try_hold(self, aor: str) -> bool:
        """Take the AOR if it is free; False if someone holds it."""
        if aor in self._held:
            return False
        self._held[aor] = deque()
        return True

    async def hold(self, aor: str) -> None:
        """Take the AOR, waiting behind its holder and earlier waiters."""
        waiters = self._held.get(aor)
        if waiters is None:
            self._held[aor] = deque()
            return
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        waiters.append(turn)
        try:
            await turn
        except asyncio.CancelledError:
            if turn.done() and not turn.cancelled():
                self.release(aor)  # the AOR was handed to us as we were cancelled: pass it on
            else:
                waiters.remove(turn)
            raise

    def release(self, aor: str) -> None:
        """Hand the AOR to the next waiter, or free it."""
        waiters = self._held[aor]
        while waiters:
            turn = waiters.popleft()
            if not turn.done():
                turn.set_result(None)
                return
        del self._held[aor]
