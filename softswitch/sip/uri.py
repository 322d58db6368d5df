"""SIP, SIPS and tel URIs (RFC 3261 section 19.1, RFC 3966), and a fallback for other schemes.

URIs are immutable values; `with_params()` and friends return copies. Parameter names are
case-insensitive and stored lower-cased; the user part keeps its escapes exactly as received,
because comparing and forwarding must not change what a peer sent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Union

from softswitch.sip.errors import RemoteProtocolError
from softswitch.sip.grammar import format_params, is_digits, parse_params

__all__ = ["SipURI", "TelURI", "AbsoluteURI", "URI", "parse_uri", "parse_host_port", "format_host"]

_HOST_RE = re.compile(r"[A-Za-z0-9\-.]+")
_IPV6_RE = re.compile(r"[0-9A-Fa-f:.]+")
_WHITESPACE = re.compile(r"\s")


@dataclass(frozen=True, slots=True)
class SipURI:
    """`sip:` or `sips:` URI. `host` holds IPv6 addresses without brackets."""

    host: str
    user: str | None = None
    password: str | None = None
    port: int | None = None
    scheme: str = "sip"
    params: dict[str, str | None] = field(default_factory=dict, compare=False, hash=False)
    headers: str = ""

    def __str__(self) -> str:
        out = [self.scheme, ":"]
        if self.user is not None:
            out.append(self.user)
            if self.password is not None:
                out.append(":" + self.password)
            out.append("@")
        out.append(format_host(self.host))
        if self.port is not None:
            out.append(f":{self.port}")
        out.append(format_params(self.params))
        if self.headers:
            out.append("?" + self.headers)
        return "".join(out)

    @property
    def secure(self) -> bool:
        return self.scheme == "sips"

    @property
    def transport(self) -> str | None:
        """The `transport` parameter, upper-cased, or None."""
        value = self.params.get("transport")
        return value.upper() if value else None

    def with_params(self, **params: str | None) -> SipURI:
        merged = dict(self.params)
        merged.update(params)
        return replace(self, params=merged)

    def without_params(self, *names: str) -> SipURI:
        return replace(self, params={k: v for k, v in self.params.items() if k not in names})

    def aor(self) -> str:
        """Address of record form `sip:user@host` (no port, params or headers), lower-cased host."""
        user = f"{self.user}@" if self.user is not None else ""
        return f"{self.scheme}:{user}{self.host.lower()}"


@dataclass(frozen=True, slots=True)
class TelURI:
    """`tel:` URI (RFC 3966): a number plus parameters such as phone-context."""

    number: str
    params: dict[str, str | None] = field(default_factory=dict, compare=False, hash=False)

    def __str__(self) -> str:
        return f"tel:{self.number}{format_params(self.params)}"

    @property
    def scheme(self) -> str:
        return "tel"


@dataclass(frozen=True, slots=True)
class AbsoluteURI:
    """Any other scheme (mailto:, http:, urn:...), kept verbatim."""

    scheme: str
    text: str

    def __str__(self) -> str:
        return self.text


URI = Union[SipURI, TelURI, AbsoluteURI]


def format_host(host: str) -> str:
    """Bracket IPv6 addresses for use in URIs and Via."""
    return f"[{host}]" if ":" in host else host


def parse_host_port(text: str) -> tuple[str, int | None]:
    """Parse `host`, `host:port`, `[v6]` or `[v6]:port`; raise a 400 error when malformed."""
    if text.startswith("["):
        end = text.find("]")
        if end < 0:
            raise RemoteProtocolError("Unterminated IPv6 reference")
        host = text[1:end]
        rest = text[end + 1 :]
        if _IPV6_RE.fullmatch(host) is None:
            raise RemoteProtocolError(f"Invalid IPv6 reference {text!r}")
        if rest and not rest.startswith(":"):
            raise RemoteProtocolError(f"Invalid host {text!r}")
        port_text = rest[1:] if rest else None
    else:
        host, colon, port_text_raw = text.partition(":")
        port_text = port_text_raw if colon else None
        if _HOST_RE.fullmatch(host) is None:
            raise RemoteProtocolError(f"Invalid host {text!r}")
    port: int | None = None
    if port_text is not None:
        if not is_digits(port_text) or len(port_text) > 5 or not 0 < int(port_text) < 65536:
            raise RemoteProtocolError(f"Invalid port in {text!r}")
        port = int(port_text)
    return host, port


@lru_cache(maxsize=8192)
def parse_uri(text: str) -> URI:
    """Parse a URI. Unknown schemes give an AbsoluteURI; the caller decides whether to 416.

    Memoised: the same phones send the same Request-URI, From, To and Contact URIs again and
    again, and URIs are immutable values (never change a returned URI's `params` in place).
    """
    text = text.strip()
    scheme, colon, rest = text.partition(":")
    if not colon or not scheme or not scheme[0].isalpha():
        raise RemoteProtocolError(f"Invalid URI {text!r}")
    lowered = scheme.lower()
    if _WHITESPACE.search(text):
        raise RemoteProtocolError(f"Whitespace in URI {text!r}")
    if lowered in ("sip", "sips"):
        return _parse_sip_uri(lowered, rest, text)
    if lowered == "tel":
        number, semi, params = rest.partition(";")
        if not number:
            raise RemoteProtocolError(f"Invalid tel URI {text!r}")
        return TelURI(number, parse_params(semi + params))
    return AbsoluteURI(lowered, text)


def _parse_sip_uri(scheme: str, rest: str, text: str) -> SipURI:
    # '@' ends the userinfo before any '?' is looked at: the user part may itself contain '?',
    # ';' and '/' (user-unreserved, RFC 3261 section 25.1; RFC 4475 3.1.1.2), while '@' is
    # allowed nowhere else in a SIP URI.
    user: str | None = None
    password: str | None = None
    at = rest.find("@")
    if at >= 0:
        userinfo = rest[:at]
        rest = rest[at + 1 :]
        if not userinfo:
            raise RemoteProtocolError(f"Empty user part in {text!r}")
        user, pcolon, pw = userinfo.partition(":")
        password = pw if pcolon else None
    rest, _, headers = rest.partition("?")
    # Parameters start at the first ';' after the host (IPv6 references contain no ';').
    hostport, semi, params = rest.partition(";")
    host, port = parse_host_port(hostport)
    return SipURI(
        host=host,
        user=user,
        password=password,
        port=port,
        scheme=scheme,
        params=parse_params(semi + params),
        headers=headers,
    )
