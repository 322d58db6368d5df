"""Python CPU per authenticated registration, with no sockets: the switch's own code alone.

Why: `register_cpu` measures the whole process under SIPp, so the kernel's loopback
delivery and the wake-ups of a shared machine are in its figure. This one starts the real
switch in this process, replaces its UDP socket's send with a list, and hands it the same
REGISTER datagrams SIPp sends (challenge, then MD5 answer, for 1,000 users), straight into
the transport manager. The figure is the event-loop thread's CPU time per registration,
the median of ``--repeats`` runs (on uvloop and after `settle_heap()`, as `softswitch run`),
also split into the challenge and the authenticated REGISTER; the last line is one JSON object.

    .venv/bin/python -m tests.bench.register_python [--registrations 5000] [--repeats 5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path

import uvloop

from softswitch.app import Switch
from softswitch.config import Config, HttpConfig, SecurityConfig, SipConfig
from softswitch.heap import settle_heap
from softswitch.sip import Response, parse_message
from softswitch.sip.destination import Destination
from softswitch.sip.digest import DigestAlgorithm, DigestChallenge, DigestCredentials, compute_ha1
from tests.bench.register import FIRST_EXTENSION, USERS, fill_directory, password

PHONE = ("127.0.0.1", 40000)


def register_bytes(extension: str, host: str, port: int, serial: int, cseq: int,
                   authorization: str = "") -> bytes:
    """What SIPp's `register_auth.xml` sends, byte for byte in shape."""
    auth = f"{authorization}\r\n" if authorization else ""
    return (
        f"REGISTER sip:{host}:{port} SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP {PHONE[0]}:{PHONE[1]};branch=z9hG4bK-{serial}-{cseq};rport\r\n"
        "Max-Forwards: 70\r\n"
        f"From: <sip:{extension}@{host}>;tag={serial}\r\n"
        f"To: <sip:{extension}@{host}>\r\n"
        f"Call-ID: {serial}-bench@{PHONE[0]}\r\n"
        f"CSeq: {cseq} REGISTER\r\n"
        f"Contact: <sip:{extension}@{PHONE[0]}:{PHONE[1]};transport=UDP>\r\n"
        f"{auth}"
        "Expires: 3600\r\n"
        "User-Agent: SIPp\r\n"
        "Content-Length: 0\r\n\r\n"
    ).encode()


def answer(challenge: bytes, extension: str, uri: str) -> str:
    """An MD5 Authorization for the 401, as SIPp answers it (the switch's own client side)."""
    response = parse_message(challenge)
    assert isinstance(response, Response) and response.status == 401, challenge[:400]
    offered = [DigestChallenge.parse(v) for v in response.headers.get_all("www-authenticate")]
    md5 = next(c for c in offered if c.algorithm is DigestAlgorithm.MD5)
    ha1 = compute_ha1(extension, md5.realm, password(int(extension) - FIRST_EXTENSION),
                      DigestAlgorithm.MD5)
    credentials = DigestCredentials.answer(md5, username=extension, ha1=ha1, method="REGISTER",
                                           uri=uri, cnonce="0a4f113b")
    return f"Authorization: {credentials.to_header()}"


class _Sent:
    """Stands in for the UDP socket's send: keeps the datagrams for the phone."""

    def __init__(self) -> None:
        self.datagrams: list[bytes] = []

    def __call__(self, data: bytes, host: str, port: int) -> None:
        self.datagrams.append(data)


async def measure(data_dir: Path, registrations: int,
                  repeats: int) -> list[tuple[float, float]]:
    config = Config(
        sip=SipConfig(host="127.0.0.1", port=0, ipv6=False),
        http=HttpConfig(host="127.0.0.1", port=0),
        security=SecurityConfig(digest_algorithms=("MD5", "SHA-256")),
        data_dir=data_dir,
    )
    switch = Switch(config)
    await switch.start()
    settle_heap()  # as `softswitch run` does after start-up
    try:
        manager = switch.transports
        udp = manager.udp[0]
        sent = _Sent()
        udp.send = sent  # type: ignore[method-assign]
        host, port = udp.local
        uri = f"sip:{host}:{port}"
        source = Destination(*PHONE, "UDP")
        serial = 0
        runs = []
        for round_ in range(repeats + 1):  # the first round warms caches and is not counted
            phones = []
            for _ in range(registrations):
                serial += 1
                phones.append((serial, str(FIRST_EXTENSION + serial % USERS)))
            firsts = [register_bytes(ext, host, port, n, 1) for n, ext in phones]
            sent.datagrams.clear()
            started = time.thread_time()
            for datagram in firsts:
                manager._on_datagram(datagram, source)
            challenge_used = time.thread_time() - started
            challenges = list(sent.datagrams)
            assert len(challenges) == registrations, len(challenges)
            seconds = [register_bytes(ext, host, port, n, 2, answer(challenge, ext, uri))
                       for (n, ext), challenge in zip(phones, challenges)]
            sent.datagrams.clear()
            started = time.thread_time()
            for at in range(0, registrations, 20):  # 20 in flight at a time, as under load
                for datagram in seconds[at:at + 20]:
                    manager._on_datagram(datagram, source)
                await asyncio.sleep(0)
            await _until_answered(sent, registrations)
            answer_used = time.thread_time() - started
            assert all(d.startswith(b"SIP/2.0 200") for d in sent.datagrams), sent.datagrams[0]
            if round_:
                runs.append((challenge_used / registrations * 1e6,
                             answer_used / registrations * 1e6))
        return runs
    finally:
        await switch.stop()


async def _until_answered(sent: _Sent, count: int) -> None:
    """Until every authenticated REGISTER has its answer (after its commit), bounded."""
    deadline = time.monotonic() + 60
    while len(sent.datagrams) < count:
        if time.monotonic() > deadline:
            raise AssertionError(f"{count - len(sent.datagrams)} REGISTERs unanswered in 60 s")
        await asyncio.sleep(0.001)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--registrations", type=int, default=5000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        data = Path(work) / "data"
        asyncio.run(fill_directory(data))
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:  # as `run` does
            runs = runner.run(measure(data, args.registrations, args.repeats))
    totals = [challenge + answer for challenge, answer in runs]
    print(json.dumps({
        "benchmark": "register_python", "registrations": args.registrations,
        "us_per_registration_runs": [round(r, 1) for r in totals],
        "us_per_registration_median": round(statistics.median(totals), 1),
        "us_challenge_median": round(statistics.median(c for c, _ in runs), 1),
        "us_answer_median": round(statistics.median(a for _, a in runs), 1),
    }))


if __name__ == "__main__":
    main()
