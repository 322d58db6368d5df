"""Judging a parsed request before any transaction sees it (RFC 3261 sections 8.2 and 16.3).

`check_request` raises RemoteProtocolError carrying the status to answer (400, 416, 420, 482,
483, ...) and, for 420, the extensions to list in Unsupported.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import TypeVar

from softswitch.sip.builders import BRANCH_PREFIX
from softswitch.sip.errors import RemoteProtocolError
from softswitch.sip.grammar import is_digits
from softswitch.sip.headers import Headers, display_name
from softswitch.sip.message import Request
from softswitch.sip.uri import AbsoluteURI
from softswitch.sip.values import MAGIC_COOKIE, Address, Via, parse_via

__all__ = [
    "check_request",
    "check_reply_headers",
    "UnsupportedExtension",
    "SUPPORTED_SCHEMES",
    "SINGLE_VALUED",
    "loops_back",
    "max_forwards_refusal",
]

SUPPORTED_SCHEMES = frozenset({"sip", "sips", "tel"})

T = TypeVar("T")

# Headers that RFC 3261 (section 20, and 7.3.1 for the rule) allows only once; two different
# values (RFC 4475 3.3.8) leave no safe choice. Content-Length is judged by the parser.
SINGLE_VALUED = frozenset({"call-id", "cseq", "from", "to", "max-forwards", "content-type"})
_REQUIRE_KEYS = frozenset({"require", "proxy-require"})


class UnsupportedExtension(RemoteProtocolError):
    """Require/Proxy-Require named option tags we do not support (420)."""

    def __init__(self, tags: list[str]) -> None:
        super().__init__("Bad Extension", 420)
        self.tags = tags


def check_reply_headers(headers: Headers) -> None:
    """Raise when a response cannot be built: the top Via must parse (it says where the
    response goes) and From, To, Call-ID and CSeq must be present (they are copied verbatim)."""
    vias = headers.get_list("via")
    if not vias:
        raise RemoteProtocolError("Missing Via")
    parse_via(vias[0])
    for key in ("from", "to", "call-id", "cseq"):
        if not (headers.get(key) or "").strip():
            raise RemoteProtocolError(f"Missing {key} header")


def check_request(
    request: Request,
    *,
    supported: Collection[str] = (),
    local_sent_by: Collection[tuple[str, int]] = (),
) -> None:
    """Raise RemoteProtocolError (with its status) when the request must be refused."""
    if isinstance(request.uri, AbsoluteURI) or request.uri.scheme not in SUPPORTED_SCHEMES:
        raise RemoteProtocolError("Unsupported URI Scheme", 416)
    vias = _parsed("Via", lambda: request.vias)
    cseq = request.cseq
    # Through the accessors, so the parsed values are kept for the layers above.
    _parsed("From", lambda: request.from_)
    _parsed("To", lambda: request.to)
    contacts = _parsed("Contact", lambda: request.contacts)
    # One pass over the fields: repeated single-valued headers, Max-Forwards, and whether
    # there is any Require/Proxy-Require at all (most requests have none).
    seen: set[str] = set()
    max_forwards: str | None = None
    requires = False
    for key, _, value in request.headers.fields():
        if key in SINGLE_VALUED:
            if key in seen:
                raise RemoteProtocolError(f"Multiple {display_name(key)} headers")
            seen.add(key)
            if key == "max-forwards":
                max_forwards = value
        elif key in _REQUIRE_KEYS:
            requires = True
    if not vias:
        raise RemoteProtocolError("Missing Via")
    if vias[0].branch == MAGIC_COOKIE:
        # RFC 4475 3.2.1: the cookie promises an RFC 3261 branch but carries no identifier;
        # matching on it would merge unrelated transactions.
        raise RemoteProtocolError("Via branch has the magic cookie but no transaction identifier")
    if cseq.method != request.method:
        raise RemoteProtocolError("CSeq method does not match the Request-Line")
    if not request.call_id:
        raise RemoteProtocolError("Empty Call-ID")
    refusal = contact_refusal(request.method, contacts)
    if refusal is not None:
        raise refusal
    if max_forwards is not None:
        refusal = max_forwards_refusal(max_forwards, request.method)
        if refusal is not None:
            raise refusal
    if loops_back(vias, local_sent_by):
        raise RemoteProtocolError("Loop Detected", 482)
    if requires and request.method not in ("ACK", "CANCEL"):
        required = [
            tag.strip()
            for name in ("require", "proxy-require")
            for tag in request.headers.get_list(name)
        ]
        unknown = [tag for tag in required if tag.lower() not in supported]
        if unknown:
            raise UnsupportedExtension(unknown)


def contact_refusal(method: str, contacts: list[Address]) -> RemoteProtocolError | None:
    """Why the Contacts refuse the request, or None: ``*`` belongs to REGISTER alone (RFC 3261
    10.2.2); anywhere else it names no target, and whoever answers would have none."""
    if method != "REGISTER" and any(contact.wildcard for contact in contacts):
        return RemoteProtocolError("Invalid Contact header: '*' is for REGISTER only")
    return None


def max_forwards_refusal(value: str, method: str) -> RemoteProtocolError | None:
    """Why a Max-Forwards value refuses the request (400, or 483 at zero except for
    OPTIONS, RFC 3261 8.2.2 and 16.3), or None."""
    text = value.strip()
    if not is_digits(text) or int(text) > 255:
        return RemoteProtocolError("Invalid Max-Forwards")
    if int(text) == 0 and method != "OPTIONS":
        return RemoteProtocolError("Too Many Hops", 483)
    return None


def loops_back(vias: list[Via], local_sent_by: Collection[tuple[str, int]]) -> bool:
    """A Via below the top one is ours, with our branch: the request came round (482)."""
    return any(
        (via.host, via.port or 5060) in local_sent_by
        and (via.branch or "").startswith(BRANCH_PREFIX)
        for via in vias[1:]
    )


def _parsed(label: str, read: Callable[[], T]) -> T:
    """`read()`, with a 400 reason that names the header (RFC 4475 wants reasons that tell)."""
    try:
        return read()
    except RemoteProtocolError as exc:
        raise RemoteProtocolError(f"Invalid {label} header: {exc.reason}") from None
