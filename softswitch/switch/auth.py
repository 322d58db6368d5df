"""Authenticating a request with Digest: the one door REGISTER, INVITE and the rest go through.

Why one service: the rules that make the switch hard to abuse must hold for every method.

* A blocked source gets 403 before any work; a known scanner's request is refused outright.
* No credentials, credentials for another realm, or a nonce we did not sign: a fresh
  challenge (one per algorithm, SHA-256 first, RFC 8760). None of these tried a password, so
  none counts as a failure.
* Unknown, disabled, or wrong-realm users are verified against a dummy HA1, so they fail
  exactly like a wrong password (same reply, same work): no enumeration (RFC 3261 26.3.2.4).
* A wrong answer is a failure for the brute-force guard and an event in the security log;
  when it crosses the limit the source is blocked, even for a correct password later.
* A stale nonce or a replayed nonce-count (from someone who knows the password) is
  re-challenged with stale=true (RFC 7616 section 3.3) and is not a failure.
* The digest ``uri`` must be the Request-URI (RFC 3261 section 22.4), so an answer captured
  for one request cannot be replayed on another.

REGISTER is challenged with 401/WWW-Authenticate, other requests (a proxy's role) with
407/Proxy-Authenticate (RFC 3261 sections 22.2 and 22.3).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

from softswitch.sip.digest import (
    AuthOutcome,
    DigestAuthenticator,
    DigestCredentials,
    DigestParseError,
)
from softswitch.sip.errors import RemoteProtocolError
from softswitch.sip.message import Request
from softswitch.sip.uri import format_host, parse_uri
from softswitch.store.records import SecurityEvent, SecurityEventKind, User
from softswitch.switch.abuse import BruteForceGuard, ScannerFilter, source_key
from softswitch.switch.core import ServerRequest
from softswitch.switch.directory import EXTENSION_PATTERN
from softswitch.switch.readcache import UserCache
from softswitch.switch.security_log import SecurityLog

__all__ = ["RequestAuthenticator", "describe_source"]


# Every request is screened by its source; parsing the address each time cost more than the
# rest of the screening. Bounded, because sources are chosen by whoever sends.
_source_key = lru_cache(maxsize=16_384)(source_key)


def describe_source(request: ServerRequest) -> str:
    """``host:port`` of the sender, as written in the security log."""
    return f"{format_host(request.source.host)}:{request.source.port}"


class RequestAuthenticator:
    """``await authenticate(request)`` returns the user, or None after answering the request."""

    def __init__(
        self,
        digest: DigestAuthenticator,
        users: UserCache,
        guard: BruteForceGuard,
        security_log: SecurityLog,
        clock: Callable[[], float],
        *,
        scanners: ScannerFilter | None = None,
    ) -> None:
        self.digest = digest
        self.users = users
        self.guard = guard
        self.security_log = security_log
        self.scanners = scanners
        self._clock = clock
        self._scanner_logged: dict[str, float] = {}

    async def authenticate(self, server_request: ServerRequest) -> User | None:
        """Both steps: :meth:`screen`, then :meth:`verify`."""
        outcome = self.screen(server_request)
        if outcome is None or isinstance(outcome, User):
            return outcome
        return await self.verify(server_request, outcome)

    def screen(self, server_request: ServerRequest) -> DigestCredentials | User | None:
        """The synchronous part: refuse blocked sources and scanners, challenge the rest, and
        check the answer too when the user is in the cache (the usual case).

        Returns the accepted user, the credentials to :meth:`verify` (the user must be read
        first), or None when the request was answered: then it was answered at once, so a
        stale nonce or a wrong answer is re-challenged without a task.
        """
        now = self._clock()
        request = server_request.request
        source = _source_key(server_request.source.host)
        if self.guard.is_blocked(source, now):
            server_request.reply(403)
            return None
        if self.scanners is not None and self.scanners.is_scanner(request.headers.get("user-agent")):
            self._log_scanner(server_request, source, now)
            server_request.reply(403)
            return None
        try:
            credentials = self._credentials(server_request)
        except DigestParseError:
            server_request.reply(400, "Malformed Authorization")
            return None
        if credentials is None:
            self.challenge(server_request, now)
            return None
        known, user = self._cached(credentials.username)
        if not known:
            return credentials
        return self._check(server_request, credentials, user, now)

    async def verify(
        self, server_request: ServerRequest, credentials: DigestCredentials
    ) -> User | None:
        """Check the answer against the user's HA1 (or a dummy one); answer unless accepted."""
        user = await self._lookup(credentials.username)
        return self._check(server_request, credentials, user, self._clock())

    def _check(
        self, server_request: ServerRequest, credentials: DigestCredentials, user: User | None,
        now: float,
    ) -> User | None:
        """The verification itself, for ``user`` as :meth:`_lookup` gives it."""
        request = server_request.request
        if user is not None:
            ha1 = user.ha1_sha256 if credentials.algorithm.value == "SHA-256" else user.ha1_md5
        else:
            ha1 = self.digest.dummy_ha1(credentials.username, credentials.algorithm)
        result = self.digest.verify(credentials, request.method, ha1, now)
        if result.outcome is AuthOutcome.ACCEPTED and not _same_uri(credentials.uri, request):
            self._fail(server_request, credentials.username, "digest uri is not the Request-URI", now)
            return None
        if result.outcome is AuthOutcome.ACCEPTED and user is not None:
            return user
        if result.outcome is AuthOutcome.STALE:
            self.challenge(server_request, now, stale=True)
        elif result.reason == "invalid nonce":
            self.challenge(server_request, now)  # an old or foreign nonce tested no password
        else:
            self._fail(server_request, credentials.username, result.reason, now)
        return None

    def challenge(self, server_request: ServerRequest, now: float, *, stale: bool = False) -> None:
        """401 with WWW-Authenticate for REGISTER, 407 with Proxy-Authenticate otherwise."""
        register = server_request.request.method == "REGISTER"
        name = "WWW-Authenticate" if register else "Proxy-Authenticate"
        headers = [(name, value) for value in self.digest.challenge_headers(now, stale=stale)]
        server_request.reply(401 if register else 407, headers=headers)

    async def _lookup(self, username: str) -> User | None:
        """The user who may authenticate as ``username``, or None (dummy HA1 then)."""
        if not EXTENSION_PATTERN.fullmatch(username):
            return None
        return self._usable(await self.users.get(username))

    def _cached(self, username: str) -> tuple[bool, User | None]:
        """(known without a read, what :meth:`_lookup` would return)."""
        if not EXTENSION_PATTERN.fullmatch(username):
            return True, None
        known, user = self.users.peek(username)
        return known, self._usable(user)

    def _usable(self, user: User | None) -> User | None:
        if user is None or not user.enabled or user.realm != self.digest.realm:
            return None
        return user

    def _credentials(self, server_request: ServerRequest) -> DigestCredentials | None:
        """The Digest answer for our realm (a request may carry several, RFC 3261 22.3)."""
        request = server_request.request
        name = "authorization" if request.method == "REGISTER" else "proxy-authorization"
        for value in request.headers.get_all(name):
            credentials = DigestCredentials.parse(value)
            if credentials.realm == self.digest.realm:
                return credentials
        return None

    def _fail(self, server_request: ServerRequest, username: str, reason: str, now: float) -> None:
        """Count a wrong answer, log it, block the source past the limit, and re-challenge."""
        source = describe_source(server_request)
        self.security_log.record(SecurityEvent(
            at=now, kind=SecurityEventKind.AUTH_FAILED, source=source, user=username,
            detail=f"{server_request.request.method}: {reason}",
        ))
        blocked = self.guard.record_failure(_source_key(server_request.source.host), now)
        if blocked is not None:
            self.security_log.record(SecurityEvent(
                at=now, kind=SecurityEventKind.SOURCE_BLOCKED, source=source, user=username,
                detail=f"{blocked.failures} failures in {self.guard.window:g}s; "
                       f"blocked for {self.guard.block_for:g}s",
            ))
            server_request.reply(403)
            return
        self.challenge(server_request, now)

    def _log_scanner(self, server_request: ServerRequest, source: str, now: float) -> None:
        """One event per source per block period: a scan is thousands of requests."""
        if self._scanner_logged.get(source, 0.0) > now:
            return
        if len(self._scanner_logged) >= 10_000:
            self._scanner_logged = {k: v for k, v in self._scanner_logged.items() if v > now}
            if len(self._scanner_logged) >= 10_000:
                return
        self._scanner_logged[source] = now + self.guard.block_for
        agent = server_request.request.headers.get("user-agent") or ""
        self.security_log.record(SecurityEvent(
            at=now, kind=SecurityEventKind.SCANNER_DROPPED, source=describe_source(server_request),
            detail=f"User-Agent {agent[:100]!r}",
        ))


def _same_uri(digest_uri: str, request: Request) -> bool:
    """RFC 3261 22.4: the digest-uri is the Request-URI; compare as URIs, not as text."""
    request_uri = request.uri
    if digest_uri == str(request_uri):
        return True
    try:
        return parse_uri(digest_uri) == request_uri
    except RemoteProtocolError:
        return False
