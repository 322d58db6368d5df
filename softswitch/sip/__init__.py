"""Sans-IO SIP protocol core: bytes in, messages and events out; no asyncio, no sockets, no clock.

Public surface: parse with `parse_message`, build with `Request`/`Response`/`make_response`,
judge with `check_request`. The other parts are modules of their own, imported directly:
`transaction` (RFC 3261 section 17), `dialog` and `session_timer` (section 12, RFC 4028),
`sdp` and `sdp_negotiation` (RFC 4566/3264), `digest` (RFC 7616/8760), `framing` (streams),
`inbound` (the first checks every received message meets).
"""

from softswitch.sip.builders import make_response, new_branch, new_call_id, new_tag, stamp_received
from softswitch.sip.errors import (
    LocalProtocolError,
    MessageTooLarge,
    ProtocolError,
    RemoteProtocolError,
    SipError,
    TransactionError,
)
from softswitch.sip.headers import Headers
from softswitch.sip.message import Message, Request, Response
from softswitch.sip.parser import MalformedRequest, parse_message
from softswitch.sip.uri import URI, AbsoluteURI, SipURI, TelURI, parse_uri
from softswitch.sip.validate import UnsupportedExtension, check_request
from softswitch.sip.values import Address, CSeq, Via, parse_address, parse_cseq, parse_via

__all__ = [
    "AbsoluteURI", "Address", "CSeq", "Headers", "LocalProtocolError", "MalformedRequest",
    "Message", "MessageTooLarge", "ProtocolError", "RemoteProtocolError", "Request", "Response",
    "SipError", "SipURI", "TelURI", "TransactionError", "URI", "UnsupportedExtension", "Via",
    "check_request", "make_response", "new_branch", "new_call_id", "new_tag", "parse_address",
    "parse_cseq", "parse_message", "parse_uri", "parse_via", "stamp_received",
]
