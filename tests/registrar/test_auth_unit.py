"""The authentication service with a fake clock and a fake request: stale nonces, blocking."""

from __future__ import annotations

from dataclasses import dataclass, field

from softswitch.sip import parse_message
from softswitch.sip.destination import Destination
from softswitch.sip.digest import (
    DigestAlgorithm,
    DigestAuthenticator,
    DigestChallenge,
    DigestCredentials,
)
from softswitch.sip.message import Request
from softswitch.store import SecurityEvent, User
from softswitch.switch.abuse import BruteForceGuard
from softswitch.switch.auth import RequestAuthenticator
from softswitch.switch.directory import make_user
from softswitch.switch.readcache import UserCache
from softswitch.switch.security_log import SecurityLog
from tests.registrar.client import Phone


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class FakeRequest:
    """What the service uses of a ServerRequest: the request, its source, reply()."""

    request: Request
    source: Destination = Destination("192.0.2.7", 5060)
    replies: list[tuple[int, list[tuple[str, str]]]] = field(default_factory=list)

    def reply(self, status: int, reason: str | None = None, headers: object = ()) -> None:
        self.replies.append((status, list(headers)))  # type: ignore[call-overload]


class FakePeer:
    local = ("192.0.2.7", 5060)


USER = make_user("1001", "correct-horse-1", "softswitch")


def service(
    clock: Clock, events: list[SecurityEvent], cache_ttl: float = 5.0
) -> RequestAuthenticator:
    async def lookup(extension: str) -> User | None:
        return USER if extension == "1001" else None

    async def write(batch: object) -> None:
        events.extend(batch)  # type: ignore[arg-type]

    digest = DigestAuthenticator("softswitch", b"k" * 32, nonce_lifetime=60)
    return RequestAuthenticator(
        digest, UserCache(lookup, clock, ttl=cache_ttl), BruteForceGuard(max_failures=3, window=60, block_for=900),
        SecurityLog(write), clock)


def register(phone: Phone, authorization: str | None = None) -> FakeRequest:
    message = parse_message(phone.register_bytes(authorization=authorization))
    assert isinstance(message, Request)
    return FakeRequest(message)


def first_challenge(request: FakeRequest) -> DigestChallenge:
    status, headers = request.replies[-1]
    assert status == 401
    return DigestChallenge.parse(headers[0][1])


async def test_an_expired_nonce_with_the_right_password_is_stale_not_a_failure() -> None:
    clock, events = Clock(), []
    auth = service(clock, events)
    phone = Phone(FakePeer(), "1001", "correct-horse-1")  # type: ignore[arg-type]
    first = register(phone)
    assert auth.screen(first) is None  # type: ignore[arg-type]
    challenge = first_challenge(first)
    assert challenge.algorithm is DigestAlgorithm.SHA256
    clock.now += 120
    late = register(phone, phone.answer(challenge))
    assert await auth.authenticate(late) is None  # type: ignore[arg-type]
    assert first_challenge(late).stale
    await auth.security_log.flush()
    assert events == []


async def test_failures_block_the_source_even_for_the_right_password() -> None:
    clock, events = Clock(), []
    auth = service(clock, events)
    phone = Phone(FakePeer(), "1001", "correct-horse-1")  # type: ignore[arg-type]
    statuses = []
    for password in ["guess-1-aaaa", "guess-2-bbbb", "guess-3-cccc", "correct-horse-1"]:
        first = register(phone)
        auth.screen(first)  # type: ignore[arg-type]
        if first.replies[-1][0] == 403:  # blocked before any challenge
            statuses.append(403)
            continue
        answer = register(phone, phone.answer(first_challenge(first), password))
        user = await auth.authenticate(answer)  # type: ignore[arg-type]
        statuses.append(user.extension if user else answer.replies[-1][0])
    assert statuses == [401, 401, 403, 403]
    await auth.security_log.flush()
    assert [e.kind.value for e in events] == ["auth_failed"] * 3 + ["source_blocked"]
    clock.now += 901  # the block ends; the right password works again
    first = register(phone)
    auth.screen(first)  # type: ignore[arg-type]
    user = await auth.authenticate(register(phone, phone.answer(first_challenge(first))))  # type: ignore[arg-type]
    assert user is not None and user.extension == "1001"


async def test_a_digest_uri_other_than_the_request_uri_is_refused() -> None:
    clock, events = Clock(), []
    auth = service(clock, events)
    phone = Phone(FakePeer(), "1001", "correct-horse-1")  # type: ignore[arg-type]
    first = register(phone)
    auth.screen(first)  # type: ignore[arg-type]
    challenge = first_challenge(first)
    forged = DigestCredentials.answer(
        challenge, username="1001", ha1=USER.ha1_sha256, method="REGISTER",
        uri="sip:x.example", cnonce="abcd",
    ).to_header()
    assert await auth.authenticate(register(phone, forged)) is None  # type: ignore[arg-type]
    await auth.security_log.flush()
    assert "Request-URI" in events[0].detail



async def test_a_cached_user_is_verified_at_once_and_a_stale_nonce_rechallenged_at_once() -> None:
    """Once the user is cached, screen() decides alone, without awaiting: the registrar gets
    the accepted user for its work, and a stale nonce is re-challenged with no task at all."""
    clock, events = Clock(), []
    auth = service(clock, events, cache_ttl=3600)
    phone = Phone(FakePeer(), "1001", "correct-horse-1")  # type: ignore[arg-type]

    def answered() -> FakeRequest:
        first = register(phone)
        assert auth.screen(first) is None  # type: ignore[arg-type]
        return register(phone, phone.answer(first_challenge(first)))

    assert isinstance(auth.screen(answered()), DigestCredentials)  # type: ignore[arg-type]
    assert await auth.users.get("1001") is USER  # read once, now cached
    assert auth.screen(answered()) is USER  # type: ignore[arg-type]
    late = answered()
    clock.now += 120  # past the nonce lifetime (60 s), well within the cache's ttl
    assert auth.screen(late) is None  # type: ignore[arg-type]
    assert first_challenge(late).stale
    await auth.security_log.flush()
    assert events == []
