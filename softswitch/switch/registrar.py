"""The registrar: answers REGISTER (RFC 3261 section 10.3) with durable bindings.

Flow of one REGISTER: authenticate (challenges are answered synchronously, without a task or
a database trip), check the To is the user's own AOR, read the AOR's bindings, apply the pure
rules of :mod:`softswitch.switch.registration`, commit, and only then answer 200 OK: an
acknowledged registration survives a crash. REGISTERs for one AOR are serialised by a lock
per AOR so the Call-ID/CSeq ordering check reads what the previous one wrote.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from softswitch.sip.digest import DigestCredentials
from softswitch.store.bindings import BindingRepository
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
    ) -> None:
        self._bindings = bindings
        self._auth = authenticator
        self._policy = policy
        self._clock = clock
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    def on_register(self, server_request: ServerRequest) -> asyncio.Future[None] | None:
        """Challenge synchronously when there is nothing to verify; else work in a task."""
        credentials = self._auth.screen(server_request)
        if credentials is None:
            return None
        return asyncio.ensure_future(self._register(server_request, credentials))

    async def _register(self, server_request: ServerRequest, credentials: DigestCredentials) -> None:
        user = await self._auth.verify(server_request, credentials)
        if user is None:
            return
        request = server_request.request
        try:
            aor = authorised_aor(request, user.extension)
            updates = parse_contacts(request, self._policy)
            async with self._aor_lock(aor):
                now = self._clock()
                existing = await self._bindings.for_aor(aor, now)
                plan = plan_registration(
                    request, aor, updates, existing, server_request.source, self._policy, now
                )
                if plan.changes:
                    await self._bindings.update(aor, plan.upserts, plan.removals)
        except RegistrationError as error:
            server_request.reply(error.status, error.reason, headers=error.headers)
            return
        server_request.reply(200, headers=ok_headers(plan, request, now))

    @asynccontextmanager
    async def _aor_lock(self, aor: str) -> AsyncIterator[None]:
        """One REGISTER per AOR at a time; the lock is dropped when nobody holds or awaits it."""
        lock, users = self._locks.get(aor, (None, 0))
        if lock is None:
            lock = asyncio.Lock()
        self._locks[aor] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[aor]
            if users <= 1:
                del self._locks[aor]
            else:
                self._locks[aor] = (lock, users - 1)
