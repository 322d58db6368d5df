"""The first thing every received message meets: size limit, parse, validate, stamp (sans-IO).

`InboundFilter.accept(data, source)` returns one of:
  - a `Request` that passed the checks (top Via stamped with received/rport),
  - a `Response` whose top Via is ours (RFC 3261 18.1.2; others are dropped),
  - a `Reply` (bytes + where to send them) for requests that must be refused (400, 416, 420,
    482, 483, 505, 513) — sent statelessly, before any transaction exists,
  - None: dropped (garbage, or malformed beyond answering).
The counters in `SwitchMetrics` are updated here so every transport counts the same way.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from typing import TYPE_CHECKING, NamedTuple

from softswitch.sip.builders import make_response, stamp_received
from softswitch.sip.destination import Destination
from softswitch.sip.errors import MessageTooLarge, RemoteProtocolError
from softswitch.sip.grammar import is_digits
from softswitch.sip.headers import Headers
from softswitch.sip.message import KNOWN_METHODS, Request, Response
from softswitch.sip.parser import MalformedRequest, parse_message, split_head
from softswitch.sip.plain import read_plain_request
from softswitch.sip.validate import UnsupportedExtension, check_reply_headers, check_request
from softswitch.sip.values import Via, parse_via

if TYPE_CHECKING:  # only the counters are used; the SIP core imports nothing above it
    from softswitch.metrics import SwitchMetrics

__all__ = ["InboundFilter", "Reply", "response_destination", "refusal", "retransmission_key"]


class Reply(NamedTuple):
    data: bytes
    destination: Destination


# A token as RFC 3261 section 25.1 defines it, for method and parameter names and values.
_TOKEN = rb"[!%'*+\-.0-9A-Z_`a-z~]+"
_VIA_NAME = re.compile(rb"\r\n(?:[Vv][Ii][Aa]|[Vv])[ \t]*:[ \t]*")
# The first value of that Via, only in its plain form: a host name or IPv4 address (no IPv6),
# token parameters, then a comma or the end of the line. Anything else takes the full path.
_VIA_VALUE = re.compile(
    rb"[Ss][Ii][Pp][ \t]*/[ \t]*2\.0[ \t]*/[ \t]*[A-Za-z]+[ \t]+"
    rb"([A-Za-z0-9][A-Za-z0-9.\-]*)(?::([0-9]{1,5}))?"
    rb"((?:[ \t]*;[ \t]*" + _TOKEN + rb"(?:[ \t]*=[ \t]*" + _TOKEN + rb")?)*)"
    rb"[ \t]*(?:,|\r\n)"
)
_BRANCH = re.compile(rb";[ \t]*(?i:branch)[ \t]*=[ \t]*(" + _TOKEN + rb")")
_FAST_METHODS = {m.encode(): m for m in KNOWN_METHODS if m != "ACK"}


def retransmission_key(data: bytes) -> tuple[str, str, int | None, str] | None:
    """The server transaction key of a request, read from its bytes without parsing it.

    Why: under overload every retransmission (RFC 3261 17.2.2, each T1 doubling) used to cost
    a full parse and validation before the transaction layer absorbed it. This scan finds
    (branch, sent-by host, sent-by port, method) as `transaction.keys.server_key` builds it
    for an RFC 3261 branch, or returns None (ACK, a response, an RFC 2543 branch, or any Via
    not in its plainest form), and the message then takes the full path. It never returns a
    key the full parser would build differently: at worst it finds nothing.
    """
    space = data.find(b" ", 0, 16)
    method = _FAST_METHODS.get(data[:space]) if space > 0 else None
    if method is None:
        return None
    head_end = data.find(b"\r\n\r\n")
    if head_end < 0:
        return None
    name = _VIA_NAME.search(data, space, head_end + 2)
    if name is None:
        return None
    value = _VIA_VALUE.match(data, name.end(), head_end + 2)
    if value is None:
        return None
    branches = _BRANCH.findall(value.group(3))
    if len(branches) != 1 or not branches[0].startswith(b"z9hG4bK"):
        return None
    port = value.group(2)
    return (
        branches[0].decode("ascii"),
        value.group(1).decode("ascii").lower(),
        int(port) if port else None,
        method,
    )


def metric_method(method: str) -> str:
    """Label for a method in metrics: a peer inventing methods must not grow them unbounded."""
    return method if method in KNOWN_METHODS else "other"


def response_destination(via: Via, source: Destination) -> Destination:
    """Where responses to a request go (RFC 3261 18.2.2 with RFC 3581 rport).

    Streams answer on the connection the request came on. Over UDP we answer the source
    address; the port is the source port when rport was asked for, else the Via port.
    """
    if source.reliable:
        return source
    if "rport" in via.params:  # stamped with the source port, or still bare if unparsed
        rport = via.params["rport"]
        return Destination(source.host, int(rport) if rport and is_digits(rport) else source.port)
    return Destination(source.host, via.port or 5060, "UDP")


def refusal(
    status: int,
    reason: str,
    request: Request | None,
    headers: Headers,
    server: str,
    extra: Headers | None = None,
) -> Response:
    """A stateless error response to a request that was refused before any transaction."""
    response = make_response(request, status, reason, request_headers=headers, headers=extra)
    response.headers.add("Server", server)
    return response


class InboundFilter:
    def __init__(
        self,
        metrics: "SwitchMetrics",
        *,
        supported: Collection[str],
        local_sent_by: Collection[tuple[str, int]] = (),
        server: str = "softswitch",
        max_udp_bytes: int = 65535,
    ) -> None:
        self.metrics = metrics
        self.supported = frozenset(tag.lower() for tag in supported)
        self.local_sent_by = set(local_sent_by)
        self.server = server
        self.max_udp_bytes = max_udp_bytes

    def accept(self, data: bytes, source: Destination) -> Request | Response | Reply | None:
        if not source.reliable and len(data) > self.max_udp_bytes:
            return self.refuse_unframed(data, MessageTooLarge(), source)
        plain = read_plain_request(data, source.host, source.port, self.local_sent_by)
        if plain is not None:  # the everyday shape, read in one pass
            self.metrics.requests_in[metric_method(plain.method)] += 1
            return plain
        return self.accept_in_full(data, source)

    def accept_in_full(
        self, data: bytes, source: Destination
    ) -> Request | Response | Reply | None:
        """`accept` through the full parser and checks, for any shape of message."""
        try:
            message = parse_message(data)
        except MalformedRequest as exc:
            self.metrics.requests_in[metric_method(exc.method)] += 1
            return self._refuse(exc.status, exc.reason, None, exc.headers, source)
        except RemoteProtocolError:
            self.metrics.parse_errors["dropped"] += 1
            return None
        if isinstance(message, Response):
            return self._accept_response(message)
        return self._accept_request(message, source)

    def _accept_response(self, response: Response) -> Response | None:
        self.metrics.responses_in[response.status] += 1
        try:
            response.top_via  # noqa: B018 - parsing is the check
            response.cseq  # noqa: B018
            response.call_id  # noqa: B018
        except RemoteProtocolError:
            self.metrics.parse_errors["dropped"] += 1
            return None
        return response

    def _accept_request(self, request: Request, source: Destination) -> Request | Reply | None:
        self.metrics.requests_in[metric_method(request.method)] += 1
        try:
            vias = request.vias  # parsed once here, memoised for every later layer
        except RemoteProtocolError as exc:  # answerable only if the top Via is fine
            return self._refuse(400, exc.reason, request, request.headers, source)
        if not vias or not all(request.headers.get(key) for key in ("from", "to", "call-id", "cseq")):
            self.metrics.parse_errors["dropped"] += 1
            return None
        stamp_received(request, source.host, source.port)
        try:
            check_request(request, supported=self.supported, local_sent_by=self.local_sent_by)
        except UnsupportedExtension as exc:
            extra = Headers.from_pairs([("Unsupported", ", ".join(exc.tags))])
            return self._refuse(420, exc.reason, request, request.headers, source, extra)
        except RemoteProtocolError as exc:
            return self._refuse(exc.status, exc.reason, request, request.headers, source)
        return request

    def _refuse(
        self,
        status: int,
        reason: str,
        request: Request | None,
        headers: Headers,
        source: Destination,
        extra: Headers | None = None,
    ) -> Reply | None:
        """Answer a refused request if its headers allow a response at all, else drop it."""
        if (request is not None and request.method == "ACK") or _is_ack(headers):
            return None  # never answer an ACK
        self.metrics.parse_errors[str(status)] += 1
        try:
            check_reply_headers(headers)
            via = parse_via(headers.get_list("via")[0])
            response = refusal(status, reason, request, headers, self.server, extra)
        except RemoteProtocolError:
            self.metrics.parse_errors[str(status)] -= 1
            self.metrics.parse_errors["dropped"] += 1
            return None
        self.metrics.responses_out[status] += 1
        return Reply(response.serialize(), response_destination(via, source))

    def refuse_unframed(
        self, data: bytes, error: RemoteProtocolError, source: Destination | None = None
    ) -> Reply | None:
        """Answer a message refused before parsing (oversized, unframeable) from its head alone.

        Without `source` (a stream: the reply goes back on the same connection) the returned
        destination is only nominal.
        """
        source = source or Destination("0.0.0.0", 0, "TCP")
        head, _ = split_head(data[: 16 * 1024])
        try:
            message = parse_message(head + b"\r\n\r\n")
        except MalformedRequest as exc:  # e.g. its Content-Length points past what we kept
            self.metrics.requests_in[metric_method(exc.method)] += 1
            return self._refuse(error.status, error.reason, None, exc.headers, source)
        except RemoteProtocolError:
            self.metrics.parse_errors["dropped"] += 1
            return None
        if not isinstance(message, Request):
            self.metrics.parse_errors["dropped"] += 1
            return None
        self.metrics.requests_in[metric_method(message.method)] += 1
        return self._refuse(error.status, error.reason, message, message.headers, source)


def _is_ack(headers: Headers) -> bool:
    cseq = headers.get("cseq") or ""
    return cseq.strip().upper().endswith(" ACK")
