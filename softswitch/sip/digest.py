"""HTTP Digest authentication for SIP (RFC 3261 section 22, RFC 7616, RFC 8760): sans-IO.

Why this shape:

* Pure functions and small objects, no clock and no sockets: the caller passes ``now``. Entropy
  for nonces is injectable so tests are deterministic.
* Nonces are stateless: ``base64url(issued_ms | salt | MAC(secret, realm, issued_ms | salt))``.
  Expiry is checked from the nonce itself, so any node holding the secret can verify it.
* Replay protection needs *some* state: :class:`NonceCountTracker` keeps, for a bounded number of
  nonces, the highest nonce-count seen plus a small window of recent counts (as IPsec does),
  so requests that arrive out of order are still accepted once each.
* No user enumeration: the caller passes the stored HA1 for a known user and
  :meth:`DigestAuthenticator.dummy_ha1` for an unknown one; both follow the same code path and
  fail the same way (RFC 3261 section 26.3.2.4 warns about exactly this).

A nonce that expired but carries an otherwise correct answer yields ``STALE``: the caller then
re-challenges with ``stale=true`` (RFC 7616 section 3.3) and the phone retries silently.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum, StrEnum

from softswitch.sip.grammar import TOKEN_RE, quote

__all__ = [
    "AuthOutcome",
    "AuthResult",
    "DigestAlgorithm",
    "DigestAuthenticator",
    "DigestChallenge",
    "DigestCredentials",
    "DigestParseError",
    "NonceCountTracker",
    "NonceSigner",
    "NonceStatus",
    "compute_ha1",
    "compute_response",
    "parse_auth_header",
]

MAX_HEADER_LENGTH = 4096
MAX_PARAMS = 32
_UNQUOTED_VALUE = re.compile(r"[^\s,\"]+")
_HEX = re.compile(r"[0-9a-fA-F]+")


class DigestParseError(ValueError):
    """A WWW-Authenticate/Authorization value is malformed; the request deserves a 400."""


class DigestAlgorithm(StrEnum):
    """The hash algorithms we offer (RFC 8760 section 2: SHA-256 preferred, MD5 for old phones)."""

    SHA256 = "SHA-256"
    MD5 = "MD5"

    def hash(self, text: str) -> str:
        """H(data) of RFC 7616 section 3.4: lower-case hex of the UTF-8 bytes."""
        # The named constructors, not hashlib.new(name): two of these run per authentication.
        digest = hashlib.sha256 if self is DigestAlgorithm.SHA256 else hashlib.md5
        return digest(text.encode("utf-8")).hexdigest()

    @classmethod
    def from_token(cls, token: str) -> DigestAlgorithm:
        """Case-insensitive lookup (RFC 7616 section 3.3 tokens are case-insensitive)."""
        algorithm = _ALGORITHM_TOKENS.get(token.lower())
        if algorithm is None:
            raise DigestParseError(f"unsupported digest algorithm {token!r}")
        return algorithm


_ALGORITHM_TOKENS = {algorithm.value.lower(): algorithm for algorithm in DigestAlgorithm}


def compute_ha1(username: str, realm: str, password: str, algorithm: DigestAlgorithm) -> str:
    """A1 hash of RFC 7616 section 3.4.2 (non-session variant): H(username:realm:password)."""
    return algorithm.hash(f"{username}:{realm}:{password}")


def compute_response(
    algorithm: DigestAlgorithm,
    ha1: str,
    *,
    method: str,
    uri: str,
    nonce: str,
    qop: str | None = None,
    nc: int | None = None,
    cnonce: str | None = None,
) -> str:
    """The request-digest of RFC 7616 section 3.4.1, or RFC 2069 style when ``qop`` is None."""
    ha2 = algorithm.hash(f"{method}:{uri}")
    if qop is None:
        return algorithm.hash(f"{ha1}:{nonce}:{ha2}")
    if nc is None or cnonce is None:
        raise ValueError("qop requires nc and cnonce")
    return algorithm.hash(f"{ha1}:{nonce}:{nc:08x}:{cnonce}:{qop}:{ha2}")


# --- header values -------------------------------------------------------------------------


_QUOTED = re.compile(r'"((?:[^"\\\x00-\x08\x0a-\x1f]|\\[^\x00-\x08\x0a-\x1f])*)"')
_ESCAPE = re.compile(r"\\(.)")


def _read_quoted(text: str, pos: int) -> tuple[str, int]:
    """Read a quoted-string starting at ``text[pos] == '"'``; return (value, next position).

    A regex does the common case; the character loop below only runs to name what is wrong.
    """
    match = _QUOTED.match(text, pos)
    if match is not None:
        value = match.group(1)
        return (_ESCAPE.sub(r"\1", value) if "\\" in value else value), match.end()
    return _explain_bad_quoted(text, pos)


def _explain_bad_quoted(text: str, pos: int) -> tuple[str, int]:
    out: list[str] = []
    pos += 1
    while pos < len(text):
        char = text[pos]
        if char == '"':
            return "".join(out), pos + 1
        if char == "\\":
            pos += 1
            if pos == len(text):
                break
            char = text[pos]
        if char in "\r\n" or (ord(char) < 0x20 and char != "\t"):
            raise DigestParseError("control character in quoted string")
        out.append(char)
        pos += 1
    raise DigestParseError("unterminated quoted string")


def _skip_space(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in " \t":
        pos += 1
    return pos


# One well-formed parameter and the separator after it, as `_parse_auth_slowly` reads them:
# quoted values without control characters (escapes resolved afterwards), then a comma (or
# several: empty elements) or the end. Anything else goes to the slow path, which names the
# error precisely.
_FAST_PARAM = re.compile(
    r"([ \t]*([A-Za-z0-9\-.!%*_+`'~]+)[ \t]*=[ \t]*"
    r'(?:"([^"\\\x00-\x08\x0a-\x1f]*(?:\\[^\x00-\x08\x0a-\x1f][^"\\\x00-\x08\x0a-\x1f]*)*)"'
    r'|([^\s,"]+))'
    r"[ \t]*(?:(?:,[ \t]*)+|\Z))"
)
_LEADING_SEPARATORS = re.compile(r"[ \t]*(?:,[ \t]*)*")
_ESCAPE = re.compile(r"\\(.)")


def parse_auth_header(value: str) -> tuple[str, dict[str, str]]:
    """Split ``Scheme name=value, name="quoted"`` into (scheme, params with lower-case names).

    Quoted and unquoted values are both accepted (phones differ); empty list elements are
    skipped (RFC 7230 section 7); a repeated parameter is an error (RFC 7616 section 3.3).
    Every REGISTER answer goes through here, so a regex per parameter reads the usual
    header and only an odd or broken one takes the character-by-character path.
    """
    if len(value) > MAX_HEADER_LENGTH:
        raise DigestParseError("authentication header too long")
    scheme = TOKEN_RE.match(value, _skip_space(value, 0))
    if scheme is None:
        raise DigestParseError("missing authentication scheme")
    end = len(value)
    pos = scheme.end()
    if pos < end and value[pos] not in " \t,":
        return _parse_auth_slowly(value)
    pos = _LEADING_SEPARATORS.match(value, pos).end()  # type: ignore[union-attr]
    found = _FAST_PARAM.findall(value, pos)
    # Matches that do not overlap and add up to the rest of the value tile it: each began
    # where the previous one ended, as a match at each position would have read it.
    if sum(len(whole) for whole, _, _, _ in found) != end - pos or len(found) > MAX_PARAMS:
        return _parse_auth_slowly(value)
    params = {
        name.lower(): bare or (_ESCAPE.sub(r"\1", quoted) if "\\" in quoted else quoted)
        for _, name, quoted, bare in found
    }
    if len(params) != len(found):  # a repeated parameter: the slow path names it
        return _parse_auth_slowly(value)
    return scheme.group(), params


def _parse_auth_slowly(value: str) -> tuple[str, dict[str, str]]:
    """The reference reader of `parse_auth_header`, with a precise error for each fault."""
    pos = _skip_space(value, 0)
    scheme = TOKEN_RE.match(value, pos)
    if scheme is None:
        raise DigestParseError("missing authentication scheme")
    pos = scheme.end()
    params: dict[str, str] = {}
    expect_separator = False
    while True:
        pos = _skip_space(value, pos)
        if pos == len(value):
            return scheme.group(), params
        if value[pos] == ",":
            pos += 1
            expect_separator = False
            continue
        if expect_separator:
            raise DigestParseError(f"expected ',' at offset {pos}")
        name = TOKEN_RE.match(value, pos)
        if name is None:
            raise DigestParseError(f"expected a parameter name at offset {pos}")
        pos = _skip_space(value, name.end())
        if pos == len(value) or value[pos] != "=":
            raise DigestParseError(f"parameter {name.group()!r} has no value")
        pos = _skip_space(value, pos + 1)
        if pos < len(value) and value[pos] == '"':
            param_value, pos = _read_quoted(value, pos)
        else:
            bare = _UNQUOTED_VALUE.match(value, pos)
            if bare is None:
                raise DigestParseError(f"parameter {name.group()!r} has no value")
            param_value, pos = bare.group(), bare.end()
        key = name.group().lower()
        if key in params:
            raise DigestParseError(f"parameter {key!r} repeated")
        if len(params) == MAX_PARAMS:
            raise DigestParseError("too many parameters")
        params[key] = param_value
        expect_separator = True


_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f]")


def _quote(text: str) -> str:
    if _CONTROL.search(text):
        raise ValueError("control character in a header parameter")
    return quote(text)


def _digest_params(value: str) -> dict[str, str]:
    scheme, params = parse_auth_header(value)
    if scheme.lower() != "digest":
        raise DigestParseError(f"unsupported authentication scheme {scheme!r}")
    return params


def _required(params: dict[str, str], name: str) -> str:
    try:
        return params[name]
    except KeyError:
        raise DigestParseError(f"missing digest parameter {name!r}") from None


@dataclass(frozen=True, slots=True)
class DigestChallenge:
    """One ``WWW-Authenticate`` / ``Proxy-Authenticate`` Digest challenge."""

    realm: str
    nonce: str
    algorithm: DigestAlgorithm = DigestAlgorithm.MD5
    qop: tuple[str, ...] = ("auth",)
    opaque: str | None = None
    stale: bool = False

    @classmethod
    def parse(cls, value: str) -> DigestChallenge:
        """Parse a header value; a missing algorithm means MD5 (RFC 7616 section 3.3)."""
        params = _digest_params(value)
        qop = tuple(q.strip() for q in params.get("qop", "").split(",") if q.strip())
        return cls(
            realm=_required(params, "realm"),
            nonce=_required(params, "nonce"),
            algorithm=DigestAlgorithm.from_token(params.get("algorithm", "MD5")),
            qop=qop,
            opaque=params.get("opaque"),
            stale=params.get("stale", "false").lower() == "true",
        )

    def to_header(self) -> str:
        """Serialise with the quoting of RFC 3261 section 25.1 (algorithm and stale unquoted)."""
        parts = [f"realm={_quote(self.realm)}", f"nonce={_quote(self.nonce)}"]
        if self.opaque is not None:
            parts.append(f"opaque={_quote(self.opaque)}")
        if self.stale:
            parts.append("stale=true")
        parts.append(f"algorithm={self.algorithm.value}")
        if self.qop:
            parts.append(f"qop={_quote(','.join(self.qop))}")
        return "Digest " + ", ".join(parts)


@dataclass(frozen=True, slots=True)
class DigestCredentials:
    """One ``Authorization`` / ``Proxy-Authorization`` Digest answer."""

    username: str
    realm: str
    nonce: str
    uri: str
    response: str
    algorithm: DigestAlgorithm = DigestAlgorithm.MD5
    qop: str | None = None
    nc: int | None = None
    cnonce: str | None = None
    opaque: str | None = None

    @classmethod
    def parse(cls, value: str) -> DigestCredentials:
        """Parse a header value; nc must be 1..8 hex digits (RFC 7616 section 3.4)."""
        params = _digest_params(value)
        nc_text = params.get("nc")
        if nc_text is not None and (len(nc_text) > 8 or not _HEX.fullmatch(nc_text)):
            raise DigestParseError(f"bad nonce-count {nc_text!r}")
        return cls(
            username=_required(params, "username"),
            realm=_required(params, "realm"),
            nonce=_required(params, "nonce"),
            uri=_required(params, "uri"),
            response=_required(params, "response"),
            algorithm=DigestAlgorithm.from_token(params.get("algorithm", "MD5")),
            qop=params.get("qop"),
            nc=int(nc_text, 16) if nc_text is not None else None,
            cnonce=params.get("cnonce"),
            opaque=params.get("opaque"),
        )

    def to_header(self) -> str:
        """Serialise as a client would (qop, nc and algorithm unquoted)."""
        parts = [
            f"username={_quote(self.username)}",
            f"realm={_quote(self.realm)}",
            f"nonce={_quote(self.nonce)}",
            f"uri={_quote(self.uri)}",
            f"response={_quote(self.response)}",
            f"algorithm={self.algorithm.value}",
        ]
        if self.qop is not None:
            parts.append(f"qop={self.qop}")
        if self.nc is not None:
            parts.append(f"nc={self.nc:08x}")
        if self.cnonce is not None:
            parts.append(f"cnonce={_quote(self.cnonce)}")
        if self.opaque is not None:
            parts.append(f"opaque={_quote(self.opaque)}")
        return "Digest " + ", ".join(parts)

    @classmethod
    def answer(
        cls,
        challenge: DigestChallenge,
        *,
        username: str,
        ha1: str,
        method: str,
        uri: str,
        cnonce: str | None = None,
        nc: int = 1,
    ) -> DigestCredentials:
        """Answer a challenge as a client (used by tests and, later, by trunk registration).

        With ``cnonce=None`` no qop is used (RFC 2069 compatibility); otherwise qop=auth.
        """
        qop = "auth" if cnonce is not None else None
        response = compute_response(
            challenge.algorithm, ha1, method=method, uri=uri, nonce=challenge.nonce,
            qop=qop, nc=nc if qop else None, cnonce=cnonce,
        )
        return cls(
            username=username, realm=challenge.realm, nonce=challenge.nonce, uri=uri,
            response=response, algorithm=challenge.algorithm, qop=qop,
            nc=nc if qop else None, cnonce=cnonce, opaque=challenge.opaque,
        )


# --- nonces --------------------------------------------------------------------------------


class NonceStatus(Enum):
    """What a nonce's own content says about it."""

    VALID = "valid"
    STALE = "stale"
    INVALID = "invalid"


