"""Trunk registration against a fake provider (a real digest verifier), and its config."""

from __future__ import annotations

import pytest

from softswitch.config import ConfigError
from softswitch.sip.destination import Destination
from softswitch.sip.digest import (
    AuthOutcome,
    DigestAlgorithm,
    DigestAuthenticator,
    DigestCredentials,
    compute_ha1,
)
from softswitch.sip.message import Request, Response
from softswitch.switch.trunk_config import TrunkConfig, trunks_from
from softswitch.switch.trunk_registration import (
    RegistrationState,
    TrunkRegistration,
    refresh_delay,
)
from softswitch.switch.trunks import Trunks

NOW = 1_000_000.0


class FakeProvider:
    """Challenges every REGISTER without a valid answer, grants `grant` seconds otherwise."""

    def __init__(self, grant: int = 120, password: str = "s3cret") -> None:
        self.digest = DigestAuthenticator("carrier", b"k" * 32, algorithms=(DigestAlgorithm.MD5,))
        self.ha1 = compute_ha1("trunkuser", "carrier", password, DigestAlgorithm.MD5)
        self.grant = grant
        self.requests: list[tuple[Request, Destination]] = []

    async def send(self, request: Request, destination: Destination) -> Response:
        self.requests.append((request, destination))
        answer = request.headers.get("authorization")
        if answer is not None:
            credentials = DigestCredentials.parse(answer)
            result = self.digest.verify(credentials, request.method, self.ha1, NOW)
            if result.outcome is AuthOutcome.ACCEPTED and credentials.uri == str(request.uri):
                ok = Response(200)
                ok.headers.add("Contact", f"{request.headers.get('contact')};expires={self.grant}")
                return ok
            return Response(403)
        challenge = Response(401)
        for value in self.digest.challenge_headers(NOW):
            challenge.headers.add("WWW-Authenticate", value)
        return challenge


def _trunk(**extra: object) -> TrunkConfig:
    raw = {"host": "192.0.2.9", "port": 5070, "username": "trunkuser", "password": "s3cret",
           "expires": 300, **extra}
    return trunks_from({"trunks": {"carrier": raw}})["carrier"]


def _registration(provider: FakeProvider, sleeps: list[float], **extra: object) -> TrunkRegistration:
    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        if len(sleeps) >= 2:
            raise RuntimeError("enough rounds")

    return TrunkRegistration(_trunk(**extra), provider.send, contact_host="203.0.113.1",
                             contact_port=5060, clock=lambda: NOW, sleep=sleep)


async def test_register_answers_the_challenge_and_refreshes_before_expiry() -> None:
    provider, sleeps = FakeProvider(grant=120), []
    registration = _registration(provider, sleeps)
    with pytest.raises(RuntimeError, match="enough rounds"):
        await registration.run()
    assert sleeps == [60.0, 60.0]  # refreshed at half of a short grant, each round
    methods = [(r.method, r.cseq.number, "authorization" in r.headers) for r, _ in provider.requests]
    assert methods == [("REGISTER", 1, False), ("REGISTER", 2, True),
                       ("REGISTER", 3, False), ("REGISTER", 4, True)]
    first, destination = provider.requests[0]
    assert destination == Destination("192.0.2.9", 5070, "UDP")
    assert len({r.call_id for r, _ in provider.requests}) == 1  # one Call-ID (RFC 3261 10.2)
    assert first.headers.get("expires") == "300"
    assert str(first.uri) == "sip:192.0.2.9:5070"
    assert registration.status.state is RegistrationState.REGISTERED
    assert registration.status.expires_at == NOW + 120


async def test_wrong_password_fails_and_retries_later() -> None:
    provider, sleeps = FakeProvider(password="other"), []
    registration = _registration(provider, sleeps)
    assert await registration.register_once() is None
    assert registration.status.state is RegistrationState.FAILED
    assert registration.status.last_status == 403


async def test_challenge_for_another_realm_is_not_answered() -> None:
    provider, sleeps = FakeProvider(), []
    registration = _registration(provider, sleeps, realm="elsewhere")
    assert await registration.register_once() is None
    assert len(provider.requests) == 1  # no retry with credentials meant for another realm
    assert registration.status.reason == "cannot answer the provider's challenge"


def test_refresh_delay_is_a_minute_early_or_halfway() -> None:
    assert refresh_delay(3600) == 3540
    assert refresh_delay(100) == 50


def test_trunks_status_lists_static_peers_and_registrations() -> None:
    configs = trunks_from({"trunks": {
        "carrier": {"host": "192.0.2.9", "username": "u", "password": "p"},
        "gateway": {"host": "192.0.2.10", "inbound_acl": ["192.0.2.0/28"]},
    }})

    async def never(request: Request, destination: Destination) -> Response:
        raise AssertionError("not started")

    trunks = Trunks(configs, never, contact_host="203.0.113.1", contact_port=5060)
    states = {row["trunk"]: (row["registers"], row["state"]) for row in trunks.status()}
    assert states == {"carrier": (True, "idle"), "gateway": (False, "idle")}
    assert trunks.inbound("192.0.2.3") is configs["gateway"]
    assert trunks.inbound("192.0.2.99") is None
    target = trunks.target("gateway", "075512345678")
    assert target is not None and target.contact == "sip:075512345678@192.0.2.10:5060"


def test_config_acl_did_and_errors() -> None:
    trunk = trunks_from({"trunks": {"t": {
        "host": "192.0.2.1", "inbound_acl": ["10.0.0.0/8", "192.0.2.7"],
        "did": {"075512345601": "1001"}}}})["t"]
    assert trunk.admits("10.1.2.3") and trunk.admits("192.0.2.7")
    assert not trunk.admits("192.0.2.8") and not trunk.admits("not-an-ip")
    assert trunk.did_target("075512345601") == "1001"
    assert trunk.did_target("1002") == "1002"
    assert not trunk.register
    for bad, message in [
        ({"port": 5060}, "host is required"),
        ({"host": "h", "inbound_acl": ["10.0.0.300"]}, "not an IP or CIDR"),
        ({"host": "h", "username": "u"}, "username and password go together"),
        ({"host": "h", "register": True}, "register needs username"),
        ({"host": "h", "transport": "sctp"}, "transport must be"),
        ({"host": "h", "did": {"1": 2}}, "must map numbers"),
        ({"host": "h", "colour": "red"}, "unknown setting 'colour'"),
    ]:
        with pytest.raises(ConfigError, match=message):
            trunks_from({"trunks": {"t": bad}})
