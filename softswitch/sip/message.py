"""SIP requests and responses: mutable containers with typed accessors and a serializer.

The typed accessors (`vias`, `from_`, `to`, `cseq`, ...) parse the header text on first use and
keep the result until the headers change (`Headers.memo`); parsed values are immutable. `serialize()` always writes a correct Content-Length.
"""

from __future__ import annotations

from softswitch.sip.errors import RemoteProtocolError
from softswitch.sip.headers import Headers
from softswitch.sip.uri import URI
from softswitch.sip.values import (
    Address,
    CSeq,
    Via,
    parse_address,
    parse_cseq,
    parse_name_addr,
    parse_via,
)

__all__ = ["KNOWN_METHODS", "Message", "Request", "Response", "REASON_PHRASES", "SIP_VERSION"]

SIP_VERSION = "SIP/2.0"

# The methods of RFC 3261 and its extensions that the switch knows by name.
KNOWN_METHODS = frozenset({
    "ACK", "BYE", "CANCEL", "INFO", "INVITE", "MESSAGE", "NOTIFY", "OPTIONS", "PRACK",
    "PUBLISH", "REFER", "REGISTER", "SUBSCRIBE", "UPDATE",
})

REASON_PHRASES: dict[int, str] = {
    100: "Trying", 180: "Ringing", 181: "Call Is Being Forwarded", 182: "Queued",
    183: "Session Progress", 200: "OK", 202: "Accepted", 204: "No Notification",
    300: "Multiple Choices", 301: "Moved Permanently", 302: "Moved Temporarily",
    305: "Use Proxy", 380: "Alternative Service", 400: "Bad Request", 401: "Unauthorized",
    402: "Payment Required", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed",
    406: "Not Acceptable", 407: "Proxy Authentication Required", 408: "Request Timeout",
    410: "Gone", 413: "Request Entity Too Large", 414: "Request-URI Too Long",
    415: "Unsupported Media Type", 416: "Unsupported URI Scheme", 420: "Bad Extension",
    421: "Extension Required", 422: "Session Interval Too Small", 423: "Interval Too Brief",
    429: "Too Many Requests", 480: "Temporarily Unavailable",
    481: "Call/Transaction Does Not Exist", 482: "Loop Detected", 483: "Too Many Hops",
    484: "Address Incomplete", 485: "Ambiguous", 486: "Busy Here", 487: "Request Terminated",
    488: "Not Acceptable Here", 489: "Bad Event", 491: "Request Pending", 493: "Undecipherable",
    500: "Server Internal Error", 501: "Not Implemented", 502: "Bad Gateway",
    503: "Service Unavailable", 504: "Server Time-out", 505: "Version Not Supported",
    513: "Message Too Large", 600: "Busy Everywhere", 603: "Decline",
    604: "Does Not Exist Anywhere", 606: "Not Acceptable",
}


class Message:
    """What requests and responses share: headers, body and typed header accessors."""

    __slots__ = ("headers", "body")

    headers: Headers
    body: bytes

    def start_line(self) -> str:
        raise NotImplementedError

    # -- typed accessors -------------------------------------------------------------------
    @property
    def vias(self) -> list[Via]:
        return self.headers.memo(
            "vias", lambda: [parse_via(v) for v in self.headers.get_list("via")]
        )

    @property
    def top_via(self) -> Via:
        vias = self.vias
        if not vias:
            raise RemoteProtocolError("Missing Via")
        return vias[0]

    @property
    def from_(self) -> Address:
        return self.headers.memo("from", lambda: parse_name_addr(self._required("from")))

    @property
    def to(self) -> Address:
        return self.headers.memo("to", lambda: parse_name_addr(self._required("to")))

    @property
    def call_id(self) -> str:
        return self._required("call-id").strip()

    @property
    def cseq(self) -> CSeq:
        return self.headers.memo("cseq", lambda: parse_cseq(self._required("cseq")))

    @property
    def contacts(self) -> list[Address]:
        return self.headers.memo(
            "contacts", lambda: [parse_address(v) for v in self.headers.get_list("contact")]
        )

    @property
    def content_type(self) -> str | None:
        value = self.headers.get("content-type")
        return value.split(";", 1)[0].strip().lower() if value else None

    def _required(self, key: str) -> str:
        value = self.headers.get(key)
        if value is None:
            raise RemoteProtocolError(f"Missing {key.title()} header")
        return value

    # -- wire format -----------------------------------------------------------------------
    def serialize(self) -> bytes:
        """Wire bytes; Content-Length is rewritten (or added) to match the body."""
        lines = [self.start_line()]
        length_written = False
        body_len = len(self.body)
        for key, name, value in self.headers.fields():
            if key == "content-length":
                if length_written:
                    continue
                value = str(body_len)
                length_written = True
            lines.append(f"{name}: {value}")
        if not length_written:
            lines.append(f"Content-Length: {body_len}")
        lines.append("")
        lines.append("")
        head = "\r\n".join(lines).encode("utf-8", "surrogateescape")
        return head + self.body if self.body else head

    def __bytes__(self) -> bytes:
        return self.serialize()


class Request(Message):
    __slots__ = ("method", "uri", "version")

    def __init__(
        self,
        method: str,
        uri: URI,
        headers: Headers | None = None,
        body: bytes = b"",
        version: str = SIP_VERSION,
    ) -> None:
        self.method = method
        self.uri = uri
        self.headers = headers if headers is not None else Headers()
        self.body = body
        self.version = version

    def start_line(self) -> str:
        return f"{self.method} {self.uri} {self.version}"

    def __repr__(self) -> str:
        return f"<Request {self.method} {self.uri}>"


class Response(Message):
    __slots__ = ("status", "reason", "version")

    def __init__(
        self,
        status: int,
        reason: str | None = None,
        headers: Headers | None = None,
        body: bytes = b"",
        version: str = SIP_VERSION,
    ) -> None:
        self.status = status
        self.reason = reason if reason is not None else REASON_PHRASES.get(status, "Unknown")
        self.headers = headers if headers is not None else Headers()
        self.body = body
        self.version = version

    def start_line(self) -> str:
        return f"{self.version} {self.status} {self.reason}"

    @property
    def provisional(self) -> bool:
        return self.status < 200

    def __repr__(self) -> str:
        return f"<Response {self.status} {self.reason}>"
