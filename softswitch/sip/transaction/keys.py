"""Transaction matching keys (RFC 3261 17.1.3 and 17.2.3).

A client transaction is found by the branch of the top Via plus the CSeq method, so the CANCEL
and the INVITE it cancels (same branch) stay apart. A server transaction is found by branch,
sent-by and method, where an ACK looks for the INVITE's transaction. Requests from RFC 2543
peers have no magic cookie in the branch; for them the key is built from Request-URI, From tag,
Call-ID, CSeq number, method and top Via, plus the To tag of the request (17.2.3). An ACK for an
RFC 2543 INVITE carries the To tag of *our* response, which the layer checks separately.
"""

from __future__ import annotations

from softswitch.sip.message import Request
from softswitch.sip.values import MAGIC_COOKIE, Via

__all__ = ["ClientKey", "ServerKey", "is_rfc3261_branch", "rfc2543_key", "server_key"]

ClientKey = tuple[str, str]  # (branch, CSeq method)
# (branch, sent-by host, sent-by port, method) or, for RFC 2543 peers,
# ("rfc2543", Request-URI, To tag, From tag, Call-ID, CSeq number, method, top Via).
ServerKey = tuple[object, ...]


def is_rfc3261_branch(branch: str | None) -> bool:
    return branch is not None and branch.startswith(MAGIC_COOKIE)


def server_key(request: Request, via: Via, method: str) -> ServerKey:
    """The key of the server transaction `request` belongs to, looked up as `method`.

    `method` is the request's own method, except INVITE for an ACK (which joins the INVITE's
    transaction) and for a CANCEL being matched to the INVITE it cancels (9.2).
    """
    branch = via.params.get("branch")
    if branch is not None and branch.startswith(MAGIC_COOKIE):
        return branch, via.host.lower(), via.port, method
    return rfc2543_key(request, via, method, request.to.tag)


def rfc2543_key(request: Request, via: Via, method: str, to_tag: str | None) -> ServerKey:
    return (
        "rfc2543",
        str(request.uri),
        to_tag,
        request.from_.tag,
        request.call_id,
        request.cseq.number,
        method,
        str(via),
    )
