"""What transactions hand back: bytes to transmit and events for the transaction user (TU).

Every method of a transaction or of the layer returns a list of these, in the order they
happened. They are small frozen values, so a test can compare them and an adapter can queue them.
"""

from __future__ import annotations

from dataclasses import dataclass

from softswitch.sip.destination import Destination
from softswitch.sip.message import Request, Response

__all__ = [
    "AckReceived",
    "Output",
    "RequestReceived",
    "ResponseReceived",
    "StrayAck",
    "StrayResponse",
    "TransactionTerminated",
    "TransactionTimeout",
    "Transmit",
    "TransportFailure",
]


@dataclass(frozen=True, slots=True)
class Transmit:
    """Bytes for the transport adapter. `transaction_id` lets it report a failed send back with
    `TransactionLayer.transport_error` (RFC 3261 17.1.4, 17.2.4)."""

    data: bytes
    destination: Destination
    transaction_id: int

    def __post_init__(self) -> None:
        if not self.data:
            raise ValueError("Transmit needs bytes")


@dataclass(frozen=True, slots=True)
class RequestReceived:
    """A new request created a server transaction; the TU answers with `send_response`."""

    transaction_id: int
    request: Request
    source: Destination


@dataclass(frozen=True, slots=True)
class ResponseReceived:
    """A response for a client transaction, passed up (retransmissions are absorbed)."""

    transaction_id: int
    response: Response


@dataclass(frozen=True, slots=True)
class AckReceived:
    """An ACK for a 2xx matched an INVITE server transaction in Accepted (RFC 6026 8.7)."""

    transaction_id: int
    request: Request


@dataclass(frozen=True, slots=True)
class TransactionTimeout:
    """Timer B, F, H (or our C / cancel guard) fired: no answer, or no ACK, came in time."""

    transaction_id: int


@dataclass(frozen=True, slots=True)
class TransactionTerminated:
    """The transaction reached Terminated; the layer forgets it after this event."""

    transaction_id: int


@dataclass(frozen=True, slots=True)
class TransportFailure:
    """The transport reported it could not deliver this transaction's messages."""

    transaction_id: int


@dataclass(frozen=True, slots=True)
class StrayAck:
    """An ACK that matched no server transaction: an ACK for a 2xx (RFC 3261 17.2.3), or late."""

    request: Request
    source: Destination


@dataclass(frozen=True, slots=True)
class StrayResponse:
    """A response that matched no client transaction, e.g. a 2xx retransmission for an INVITE
    whose transaction is gone: the core may still ACK it (RFC 3261 17.1.1.2, 13.2.2.4)."""

    response: Response


Output = (
    Transmit
    | RequestReceived
    | ResponseReceived
    | AckReceived
    | TransactionTimeout
    | TransactionTerminated
    | TransportFailure
    | StrayAck
    | StrayResponse
)
