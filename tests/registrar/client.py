"""A small registering phone for tests: builds REGISTERs and answers Digest challenges."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from softswitch.sip import Response
from softswitch.sip.digest import DigestAlgorithm, DigestChallenge, DigestCredentials, compute_ha1
from tests.sipclient import TcpPeer, UdpPeer

__all__ = ["Phone", "challenge_of"]


def challenge_of(response: Response, algorithm: DigestAlgorithm) -> DigestChallenge:
    """The challenge for ``algorithm`` among the response's WWW/Proxy-Authenticate headers."""
    name = "www-authenticate" if response.status == 401 else "proxy-authenticate"
    for value in response.headers.get_all(name):
        challenge = DigestChallenge.parse(value)
        if challenge.algorithm is algorithm:
            return challenge
    raise AssertionError(f"no {algorithm} challenge in {response.headers!r}")


@dataclass
class Phone:
    """One extension registering over ``peer``; keeps Call-ID and CSeq like a real UA."""

    peer: UdpPeer | TcpPeer
    extension: str
    password: str
    realm: str = "softswitch"
    transport: str = "UDP"
    algorithm: DigestAlgorithm = DigestAlgorithm.SHA256
    call_id: str = field(default_factory=lambda: secrets.token_hex(8) + "@phone")
    cseq: int = 0
    user_agent: str = "TestPhone/1.0"

    @property
    def contact_uri(self) -> str:
        host, port = self.peer.local
        suffix = ";transport=tcp" if self.transport == "TCP" else ""
        return f"sip:{self.extension}@{host}:{port}{suffix}"

    def register_bytes(
        self, *, contacts: list[str] | None = None, expires: int | None = None,
        extra: str = "", authorization: str | None = None, to_user: str | None = None,
        cseq: int | None = None,
    ) -> bytes:
        """A REGISTER; ``contacts`` are full Contact values (default: ours, no params)."""
        if cseq is None:
            self.cseq += 1
            cseq = self.cseq
        host, port = self.peer.local
        lines = [
            "REGISTER sip:127.0.0.1 SIP/2.0",
            f"Via: SIP/2.0/{self.transport} {host}:{port};branch=z9hG4bK{secrets.token_hex(6)};rport",
            "Max-Forwards: 70",
            f"From: <sip:{self.extension}@127.0.0.1>;tag={secrets.token_hex(4)}",
            f"To: <sip:{to_user or self.extension}@127.0.0.1>",
            f"Call-ID: {self.call_id}",
            f"CSeq: {cseq} REGISTER",
            f"User-Agent: {self.user_agent}",
        ]
        for contact in [f"<{self.contact_uri}>"] if contacts is None else contacts:
            lines.append(f"Contact: {contact}")
        if expires is not None:
            lines.append(f"Expires: {expires}")
        if authorization is not None:
            lines.append(f"Authorization: {authorization}")
        head = "\r\n".join(lines) + "\r\n" + extra + "Content-Length: 0\r\n\r\n"
        return head.encode()

    def answer(self, challenge: DigestChallenge, password: str | None = None) -> str:
        ha1 = compute_ha1(self.extension, challenge.realm, password or self.password,
                          challenge.algorithm)
        return DigestCredentials.answer(
            challenge, username=self.extension, ha1=ha1, method="REGISTER",
            uri="sip:127.0.0.1", cnonce=secrets.token_hex(4),
        ).to_header()

    async def register(self, password: str | None = None, **kwargs: object) -> Response:
        """REGISTER, answer the 401 once, return the final response."""
        first = await self.peer.request(self.register_bytes(**kwargs))  # type: ignore[arg-type]
        if first.status != 401:
            return first
        authorization = self.answer(challenge_of(first, self.algorithm), password)
        return await self.peer.request(
            self.register_bytes(authorization=authorization, **kwargs)  # type: ignore[arg-type]
        )
