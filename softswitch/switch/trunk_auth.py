"""Answering a provider's digest challenge: the same request again, with credentials.

Used for both the trunk's REGISTER (401 + WWW-Authenticate) and outbound INVITEs (407 +
Proxy-Authenticate, or 401 from a provider acting as a UAS). RFC 3261 section 22.2: the retry
keeps Call-ID, From and To, takes the next CSeq and a new Via branch (it is a new transaction),
and carries `Authorization` / `Proxy-Authorization` matching the challenge header's kind.

Pure: the client nonce comes in as an argument so tests can fix it.
"""

from __future__ import annotations

from dataclasses import dataclass

from softswitch.sip.builders import new_branch
from softswitch.sip.digest import (
    DigestAlgorithm,
    DigestChallenge,
    DigestCredentials,
    DigestParseError,
    compute_ha1,
)
from softswitch.sip.message import Request, Response
from softswitch.sip.values import parse_via

__all__ = ["ClientCredentials", "authorized_retry"]

# Our preference when a provider offers several challenges (RFC 8760 section 2).
_ORDER = (DigestAlgorithm.SHA256, DigestAlgorithm.MD5)


@dataclass(frozen=True, slots=True)
class ClientCredentials:
    """What we answer a provider's challenge with; `realm` None accepts any realm."""

    username: str
    password: str
    realm: str | None = None


def authorized_retry(
    request: Request, challenge: Response, credentials: ClientCredentials, cnonce: str
) -> Request | None:
    """The request to send after a 401/407, or None when no challenge can be answered
    (wrong realm, unknown algorithm, or no challenge header at all)."""
    if challenge.status == 401:
        asked, answer_name = "www-authenticate", "Authorization"
    elif challenge.status == 407:
        asked, answer_name = "proxy-authenticate", "Proxy-Authorization"
    else:
        return None
    chosen = _choose(challenge.headers.get_all(asked), credentials.realm)
    if chosen is None:
        return None
    uri = str(request.uri)
    ha1 = compute_ha1(credentials.username, chosen.realm, credentials.password, chosen.algorithm)
    answer = DigestCredentials.answer(
        chosen, username=credentials.username, ha1=ha1, method=request.method, uri=uri,
        cnonce=cnonce if "auth" in chosen.qop else None,
    )
    headers = request.headers.copy()
    via = parse_via(request.headers.get("via") or "")
    headers.set("Via", str(via.with_params(branch=new_branch())))
    headers.set("CSeq", f"{request.cseq.number + 1} {request.method}")
    headers.remove("Authorization")
    headers.remove("Proxy-Authorization")
    headers.add(answer_name, answer.to_header())
    return Request(request.method, request.uri, headers, request.body)


def _choose(values: list[str], realm: str | None) -> DigestChallenge | None:
    challenges: list[DigestChallenge] = []
    for value in values:
        try:
            parsed = DigestChallenge.parse(value)
        except DigestParseError:
            continue
        if realm is None or parsed.realm == realm:
            challenges.append(parsed)
    for algorithm in _ORDER:
        for challenge in challenges:
            if challenge.algorithm is algorithm:
                return challenge
    return None
