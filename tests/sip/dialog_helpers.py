"""A caller (UAC) and a callee (UAS) dialog joined through the wire format, for dialog tests."""

from __future__ import annotations

from dataclasses import dataclass

from softswitch.sip import Request, Response, parse_message, parse_uri
from softswitch.sip.dialog import Dialog

ALICE_CONTACT = parse_uri("sip:alice@10.0.0.1:5060")
BOB_CONTACT = parse_uri("sip:bob@10.0.0.2:5062")
# Proxies prepend Record-Route: the INVITE passed p1, then p2.
RECORD_ROUTE = ("<sip:p2.example.com;lr>", "<sip:p1.example.com;lr>")


def wire(message: Request | Response) -> Request | Response:
    """Serialize and parse again: what the peer would see."""
    return parse_message(message.serialize())


def as_request(message: Request | Response) -> Request:
    parsed = wire(message)
    assert isinstance(parsed, Request)
    return parsed


def as_response(message: Request | Response) -> Response:
    parsed = wire(message)
    assert isinstance(parsed, Response)
    return parsed


def invite(
    cseq: int = 1, record_route: tuple[str, ...] = RECORD_ROUTE, contact: bool = True
) -> Request:
    lines = [
        "INVITE sip:bob@example.com SIP/2.0",
        "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK-inv1",
        "Max-Forwards: 70",
        *(f"Record-Route: {rr}" for rr in record_route),
        "From: Alice <sip:alice@example.com>;tag=atag",
        "To: Bob <sip:bob@example.com>",
        "Call-ID: dlg-1@10.0.0.1",
        f"CSeq: {cseq} INVITE",
        *(["Contact: <sip:alice@10.0.0.1:5060>"] if contact else []),
        "",
        "",
    ]
    return as_request(parse_message("\r\n".join(lines).encode()))


@dataclass
class Pair:
    """Alice's UAC dialog and Bob's UAS dialog for the same call."""

    invite: Request
    alice: Dialog
    bob: Dialog


def early_pair(**options: object) -> Pair:
    """INVITE sent, 180 Ringing with Bob's tag received: both dialogs early."""
    inv = invite()
    bob = Dialog.as_uas(inv, "btag", BOB_CONTACT, **options)  # type: ignore[arg-type]
    ringing = bob.make_response(inv, 180)
    bob.sent_response(ringing, 0.0)
    alice = Dialog.as_uac(
        inv, as_response(ringing), ALICE_CONTACT, **options  # type: ignore[arg-type]
    )
    return Pair(inv, alice, bob)


def confirmed_pair(now: float = 0.0, **options: object) -> Pair:
    """Through 200 OK and its ACK: both dialogs confirmed, nothing pending."""
    pair = early_pair(**options)
    ok = pair.bob.make_response(pair.invite, 200)
    pair.bob.sent_response(ok, now)
    pair.alice.receive_response(as_response(ok))
    pair.bob.receive_request(as_request(pair.alice.create_ack()))
    return pair
