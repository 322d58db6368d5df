"""Errors of the SIP protocol core.

Every error that a peer can cause carries the SIP status the switch should answer with, so the
layer that catches it can reply without knowing the details (h11's error_status_hint idea)::

    SipError
    ├── ProtocolError(reason, status=400)   the bytes or the message break RFC 3261
    │   ├── RemoteProtocolError             ...and a peer sent them: answer `status` if possible
    │   │   └── MessageTooLarge             size limits (status 513)
    │   └── LocalProtocolError              ...and we were about to send them: a bug of ours
    └── TransactionError                    a transaction was used in a state that forbids it
"""

from __future__ import annotations

__all__ = [
    "SipError",
    "ProtocolError",
    "RemoteProtocolError",
    "LocalProtocolError",
    "MessageTooLarge",
    "TransactionError",
]


class SipError(Exception):
    """Base of every error raised by the SIP core."""


class ProtocolError(SipError):
    """A message violates the protocol; `status` is the SIP status that best describes why."""

    def __init__(self, reason: str, status: int = 400) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


class RemoteProtocolError(ProtocolError):
    """A peer sent something malformed; answer with `status` and `reason` when it can be answered."""


class MessageTooLarge(RemoteProtocolError):
    """A message (or its header block, or its body) exceeds a configured limit."""

    def __init__(self, reason: str = "Message Too Large") -> None:
        super().__init__(reason, 513)


class LocalProtocolError(ProtocolError):
    """We tried to build or send a message that would be invalid."""


class TransactionError(SipError):
    """A transaction was asked to do something its current state does not allow."""
