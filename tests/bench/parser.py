"""SIP parser microbenchmark: messages parsed + serialized per second, one core, no I/O.

Two typical messages: an INVITE with an SDP offer (two Vias, Record-Route, Contact, Allow,
Supported) and a REGISTER with a Digest Authorization. Besides bare parse + serialize, the
"receive" figure adds what a transport does to every request (the typed accessors and
`check_request`). Each figure is the median of 5 runs; the last line is one JSON object.
``accept_distinct_register_us`` is the CPU per request of `InboundFilter.accept` over 20,000
distinct REGISTERs (no memo hits a repeated message would give).

    .venv/bin/python -m tests.bench.parser [--seconds 0.5]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from collections.abc import Callable

from softswitch.metrics import SwitchMetrics
from softswitch.sip import Request, check_request, parse_message
from softswitch.sip.destination import Destination
from softswitch.sip.inbound import InboundFilter
from tests.bench.register_python import register_bytes

SDP = (
    b"v=0\r\n"
    b"o=ward7 2890844526 2890844526 IN IP4 192.0.2.10\r\n"
    b"s=-\r\n"
    b"c=IN IP4 192.0.2.10\r\n"
    b"t=0 0\r\n"
    b"m=audio 49170 RTP/AVP 0 8 9 101\r\n"
    b"a=rtpmap:0 PCMU/8000\r\n"
    b"a=rtpmap:8 PCMA/8000\r\n"
    b"a=rtpmap:9 G722/8000\r\n"
    b"a=rtpmap:101 telephone-event/8000\r\n"
    b"a=fmtp:101 0-16\r\n"
    b"a=ptime:20\r\n"
    b"a=sendrecv\r\n"
)

INVITE = (
    b"INVITE sip:8000@switch.clinic.example.com SIP/2.0\r\n"
    b"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776asdhds;rport\r\n"
    b"Via: SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bK4b43c2ff8.1;received=198.51.100.7\r\n"
    b"Record-Route: <sip:198.51.100.7;lr>\r\n"
    b"Max-Forwards: 69\r\n"
    b'From: "Ward 7 Nurse" <sip:2107@clinic.example.com>;tag=1928301774\r\n'
    b"To: <sip:8000@clinic.example.com>\r\n"
    b"Call-ID: a84b4c76e66710@192.0.2.10\r\n"
    b"CSeq: 314159 INVITE\r\n"
    b"Contact: <sip:2107@192.0.2.10:5060;transport=udp>\r\n"
    b"Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, REFER, NOTIFY, UPDATE\r\n"
    b"Supported: replaces, timer, 100rel\r\n"
    b"User-Agent: WardPhone/2.1\r\n"
    b"Content-Type: application/sdp\r\n"
    b"Content-Length: " + str(len(SDP)).encode() + b"\r\n\r\n" + SDP
)

REGISTER = (
    b"REGISTER sip:clinic.example.com SIP/2.0\r\n"
    b"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKnashds7;rport\r\n"
    b"Max-Forwards: 70\r\n"
    b"From: <sip:2107@clinic.example.com>;tag=a73kszlfl\r\n"
    b"To: <sip:2107@clinic.example.com>\r\n"
    b"Call-ID: 1j9FpLxk3uxtm8tn@192.0.2.10\r\n"
    b"CSeq: 2 REGISTER\r\n"
    b"Contact: <sip:2107@192.0.2.10:5060;transport=udp>;expires=3600;"
    b'+sip.instance="<urn:uuid:00000000-0000-1000-8000-000a95a0e128>"\r\n'
    b'Authorization: Digest username="2107", realm="clinic.example.com", '
    b'nonce="ea9c8e88df84f1cec4341ae6cbe5a359", uri="sip:clinic.example.com", '
    b'response="dfe56131d1958046689d83306477ecc", algorithm=MD5, qop=auth, nc=00000001, '
    b'cnonce="0a4f113b"\r\n'
    b"Expires: 3600\r\n"
    b"User-Agent: WardPhone/2.1\r\n"
    b"Content-Length: 0\r\n\r\n"
)

SUPPORTED = frozenset({"replaces", "timer", "100rel", "path", "outbound"})


def parse_and_serialize(data: bytes) -> None:
    parse_message(data).serialize()


def receive(data: bytes) -> None:
    """What the receive path does with a request before a transaction sees it."""
    message = parse_message(data)
    assert isinstance(message, Request)
    message.top_via  # noqa: B018
    message.from_  # noqa: B018
    message.to  # noqa: B018
    message.call_id  # noqa: B018
    check_request(message, supported=SUPPORTED)
    message.serialize()


def rate(work: Callable[[bytes], None], data: bytes, seconds: float) -> float:
    """Messages per second over batches until `seconds` have passed."""
    work(data)
    count = 0
    start = time.perf_counter()
    deadline = start + seconds
    while True:
        for _ in range(200):
            work(data)
        count += 200
        now = time.perf_counter()
        if now >= deadline:
            return count / (now - start)


def accept_us(count: int = 20_000) -> float:
    """µs of thread CPU per request through `InboundFilter.accept` (the transports' door: the
    plain reader, or the full parse and checks) over ``count`` distinct REGISTERs of 1,000
    phones, half with a Digest answer, as SIPp's `register_auth.xml` sends them; best of 5."""
    authorization = (
        'Authorization: Digest username="{e}", realm="softswitch", nonce="bm9uY2V7bn0{n}", '
        'uri="sip:127.0.0.1:5060", response="0123456789abcdef0123456789abcdef", '
        'algorithm=MD5, qop=auth, nc=00000001, cnonce="0a4f113b", opaque="abc"')
    messages = []
    for n in range(count):
        extension = str(3000 + n % 1000)
        messages.append(register_bytes(extension, "127.0.0.1", 5060, n, 1 + n % 2,
                                       authorization.format(e=extension, n=n) if n % 2 else ""))
    door = InboundFilter(SwitchMetrics(), supported=SUPPORTED)
    source = Destination("127.0.0.1", 40000, "UDP")
    best = float("inf")
    for _ in range(5):
        start = time.thread_time()
        for data in messages:
            door.accept(data, source)
        best = min(best, (time.thread_time() - start) / count * 1e6)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=0.5, help="length of each of the 5 runs")
    args = parser.parse_args()
    figures: dict[str, object] = {"bench": "sip_parser", "python": platform.python_version()}
    for label, data in (("invite", INVITE), ("register", REGISTER)):
        for kind, work in (("parse_serialize", parse_and_serialize), ("receive", receive)):
            runs = [rate(work, data, args.seconds) for _ in range(5)]
            median = statistics.median(runs)
            shown = ", ".join(f"{r:.0f}" for r in runs)
            print(f"{label:8} {kind:16} {median:10.0f} msg/s  (runs: {shown})")
            figures[f"{label}_{kind}_per_s"] = round(median)
        figures[f"{label}_bytes"] = len(data)
    figures["accept_distinct_register_us"] = round(accept_us(), 1)
    print(f"accept, 20,000 distinct REGISTERs: {figures['accept_distinct_register_us']} us each")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
