"""The SIP text of a transfer, sans-IO: Refer-To (RFC 3515), Replaces (RFC 3891) and the
message/sipfrag bodies of the NOTIFYs that report a REFER's progress (RFC 3515 section 2.4.5).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote

from softswitch.sip.dialog import DialogId
from softswitch.sip.errors import RemoteProtocolError
from softswitch.sip.message import Request
from softswitch.sip.uri import SipURI
from softswitch.sip.values import parse_address

__all__ = ["ReferTarget", "ReplacesTarget", "TransferError", "notify_headers",
           "parse_refer_to", "parse_replaces", "sipfrag"]

SIPFRAG = "message/sipfrag;version=2.0"


class TransferError(Exception):
    """A REFER or an INVITE with Replaces that is refused with ``status`` and ``reason``."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(f"{status} {reason}")
        self.status = status
        self.reason = reason


@dataclass(frozen=True, slots=True)
class ReplacesTarget:
    """The dialog a Replaces names, with tags as its recipient (the switch) sees them: the
    to-tag is ours, the from-tag the phone's (RFC 3891 section 3)."""

    call_id: str
    to_tag: str
    from_tag: str
    early_only: bool = False

    @property
    def dialog_id(self) -> DialogId:
        return DialogId(self.call_id, self.to_tag, self.from_tag)


@dataclass(frozen=True, slots=True)
class ReferTarget:
    """Where a REFER sends the transferee: a number, and for an attended transfer the
    dialog its Replaces names."""

    number: str
    replaces: ReplacesTarget | None


def parse_replaces(value: str) -> ReplacesTarget:
    """``callid;to-tag=..;from-tag=..[;early-only]`` (RFC 3891 section 6.1); both tags are
    required. Raises TransferError(400)."""
    call_id, *params = [part.strip() for part in value.strip().split(";")]
    tags: dict[str, str] = {}
    early_only = False
    for param in params:
        name, _, tag = param.partition("=")
        name = name.strip().lower()
        if name in ("to-tag", "from-tag"):
            tags[name] = tag.strip()
        elif name == "early-only":
            early_only = True
    if not call_id or not tags.get("to-tag") or not tags.get("from-tag"):
        raise TransferError(400, "Replaces needs a Call-ID, to-tag and from-tag")
    return ReplacesTarget(call_id, tags["to-tag"], tags["from-tag"], early_only)


def parse_refer_to(request: Request) -> ReferTarget:
    """The one Refer-To of a REFER (RFC 3515 section 2.4.1: missing or several is a 400): a
    SIP URI naming a number, with an escaped Replaces header for an attended transfer."""
    values = request.headers.get_all("refer-to")
    if len(values) != 1:
        raise TransferError(400, "a REFER needs exactly one Refer-To")
    try:
        uri = parse_address(values[0]).uri
    except RemoteProtocolError:
        raise TransferError(400, "Refer-To is not a valid address") from None
    if not isinstance(uri, SipURI) or not uri.user:
        raise TransferError(400, "Refer-To must be a SIP URI with a number")
    replaces = None
    for header in uri.headers.split("&") if uri.headers else []:
        name, _, value = header.partition("=")
        if name.strip().lower() == "replaces":
            replaces = parse_replaces(unquote(value))
    return ReferTarget(unquote(uri.user), replaces)


def sipfrag(status: int, reason: str) -> bytes:
    """The status line a NOTIFY reports (RFC 3515 section 2.4.5)."""
    return f"SIP/2.0 {status} {reason}\r\n".encode()


def notify_headers(final: bool, expires: int = 60) -> list[tuple[str, str]]:
    """Event and Subscription-State of the REFER's implicit subscription."""
    state = "terminated;reason=noresource" if final else f"active;expires={expires}"
    return [("Event", "refer"), ("Subscription-State", state)]