_NONCE_BYTES = 8 + 8 + 16
_MAX_CLOCK_SKEW = 5.0


class NonceSigner:
    """Issues and checks stateless, MAC-signed nonces (keyed BLAKE2s) that carry their creation time."""

    def __init__(
        self,
        secret: bytes,
        realm: str,
        *,
        lifetime: float = 300.0,
        entropy: Callable[[int], bytes] = secrets.token_bytes,
    ) -> None:
        if len(secret) < 16:
            raise ValueError("nonce secret must be at least 16 bytes")
        if lifetime <= 0:
            raise ValueError("nonce lifetime must be positive")
        # BLAKE2s takes keys of up to 32 bytes; a longer secret is condensed first.
        self._mac_key = secret if len(secret) <= 32 else hashlib.sha256(secret).digest()
        self._realm = realm.encode("utf-8")
        self.lifetime = lifetime
        self._entropy = entropy

    def _mac(self, body: bytes) -> bytes:
        message = self._realm + b"\0" + body
        # Keyed BLAKE2s is a MAC in one C call: HMAC-SHA256 (hmac.new or hmac.digest) cost
        # about 4 us here, more than the rest of issuing a nonce.
        return hashlib.blake2s(message, key=self._mac_key, digest_size=16, person=b"nonce").digest()

    def issue(self, now: float) -> str:
        """A fresh nonce; the random salt keeps two nonces of the same millisecond distinct."""
        body = int(now * 1000).to_bytes(8, "big") + self._entropy(8)
        return base64.urlsafe_b64encode(body + self._mac(body)).rstrip(b"=").decode("ascii")

    def inspect(self, nonce: str, now: float) -> tuple[NonceStatus, float]:
        """(status, issue time); INVALID for a forged, mangled or future nonce."""
        try:
            raw = base64.urlsafe_b64decode(nonce + "=" * (-len(nonce) % 4))
        except (ValueError, UnicodeEncodeError):
            return NonceStatus.INVALID, 0.0
        if len(raw) != _NONCE_BYTES:
            return NonceStatus.INVALID, 0.0
        body, mac = raw[:16], raw[16:]
        if not hmac.compare_digest(mac, self._mac(body)):
            return NonceStatus.INVALID, 0.0
        issued = int.from_bytes(body[:8], "big") / 1000
        if issued > now + _MAX_CLOCK_SKEW:
            return NonceStatus.INVALID, issued
        if now - issued > self.lifetime:
            return NonceStatus.STALE, issued
        return NonceStatus.VALID, issued


