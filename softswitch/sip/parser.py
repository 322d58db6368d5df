"""Bytes to `Request`/`Response` (RFC 3261 section 7).

The parser checks structure only (start line, header lines, Content-Length); the meaning of a
request (mandatory headers, Max-Forwards, Require, URI scheme) is judged by `validate`. When a
request is broken after its start line, `MalformedRequest` carries the headers read so far, so the
caller can still answer 400 if Via, From, To, Call-ID and CSeq are usable.
"""

from __future__ import annotations

from softswitch.sip.errors import RemoteProtocolError
from softswitch.sip.grammar import is_digits, is_token
from softswitch.sip.headers import Headers, canonical_key
from softswitch.sip.message import Request, Response
from softswitch.sip.uri import SipURI, parse_uri

__all__ = ["parse_message", "MalformedRequest", "cut_body", "known_header_key", "split_head"]


class MalformedRequest(RemoteProtocolError):
    """A request whose start line parsed but whose rest did not; `headers` may allow a reply."""

    def __init__(self, reason: str, status: int, method: str, headers: Headers) -> None:
        super().__init__(reason, status)
        self.method = method
        self.headers = headers


def split_head(data: bytes) -> tuple[bytes, bytes]:
    """Split at the empty line: (header block, body). A missing empty line means no body."""
    end = data.find(b"\r\n\r\n")
    if end >= 0:
        return data[:end], data[end + 4 :]
    end = data.find(b"\n\n")
    if end >= 0:
        return data[:end], data[end + 2 :]
    return data.rstrip(b"\r\n"), b""


def parse_message(data: bytes) -> Request | Response:
    """Parse one complete message (a datagram, or a frame cut by the stream framer)."""
    data = data.lstrip(b"\r\n")
    if not data:
        raise RemoteProtocolError("Empty message")
    head_bytes, body = split_head(data)
    head = head_bytes.decode("utf-8", "surrogateescape")
    if "\r" in head:
        head = head.replace("\r\n", "\n")
    lines = head.split("\n")
    start = lines[0]
    if start.startswith("SIP/") or start[:4].upper() == "SIP/":
        status, reason, version = _parse_status_line(start)
        headers = _parse_headers(lines)
        return Response(status, reason, headers, cut_body(headers, body), version)
    method = _request_method(start)
    if method is None:
        raise RemoteProtocolError("Neither a Request-Line nor a Status-Line")
    try:
        headers = _parse_headers(lines)
    except RemoteProtocolError as exc:
        raise MalformedRequest(exc.reason, exc.status, method, Headers()) from None
    try:
        uri_text, version = _parse_request_line(start)
    except RemoteProtocolError as exc:
        raise MalformedRequest(exc.reason, 400, method, headers) from None
    try:
        uri = parse_uri(uri_text)
    except RemoteProtocolError as exc:
        raise MalformedRequest(f"Invalid Request-URI: {exc.reason}", 400, method, headers) from None
    if isinstance(uri, SipURI) and uri.headers:
        # RFC 3261 section 19.1.1 (table 1): headers are not allowed in a Request-URI.
        raise MalformedRequest("Request-URI must not contain headers", 400, method, headers)
    if version != "SIP/2.0":
        raise MalformedRequest("Version Not Supported", 505, method, headers)
    try:
        body = cut_body(headers, body)
    except RemoteProtocolError as exc:
        raise MalformedRequest(exc.reason, exc.status, method, headers) from None
    return Request(method, uri, headers, body, version)


def _parse_request_line(line: str) -> tuple[str, str]:
    """(Request-URI text, version) of a line that `_request_method` accepted."""
    parts = line.split(" ")
    if len(parts) != 3 or not all(parts):
        raise RemoteProtocolError("Malformed Request-Line: elements must be separated by one SP")
    return parts[1], _check_version(parts[2])


def _request_method(line: str) -> str | None:
    """The method when `line` looks like a Request-Line (method SP ... SIP-Version), else None.

    Such a line is answered even when its middle is broken: RFC 4475 3.1.2.8-10 (LWS in the
    URI, extra SP between or after the elements) want a 400, which needs the headers. Anything
    else is not a request at all, and is dropped.
    """
    method, sp, rest = line.partition(" ")
    if not sp or not is_token(method):
        return None
    version = rest.rstrip(" \t").rpartition(" ")[2]
    try:
        _check_version(version)
    except RemoteProtocolError:
        return None
    return method


def _parse_status_line(line: str) -> tuple[int, str, str]:
    parts = line.split(" ", 2)
    if len(parts) < 2:
        raise RemoteProtocolError("Malformed Status-Line")
    version = _check_version(parts[0])
    code = parts[1]
    if len(code) != 3 or not is_digits(code) or not 100 <= int(code) <= 699:
        raise RemoteProtocolError("Invalid status code")
    return int(code), parts[2] if len(parts) == 3 else "", version


def _check_version(text: str) -> str:
    """Normalise the version; any well-formed SIP/x.y is returned so the caller can 505."""
    upper = text.upper()
    if upper == "SIP/2.0":
        return "SIP/2.0"
    major, dot, minor = upper[4:].partition(".")
    if upper.startswith("SIP/") and dot and is_digits(major) and is_digits(minor):
        return upper
    raise RemoteProtocolError("Invalid SIP version")


def _parse_headers(lines: list[str]) -> Headers:
    fields: list[tuple[str, str, str]] = []
    for line in lines[1:]:
        if not line:
            continue
        first = line[0]
        if first == " " or first == "\t":
            if not fields:
                raise RemoteProtocolError("Continuation line before any header")
            key, name, value = fields[-1]
            fields[-1] = (key, name, f"{value} {line.strip()}".strip())
            continue
        name, colon, value = line.partition(":")
        if not colon:
            raise RemoteProtocolError("Malformed header line")
        name = name.rstrip(" \t")
        key = _KNOWN_NAMES.get(name)
        if key is None:
            if not is_token(name):
                raise RemoteProtocolError(f"Invalid header name {name!r}")
            key = canonical_key(name)
            if len(_KNOWN_NAMES) < 1024:  # bounded: peers choose the names
                _KNOWN_NAMES[name] = key
        fields.append((key, name, value.strip()))
    return Headers(fields)


# Header names already checked to be tokens, with their keys: phones send the same dozen
# names in every message, and the check was the largest part of reading a header line.
_KNOWN_NAMES: dict[str, str] = {}


def known_header_key(name: str) -> str | None:
    """The key of a header name this parser has already accepted once, else None."""
    return _KNOWN_NAMES.get(name)


def cut_body(headers: Headers, body: bytes) -> bytes:
    """Apply Content-Length: extra bytes are dropped, missing ones are an error (RFC 3261 18.3)."""
    values = headers.get_all("content-length")
    if not values:
        return body
    lengths = {v.strip() for v in values}
    if len(lengths) > 1:
        raise RemoteProtocolError("Conflicting Content-Length headers")
    text = lengths.pop()
    if not is_digits(text) or len(text) > 9:
        raise RemoteProtocolError("Invalid Content-Length")
    length = int(text)
    if length > len(body):
        raise RemoteProtocolError("Content-Length larger than body")
    return body[:length]
