"""Cutting a TCP/TLS byte stream into SIP messages (RFC 3261 section 18.3), sans-IO.

Content-Length is mandatory on streams. Limits on the header block and the body keep one bad
connection from holding memory; RFC 5626 keep-alives (CRLFCRLF ping, CRLF pong) are reported
separately so the transport can answer them.
"""

from __future__ import annotations

from dataclasses import dataclass

from softswitch.sip.errors import MessageTooLarge, RemoteProtocolError

__all__ = ["StreamFramer", "KeepAlivePing", "Frame"]


@dataclass(frozen=True, slots=True)
class KeepAlivePing:
    """A double CRLF between messages: the peer asks for a single CRLF pong."""


Frame = bytes | KeepAlivePing


class StreamFramer:
    """Feed bytes with `feed`, get complete message frames back."""

    def __init__(self, max_header_bytes: int = 16 * 1024, max_body_bytes: int = 64 * 1024) -> None:
        self.max_header_bytes = max_header_bytes
        self.max_body_bytes = max_body_bytes
        self._buffer = bytearray()

    @property
    def buffered(self) -> int:
        return len(self._buffer)

    def pending(self, limit: int = 4096) -> bytes:
        """The start of the unframed bytes (to answer a broken message before closing)."""
        return bytes(self._buffer[:limit])

    def feed(self, data: bytes) -> list[Frame]:
        """Add bytes; return every complete frame. Raises on a framing error (close after)."""
        self._buffer += data
        frames: list[Frame] = []
        while True:
            frame = self._next_frame()
            if frame is None:
                return frames
            frames.append(frame)

    def _next_frame(self) -> Frame | None:
        buf = self._buffer
        if not buf:
            return None
        if buf[0] in (0x0D, 0x0A):
            return self._keepalive()
        end = buf.find(b"\r\n\r\n")
        if end < 0:
            if len(buf) > self.max_header_bytes:
                raise MessageTooLarge("Header block too large")
            return None
        if end > self.max_header_bytes:
            raise MessageTooLarge("Header block too large")
        length = _content_length(bytes(buf[:end]))
        if length > self.max_body_bytes:
            raise MessageTooLarge("Body too large")
        total = end + 4 + length
        if len(buf) < total:
            return None
        frame = bytes(buf[:total])
        del buf[:total]
        return frame

    def _keepalive(self) -> Frame | None:
        buf = self._buffer
        if buf.startswith(b"\r\n\r\n"):
            del buf[:4]
            return KeepAlivePing()
        if buf in (b"\r", b"\r\n", b"\r\n\r"):
            return None  # wait: could still become a ping
        # A lone CRLF (a pong, or stray line ends): skip it.
        stripped = buf.lstrip(b"\r\n")
        del buf[: len(buf) - len(stripped)]
        return self._next_frame()


def _content_length(head: bytes) -> int:
    for line in head.split(b"\r\n")[1:]:
        name, colon, value = line.partition(b":")
        if colon and name.strip().lower() in (b"content-length", b"l"):
            text = value.strip()
            if not text.isdigit() or len(text) > 9:
                raise RemoteProtocolError("Invalid Content-Length")
            return int(text)
    raise RemoteProtocolError("Missing Content-Length on a stream transport")