class NonceCountTracker:
    """Bounded replay state: per nonce, the highest nc and a bitmap of the ``window`` below it.

    When full, the least recently used nonce is forgotten and its issue time becomes the
    *horizon*: a forgotten nonce (issued at or before the horizon) is refused from then on, so
    eviction can never reopen a replay. The client just gets a fresh nonce (stale=true).

    Entries are tuples, replaced on each use rather than changed: thousands are alive at once,
    and tuples of numbers drop out of the cyclic collector's lists where lists would stay.
    """

    def __init__(self, capacity: int = 10_000, window: int = 32) -> None:
        if capacity < 1 or window < 1:
            raise ValueError("capacity and window must be positive")
        self._capacity = capacity
        self._window = window
        self._entries: OrderedDict[str, tuple[float, int, int]] = OrderedDict()  # issued, nc, bitmap
        self._horizon = float("-inf")

    def __len__(self) -> int:
        return len(self._entries)

    def accept(self, nonce: str, issued_at: float, nc: int) -> bool:
        """Record ``nc`` for ``nonce``; False when this count was already used (a replay)."""
        if nc < 1:
            return False
        entry = self._entries.get(nonce)
        if entry is None:
            if issued_at <= self._horizon:
                return False
            self._remember(nonce, issued_at, nc)
            return True
        issued, highest, bitmap = entry
        if nc > highest:
            mask = (1 << self._window) - 1
            self._entries[nonce] = (issued, nc, ((bitmap << (nc - highest)) | 1) & mask)
        else:
            offset = highest - nc
            if offset >= self._window or bitmap & (1 << offset):
                return False
            self._entries[nonce] = (issued, highest, bitmap | (1 << offset))
        self._entries.move_to_end(nonce)
        return True

    def _remember(self, nonce: str, issued_at: float, nc: int) -> None:
        while len(self._entries) >= self._capacity:
            _, evicted = self._entries.popitem(last=False)
            self._horizon = max(self._horizon, evicted[0])
        self._entries[nonce] = (issued_at, nc, 1)


