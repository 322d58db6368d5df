"""Multicast paging on loopback: a paging group with a multicast address sends the page's RTP
there; a receiver socket joined to the group on 127.0.0.1 (as a paging speaker would be on
the LAN) hears the caller's voice, alongside the group's SIP phones."""

from __future__ import annotations

import asyncio
import socket
import struct
from pathlib import Path

from tests.calls.harness import wait_until
from tests.features.paging_kit import PhoneBook, start_switch, tone_share
from tests.process import free_port

GROUP = "239.255.77.1"


def even_free_port() -> int:
    for _ in range(50):
        port = free_port()
        if port % 2 == 0:
            return port
    raise AssertionError("no even free port")


def multicast_receiver(port: int) -> socket.socket:
    """A speaker: bound to the group's port, joined to the group on the loopback interface."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((GROUP, port))
    sock.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP,
                    struct.pack("4s4s", socket.inet_aton(GROUP), socket.inet_aton("127.0.0.1")))
    sock.setblocking(False)
    return sock


def drain(sock: socket.socket, into: list[bytes]) -> None:
    while True:
        try:
            data = sock.recv(2048)
        except BlockingIOError:
            return
        if len(data) > 12 and data[1] & 0x7F == 0:  # PCMU RTP
            into.append(data[12:])


async def test_multicast_group_hears_the_page_with_the_sip_phones(tmp_path: Path) -> None:
    port = even_free_port()
    speaker = multicast_receiver(port)
    switch = await start_switch(tmp_path, {
        "dialplan": {"paging": {"621": "all", "623": "ward3"}},
        "paging": {"groups": {"ward3": {"members": ["1002"],
                                        "multicast": f"{GROUP}:{port}"}}},
    }, rights={"1001": ("paging",)})
    book = PhoneBook(switch)
    heard: list[bytes] = []
    try:
        ward_phone = await book.answering("1002")
        elsewhere = await book.answering("1004")  # not in ward3
        caller = await book.caller("1001")
        assert (await caller.dial("623")).status == 200
        caller.talk(1000.0)

        async def speaker_heard_enough() -> bool:
            drain(speaker, heard)
            return len(heard) >= 75 and len(ward_phone.rtp) >= 60

        await wait_until(speaker_heard_enough, 8)
        assert tone_share(heard[-25:], 1000.0) > 0.8
        assert tone_share(ward_phone.rtp[-25:], 1000.0) > 0.8
        assert elsewhere.invites == []
        assert switch.paging is not None
        assert switch.paging.pages()[0]["multicast"] == f"{GROUP}:{port}"
        caller.hang_up()
        await ward_phone.wait_for("bye")
        await asyncio.sleep(0.3)
        drain(speaker, heard)
        count = len(heard)
        await asyncio.sleep(0.4)
        drain(speaker, heard)
        assert len(heard) == count, "the multicast stream stops with the page"
    finally:
        speaker.close()
        book.close()
        await switch.stop()


async def test_multicast_only_group_pages_speakers_without_any_phone(tmp_path: Path) -> None:
    port = even_free_port()
    speaker = multicast_receiver(port)
    switch = await start_switch(tmp_path, {
        "dialplan": {"paging": {"621": "all", "624": "speakers"}},
        "paging": {"groups": {"speakers": {"multicast": f"{GROUP}:{port}"}}},
    }, rights={"1001": ("paging",)})
    book = PhoneBook(switch)
    heard: list[bytes] = []
    try:
        caller = await book.caller("1001")
        assert (await caller.dial("624")).status == 200
        caller.talk(1000.0)

        async def speaker_heard_enough() -> bool:
            drain(speaker, heard)
            return len(heard) >= 75

        await wait_until(speaker_heard_enough, 8)
        assert tone_share(heard[-25:], 1000.0) > 0.8
        caller.hang_up()
    finally:
        speaker.close()
        book.close()
        await switch.stop()
