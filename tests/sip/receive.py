"""What a transport does with one received datagram, reduced to an outcome a test can compare.

It mirrors the receive path the transports take (size limit, `parse_message`, `check_request`,
stateless refusal with `make_response`) so the torture corpus and the fuzzers judge the parser
through the same door as real traffic. The outcome is one of:

- ``accept``: a request that passed the checks, or a response that a transaction could match;
- ``reply``: a request refused statelessly with `status` (the response is built and serialized);
- ``drop``: garbage, a malformed response, or a request that cannot be answered (no parseable
  top Via to send it to, or no From/To/Call-ID/CSeq to copy: RFC 3261 section 8.2.6.2), and
  every refused ACK (RFC 3261 section 17.1.1.3: an ACK is never answered).

Only `ProtocolError` is an expected failure here; any other exception escapes to the caller,
which is exactly what the fuzzers look for.
"""

from __future__ import annotations

from dataclasses import dataclass

from softswitch.sip import (
    Headers,
    MalformedRequest,
    MessageTooLarge,
    ProtocolError,
    Request,
    Response,
    UnsupportedExtension,
    check_request,
    make_response,
    parse_message,
)
from softswitch.sip.parser import split_head
from softswitch.sip.validate import check_reply_headers

__all__ = [
    "Outcome",
    "receive",
    "exercise",
    "same_fields",
    "SUPPORTED",
    "LOCAL_SENT_BY",
    "MAX_DATAGRAM",
]

SUPPORTED = frozenset({"path", "outbound", "timer", "100rel", "replaces"})
LOCAL_SENT_BY = frozenset({("switch.clinic.example.com", 5060)})
MAX_DATAGRAM = 65535


@dataclass(frozen=True, slots=True)
class Outcome:
    kind: str  # "accept" | "reply" | "drop"
    status: int | None = None
    reason: str = ""
    message: Request | Response | None = None
    wire: bytes = b""  # the serialized reply, or the re-serialized accepted message


def receive(data: bytes, *, max_size: int = MAX_DATAGRAM) -> Outcome:
    """Run one datagram through the receive path and say what would happen to it."""
    if len(data) > max_size:
        return _refuse_oversized(data)
    try:
        message = parse_message(data)
    except MalformedRequest as exc:
        return _refuse(exc.status, exc.reason, exc.method, exc.headers)
    except ProtocolError as exc:
        return Outcome("drop", reason=exc.reason)
    if isinstance(message, Response):
        try:  # what a client transaction needs to match it (RFC 3261 17.1.3)
            message.top_via  # noqa: B018 - parsing is the check
            message.cseq  # noqa: B018
            message.call_id  # noqa: B018
        except ProtocolError as exc:
            return Outcome("drop", reason=exc.reason)
        return Outcome("accept", message=message, wire=message.serialize())
    try:
        check_request(message, supported=SUPPORTED, local_sent_by=LOCAL_SENT_BY)
    except UnsupportedExtension as exc:
        extra = Headers.from_pairs([("Unsupported", ", ".join(exc.tags))])
        return _refuse(420, exc.reason, message.method, message.headers, extra)
    except ProtocolError as exc:
        return _refuse(exc.status, exc.reason, message.method, message.headers)
    return Outcome("accept", message=message, wire=message.serialize())


def _refuse(
    status: int, reason: str, method: str, headers: Headers, extra: Headers | None = None
) -> Outcome:
    if method == "ACK":
        return Outcome("drop", status, reason)
    try:
        check_reply_headers(headers)
    except ProtocolError:
        return Outcome("drop", status, reason)
    response = make_response(None, status, reason, request_headers=headers, headers=extra)
    return Outcome("reply", status, reason, response, response.serialize())


def _refuse_oversized(data: bytes) -> Outcome:
    """513 from the header block alone, as a transport does before parsing a huge body."""
    head, _ = split_head(data[: 16 * 1024])
    error = MessageTooLarge()
    try:
        message = parse_message(head + b"\r\n\r\n")
    except MalformedRequest as exc:  # its Content-Length points past the part we kept
        return _refuse(error.status, error.reason, exc.method, exc.headers)
    except ProtocolError as exc:
        return Outcome("drop", reason=exc.reason)
    if not isinstance(message, Request):
        return Outcome("drop", reason="oversized response")
    return _refuse(error.status, error.reason, message.method, message.headers)



def exercise(data: bytes, *, max_size: int = MAX_DATAGRAM) -> Outcome:
    """`receive`, plus the promises a fuzzer checks: what we send or forward parses again.

    A reply we built must parse as a response with our status, and an accepted message must
    survive serialize -> parse with the same headers (serialize adds or fixes Content-Length)
    and body. Raises AssertionError (or any unexpected exception) when a promise breaks.
    """
    outcome = receive(data, max_size=max_size)
    if outcome.kind == "reply":
        reply = parse_message(outcome.wire)
        assert isinstance(reply, Response) and reply.status == outcome.status, outcome.wire
    elif outcome.kind == "accept":
        assert outcome.message is not None
        again = parse_message(outcome.wire)
        assert same_fields(again.headers, outcome.message.headers), outcome.wire
        assert again.body == outcome.message.body, outcome.wire
        assert again.serialize() == outcome.wire
    return outcome


def same_fields(a: Headers, b: Headers) -> bool:
    """Equal header fields in order, Content-Length aside (serialize() rewrites it)."""
    return [f for f in a.fields() if f[0] != "content-length"] == [
        f for f in b.fields() if f[0] != "content-length"
    ]