# --- verification --------------------------------------------------------------------------


class AuthOutcome(Enum):
    """ACCEPTED: go on. STALE: re-challenge with stale=true (not a failure). REJECTED: 401/403."""

    ACCEPTED = "accepted"
    STALE = "stale"
    REJECTED = "rejected"


@dataclass(frozen=True, slots=True)
class AuthResult:
    """The outcome plus a reason for the security log; the reason is never sent to the peer."""

    outcome: AuthOutcome
    reason: str

    @property
    def accepted(self) -> bool:
        return self.outcome is AuthOutcome.ACCEPTED


class DigestAuthenticator:
    """Server side of Digest: builds challenges and verifies answers against a stored HA1."""

    def __init__(
        self,
        realm: str,
        secret: bytes,
        *,
        nonce_lifetime: float = 300.0,
        algorithms: tuple[DigestAlgorithm, ...] = (DigestAlgorithm.SHA256, DigestAlgorithm.MD5),
        tracker: NonceCountTracker | None = None,
        entropy: Callable[[int], bytes] = secrets.token_bytes,
    ) -> None:
        if not algorithms:
            raise ValueError("at least one digest algorithm is needed")
        self.realm = realm
        self.algorithms = algorithms
        self._secret = secret
        self._nonces = NonceSigner(secret, realm, lifetime=nonce_lifetime, entropy=entropy)
        self._tracker = tracker if tracker is not None else NonceCountTracker()
        self.opaque = hmac.new(secret, b"opaque\0" + realm.encode(), "sha256").hexdigest()[:32]
        self._templates: dict[bool, tuple[list[str], ...]] = {}

    def challenges(self, now: float, *, stale: bool = False) -> tuple[DigestChallenge, ...]:
        """One challenge per algorithm, strongest first (RFC 8760 section 2.4 ordering).

        They share one nonce: whichever algorithm the client picks, the nonce and its count
        window are the same, and the switch signs one nonce instead of two per challenge.
        """
        return self._challenges(self._nonces.issue(now), stale)

    def challenge_headers(self, now: float, *, stale: bool = False) -> tuple[str, ...]:
        """:meth:`challenges` already serialised: half of all REGISTERs are answered with
        these, so the parts that never change are formatted once per server."""
        nonce = self._nonces.issue(now)
        templates = self._templates.get(stale)
        if templates is None:
            marker = "\ue000nonce\ue000"  # a private-use character: in no realm we issue
            templates = tuple(
                challenge.to_header().split(marker)
                for challenge in self._challenges(marker, stale)
            )
            if any(len(parts) != 2 for parts in templates):
                return tuple(c.to_header() for c in self._challenges(nonce, stale))
            self._templates[stale] = templates
        return tuple(nonce.join(parts) for parts in templates)

    def _challenges(self, nonce: str, stale: bool) -> tuple[DigestChallenge, ...]:
        return tuple(
            DigestChallenge(
                realm=self.realm, nonce=nonce, algorithm=algorithm,
                qop=("auth",), opaque=self.opaque, stale=stale,
            )
            for algorithm in self.algorithms
        )

    def dummy_ha1(self, username: str, algorithm: DigestAlgorithm) -> str:
        """A stable, secret-derived HA1 for unknown users: same work, same failure."""
        seed = hmac.new(self._secret, b"dummy\0" + username.encode("utf-8"), "sha256").hexdigest()
        return algorithm.hash(seed)

    def verify(
        self, credentials: DigestCredentials, method: str, ha1: str, now: float
    ) -> AuthResult:
        """Check an answer. ``ha1`` is for ``credentials.algorithm`` (or :meth:`dummy_ha1`).

        The response is checked before freshness, so STALE is only ever returned to someone who
        knows the password (RFC 7616 section 3.3), and nonce-counts are recorded only for
        correct answers so a forger cannot burn a legitimate phone's counts.
        """
        cred = credentials
        if cred.realm != self.realm:
            return _reject("realm mismatch")
        if cred.algorithm not in self.algorithms:
            return _reject("algorithm not offered")
        if cred.qop not in (None, "auth") or (cred.qop and (cred.nc is None or not cred.cnonce)):
            return _reject("unsupported qop or missing nc/cnonce")
        if cred.opaque is not None and cred.opaque.encode("utf-8") != self.opaque.encode():
            return _reject("opaque mismatch")  # constant per server: no secret to time
        status, issued_at = self._nonces.inspect(cred.nonce, now)
        if status is NonceStatus.INVALID:
            return _reject("invalid nonce")
        expected = compute_response(
            cred.algorithm, ha1, method=method, uri=cred.uri, nonce=cred.nonce,
            qop=cred.qop, nc=cred.nc, cnonce=cred.cnonce,
        )
        if not hmac.compare_digest(expected.encode(), cred.response.lower().encode("utf-8")):
            return _reject("wrong response")
        if status is NonceStatus.STALE:
            return AuthResult(AuthOutcome.STALE, "nonce expired")
        if cred.qop is not None and not self._tracker.accept(cred.nonce, issued_at, cred.nc):
            return AuthResult(AuthOutcome.STALE, "nonce-count replayed")
        return AuthResult(AuthOutcome.ACCEPTED, "ok")


def _reject(reason: str) -> AuthResult:
    return AuthResult(AuthOutcome.REJECTED, reason)
