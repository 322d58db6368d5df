"""Requests a client transaction derives from the INVITE it sent: ACK for a non-2xx final
response (RFC 3261 17.1.1.3) and CANCEL (9.1).

Both carry only the INVITE's top Via, so they follow the same path and match the same server
transaction, and both keep the INVITE's Request-URI, Call-ID, From, CSeq number and Route set.
"""

from __future__ import annotations

from softswitch.sip.errors import LocalProtocolError
from softswitch.sip.headers import Headers
from softswitch.sip.message import Request, Response

__all__ = ["build_ack", "build_cancel"]


def build_ack(invite: Request, response: Response) -> Request:
    """The ACK for a 300-699 response: To (with its tag) comes from the response."""
    to = response.headers.get("to")
    if to is None:
        raise LocalProtocolError("Cannot ACK a response without To")
    return _derive(invite, "ACK", to)


def build_cancel(invite: Request) -> Request:
    """The CANCEL for a pending INVITE: To is the INVITE's own, no Require (9.1)."""
    to = invite.headers.get("to")
    if to is None:
        raise LocalProtocolError("Cannot CANCEL a request without To")
    return _derive(invite, "CANCEL", to)


def _derive(invite: Request, method: str, to: str) -> Request:
    source = invite.headers
    vias = source.get_list("via")
    if not vias:
        raise LocalProtocolError(f"Cannot build {method}: the INVITE has no Via")
    headers = Headers()
    headers.add("Via", vias[0])
    headers.add("Max-Forwards", source.get("max-forwards") or "70")
    for route in source.get_all("route"):
        headers.add("Route", route)
    headers.add("From", source.get("from") or "")
    headers.add("To", to)
    headers.add("Call-ID", source.get("call-id") or "")
    headers.add("CSeq", f"{invite.cseq.number} {method}")
    return Request(method, invite.uri, headers)
