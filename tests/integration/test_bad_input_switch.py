"""Mutated but mostly parseable requests through the whole switch, over real UDP: every one
gets an answer that is not a server error, and nothing is logged as a failure.

The parser has its own fuzzers (tests/sip, tests/fuzz); this goes past the door into the
handlers: authenticated REGISTER, INVITE with SDP, SUBSCRIBE, REFER, MESSAGE and the rest, with
header values swapped for hostile ones (a `*` To and a missing Contact each reached a handler
that then failed: no answer, or a 500). Seeded and bounded: 400 requests.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable

import pytest

from softswitch.app import Switch
from softswitch.sip import Response, parse_message
from softswitch.sip.digest import DigestAlgorithm, DigestCredentials, compute_ha1
from softswitch.switch.directory import make_user
from tests.registrar.client import challenge_of
from tests.sipclient import UdpPeer

USERS = {str(3000 + n): f"long-password-{n}" for n in range(5)}
DEAD_CONTACT = "127.0.0.1:9"  # bindings point nowhere: calls to them just go unanswered
HOSTILE = [
    "", "0", "-1", "99999999999999999999", "abc", "é", "<>", "<sip:>", "*", "<*>", ";;;",
    "\"unterminated", "<sip:a@b>;q=2.5", "<sip:a@b>;expires=-5", "<sip:a@b>;expires=4294967296",
    "<tel:+123>", "<sip:a@b>;+sip.instance=\"<urn:uuid:x>\";reg-id=abc", "a" * 2000,
    "SIP/2.0/XYZ host;branch=z9hG4bKx", "99999999999 REGISTER", "text/plain", "timer, replaces",
    "3600;refresher=uac", "1;refresher=uas", "Digest", "Basic abc", "presence", "message-summary",
    "<sip:3002@127.0.0.1>;method=INVITE", "<sip:3002@127.0.0.1?Replaces=abc%3Bto-tag%3Dx>",
]
EXTRA_NAMES = ["Expires", "Require", "Supported", "Session-Expires", "Min-SE", "Event",
               "Refer-To", "Replaces", "Path", "Route", "Record-Route", "Subscription-State",
               "RAck", "Reason", "Privacy", "Referred-By"]
SDP_LINES = ["m=audio 0 RTP/AVP 0", "m=audio 99999 RTP/AVP 0", "m=audio 4000 RTP/AVP",
             "m=video 4000 RTP/AVP 96", "c=IN IP6 ::1", "c=", "a=rtpmap:0 PCMU/0", "a=sendonly",
             "a=inactive", "a=ptime:-20", "a=fmtp:101 0-99999", "v=1", "m=audio 4000 RTP/AVP 300"]
Headers = list[tuple[str, str]]
# Requests that once failed inside a handler, sent authenticated before the random ones.
KNOWN: list[tuple[str, Callable[[Headers], Headers]]] = [
    ("INVITE", lambda headers: [(n, "*" if n == "To" else v) for n, v in headers]),
    ("INVITE", lambda headers: [(n, v) for n, v in headers if n != "Contact"]),
]
METHODS = ["REGISTER", "REGISTER", "INVITE", "INVITE", "OPTIONS", "MESSAGE", "SUBSCRIBE",
           "NOTIFY", "PUBLISH", "INFO", "REFER", "BYE", "UPDATE", "PRACK"]


def _sdp(rng: random.Random) -> str:
    lines = ["v=0", "o=- 1 1 IN IP4 127.0.0.1", "s=-", "c=IN IP4 127.0.0.1", "t=0 0",
             "m=audio 40000 RTP/AVP 0 8 101", "a=rtpmap:101 telephone-event/8000"]
    for _ in range(rng.randint(0, 2)):
        lines.insert(rng.randrange(len(lines) + 1), rng.choice(SDP_LINES))
    return "\r\n".join(lines) + "\r\n"


def _request(method: str, port: int, local: int, n: int, ext: str, rng: random.Random | None,
             authorization: str = "", body: str = "",
             edit: Callable[[Headers], Headers] | None = None) -> bytes:
    """One request; with ``rng`` up to three header lines are swapped, added or removed, and
    ``edit`` changes the header lines before that."""
    target = f"sip:127.0.0.1:{port}" if method == "REGISTER" else f"sip:3002@127.0.0.1:{port}"
    headers = [
        ("Via", f"SIP/2.0/UDP 127.0.0.1:{local};branch=z9hG4bK-bad{n};rport"),
        ("Max-Forwards", "70"),
        ("From", f"<sip:{ext}@127.0.0.1>;tag=t{n}"),
        ("To", f"<sip:{ext if method == 'REGISTER' else '3002'}@127.0.0.1>"),
        ("Call-ID", f"bad-{n}@test"),
        ("CSeq", f"1 {method}"),
        ("Contact", f"<sip:{ext}@{DEAD_CONTACT}>"),
    ]
    if method in ("SUBSCRIBE", "PUBLISH", "NOTIFY"):
        headers.append(("Event", "message-summary"))
    if authorization:
        name = "Authorization" if method == "REGISTER" else "Proxy-Authorization"
        headers.append((name, authorization))
    if edit is not None:
        headers = edit(headers)
    for _ in range(rng.randint(0, 3) if rng else 0):
        at = rng.randrange(1, len(headers))  # the top Via stays: every request is answerable
        choice = rng.random()
        if choice < 0.5:
            headers[at] = (headers[at][0], rng.choice(HOSTILE))
        elif choice < 0.8:
            headers.append((rng.choice(EXTRA_NAMES), rng.choice(HOSTILE)))
        else:
            del headers[at]
    if body:
        headers.append(("Content-Type", "application/sdp"))
    head = "".join(f"{name}: {value}\r\n" for name, value in headers)
    return (f"{method} {target} SIP/2.0\r\n{head}Content-Length: {len(body.encode())}\r\n\r\n"
            f"{body}").encode()


async def _answers(peer: UdpPeer, quiet: float = 0.02) -> list[Response]:
    """The responses that arrived until the line stayed quiet for ``quiet`` seconds (requests
    the switch sends, such as an MWI NOTIFY to a subscriber, are passed over)."""
    got: list[Response] = []
    while True:
        try:
            data = await asyncio.wait_for(peer.protocol.queue.get(), quiet)
        except TimeoutError:
            return got
        if data.startswith(b"SIP/2.0 "):
            response = parse_message(data)
            assert isinstance(response, Response)
            got.append(response)


def _answer_challenge(response: Response, method: str, ext: str, port: int) -> str:
    md5 = challenge_of(response, DigestAlgorithm.MD5)
    ha1 = compute_ha1(ext, md5.realm, USERS[ext], DigestAlgorithm.MD5)
    uri = f"sip:127.0.0.1:{port}" if method == "REGISTER" else f"sip:3002@127.0.0.1:{port}"
    return DigestCredentials.answer(md5, username=ext, ha1=ha1, method=method, uri=uri,
                                    cnonce="c0ffee").to_header()


async def test_hostile_requests_get_answers_and_no_handler_fails(
    switch: Switch, caplog: pytest.LogCaptureFixture
) -> None:
    assert switch.database is not None
    for ext, pw in USERS.items():
        await switch.database.users.add(make_user(ext, pw, switch.realm))
    peer = await UdpPeer.connect(switch.sip_port)
    local = peer.local[1]
    rng = random.Random(3261)
    statuses: dict[int, int] = {}
    caplog.set_level(logging.ERROR)
    try:
        for n in range(len(KNOWN) + 400):
            method, ext = rng.choice(METHODS), rng.choice(sorted(USERS))
            edit = None
            if n < len(KNOWN):
                method, edit = KNOWN[n]
            authorization = ""
            if edit or rng.random() < 0.8:  # answer a fresh challenge, then mutate the rest
                peer.send(_request(method, switch.sip_port, local, 2 * n, ext, None))
                first = await _answers(peer)
                challenges = [r for r in first if r.status in (401, 407)]
                if challenges:
                    authorization = _answer_challenge(challenges[0], method, ext,
                                                      switch.sip_port)
            body = _sdp(rng) if method in ("INVITE", "UPDATE") else ""
            data = _request(method, switch.sip_port, local, 2 * n + 1, ext,
                            None if edit else rng, authorization, body, edit)
            peer.send(data)
            answers = await _answers(peer)
            assert answers or method in ("PRACK", "BYE") or edit is None, data  # answered
            for response in answers:
                statuses[response.status] = statuses.get(response.status, 0) + 1
                assert response.status < 500 or response.status == 503, (response.status, data)
    finally:
        peer.close()
    failures = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not failures, failures[0].getMessage()
    # It went past the door: accepted registrations and calls reached their handlers.
    assert statuses.get(200, 0) > 20 and statuses.get(400, 0) > 50, statuses
