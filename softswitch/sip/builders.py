"""Building messages: responses to requests (RFC 3261 section 8.2.6) and fresh identifiers."""

from __future__ import annotations

import secrets

from softswitch.sip.errors import RemoteProtocolError
from softswitch.sip.headers import Headers
from softswitch.sip.message import Request, Response
from softswitch.sip.values import MAGIC_COOKIE, Via, parse_via

__all__ = [
    "BRANCH_PREFIX",
    "make_response",
    "new_branch",
    "new_tag",
    "new_call_id",
    "stamp_received",
    "stamped_via",
    "COPIED_TO_RESPONSE",
]

# Our branches carry a recognisable prefix after the RFC 3261 magic cookie, so a request that
# comes back to us with one of our own branches is a loop (482).
BRANCH_PREFIX = MAGIC_COOKIE + "-ss"

MAX_REASON = 120

COPIED_TO_RESPONSE = ("via", "from", "to", "call-id", "cseq")


def new_branch() -> str:
    return BRANCH_PREFIX + secrets.token_hex(8)


def new_tag() -> str:
    return secrets.token_hex(6)


def new_call_id(host: str) -> str:
    return f"{secrets.token_hex(12)}@{host}"


def make_response(
    request: Request | None,
    status: int,
    reason: str | None = None,
    *,
    to_tag: str | None = None,
    headers: Headers | None = None,
    request_headers: Headers | None = None,
) -> Response:
    """A response that copies Via, From, To, Call-ID and CSeq from the request.

    A To tag is added to every final response (and to provisional ones when `to_tag` is given)
    unless the request's To already has one. `request_headers` lets a caller answer a request
    that failed to parse fully, from the headers that were read.
    """
    if request_headers is not None:
        source = request_headers
    elif request is not None:
        source = request.headers
    else:
        raise ValueError("make_response needs a request or its headers")
    out: list[tuple[str, str, str]] = []
    for key, name, value in source.fields():
        if key in COPIED_TO_RESPONSE:
            if key == "to" and status > 100 and ";tag=" not in value.replace(" ", "").lower():
                value = f"{value};tag={to_tag or new_tag()}"
            out.append((key, name, value))
        elif key == "timestamp" and status == 100:
            out.append((key, name, value))
    if reason is not None and len(reason) > MAX_REASON:  # reasons may quote a peer's text
        reason = reason[: MAX_REASON - 3] + "..."
    response = Response(status, reason, Headers(out))
    if headers is not None:
        for name, value in headers:
            response.headers.add(name, value)
    return response


def stamp_received(request: Request, host: str, port: int) -> Via:
    """Add `received` (and `rport` when asked for, RFC 3581) to the top Via; return it."""
    try:
        vias: list[Via] | None = request.vias
        top = request.top_via
    except RemoteProtocolError:
        # Only the top Via must parse here: a broken one below it is check_request's 400.
        vias = None
        top = parse_via(request.headers.get_list("via")[0])
    stamped = stamped_via(top, host, port)
    if stamped is top:
        return top
    request.headers.replace_first("via", str(stamped))
    if vias is not None:
        request.headers.prime("vias", [stamped, *vias[1:]])
    return stamped


def stamped_via(top: Via, host: str, port: int) -> Via:
    """``top`` with `received` and `rport` filled in for a request from host:port, or ``top``
    itself when it needs neither."""
    params: dict[str, str | None] = {}
    if top.host != host:
        params["received"] = host
    if "rport" in top.params and top.params["rport"] is None:
        params["rport"] = str(port)
        params.setdefault("received", host)
    if not params:
        return top
    # Built directly: `with_params` (dataclasses.replace) is slow on a path every request takes.
    return Via(top.transport, top.host, top.port, {**top.params, **params}, top.protocol)
