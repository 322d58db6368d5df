"""A real caller (SIPp) phones 8000 on a running switch over SIP/RTP on loopback, types card,
PIN and menu keys as RFC 4733 telephone-events, and the booking is in the database after.

SIPp plays the keys from a capture this test writes (``play_pcap_audio``, RTP payload type 101
as offered in its SDP); the flow reads them with type-ahead, books through the switch's own
BookingService and hangs up, which SIPp's scenario waits for.
"""

from __future__ import annotations

import shutil
import struct
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from softswitch.app import Switch
from softswitch.store import Disposition, HangupSide
from tests.calls.harness import caller, calls_config, closed_record, running_switch

USERS = {"1001": "caller-pass-a"}
SCENARIO = Path(__file__).parent / "scenarios" / "booking_caller.xml"
EVENT_PT = 101
EVENTS = {**{str(n): n for n in range(10)}, "*": 10, "#": 11}


@pytest.fixture(autouse=True, scope="module")
def _sipp_installed() -> None:
    """Installed by `make setup`; a missing peer is a failure, never a silent skip."""
    assert shutil.which("sipp"), "sipp is missing: run `make setup` (Debian sip-tester)"


def _checksum(header: bytes) -> int:
    total = sum(struct.unpack(f"!{len(header) // 2}H", header))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def _frame(payload: bytes) -> bytes:
    """Ethernet + IPv4 + UDP around one RTP packet (SIPp rewrites addresses and ports)."""
    udp = struct.pack("!HHHH", 40000, 40000, 8 + len(payload), 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0,
                     bytes([127, 0, 0, 1]), bytes([127, 0, 0, 1]))
    ip = ip[:10] + struct.pack("!H", _checksum(ip)) + ip[12:]
    return b"\x00" * 12 + b"\x08\x00" + ip + udp


def write_keys_pcap(path: Path, keys: str, *, gap: float = 0.3, lead: float = 0.5) -> None:
    """``keys`` as RFC 4733 events (section 2.5): per key, packets every 20 ms with a growing
    duration, the marker bit on the first and the end bit on the last three, one timestamp."""
    records = []
    seq, at = 1, lead
    for n, key in enumerate(keys):
        start_ts = 8000 + n * 8000
        steps = [(160 * i, False) for i in range(1, 7)] + [(960, True)] * 3
        for i, (duration, end) in enumerate(steps):
            rtp = struct.pack("!BBHII", 0x80, (0x80 if i == 0 else 0) | EVENT_PT, seq,
                              start_ts, 0x4B455953)
            event = struct.pack("!BBH", EVENTS[key], (0x80 if end else 0) | 10, duration)
            frame = _frame(rtp + event)
            t = at + 0.02 * i
            records.append(struct.pack("<IIII", int(t), int((t % 1) * 1e6), len(frame),
                                       len(frame)) + frame)
            seq += 1
        at += gap
    header = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)  # Ethernet
    path.write_bytes(header + b"".join(records))


async def phone_8000(switch: Switch, tmp_path: Path, account: tuple[str, str],
                     keys: str) -> None:
    """One SIPp call to 8000 that types ``keys`` and waits for the flow to hang up."""
    pcap = tmp_path / "keys.pcap"
    write_keys_pcap(pcap, keys)
    scenario = tmp_path / "booking_caller.xml"
    scenario.write_text(SCENARIO.read_text().replace("KEYS_PCAP", str(pcap)))
    uac = caller(str(scenario), switch.sip_port, *account, "8000", tmp_path)
    uac.args += ["-timeout", "90s"]
    try:
        await uac.start()
        code, out = await uac.wait(timeout=90)
    finally:
        uac.stop()
    assert code == 0, out[-3000:]
    record = await closed_record(switch, "8000")
    assert record.disposition is Disposition.ANSWERED
    assert record.hangup_side is HangupSide.SWITCH  # the flow ended the call


@pytest.fixture
async def switch(tmp_path: Path) -> AsyncIterator[Switch]:
    async with running_switch(tmp_path, USERS) as sw:
        yield sw


async def test_the_switch_registers_its_built_in_flows(switch: Switch) -> None:
    from softswitch.app import BUILTIN_FLOWS

    for name in BUILTIN_FLOWS:
        assert switch.flow_registry.info_for(name).source == "builtin"


@pytest.mark.peer
async def test_a_caller_books_a_general_clinic_by_phone_with_rfc4733_keys(
        switch: Switch, tmp_path: Path) -> None:
    service = switch.booking
    assert service is not None
    today = service.today()
    await service.set_department("im", digit="1", name_zh="内科", name_en="internal medicine",
                                 general_fee="10.00")
    session = await service.set_session(kind="general", department="im", on=today,
                                        half="morning", capacity=20)
    await service.add_card("10001", "123456", "张三", balance="100.00")

    # card, PIN, general clinic, internal medicine, confirm, book, finish
    await phone_8000(switch, tmp_path, ("1001", USERS["1001"]), "10001#123456#" + "11112")

    [booking] = await service.appointments("10001")
    assert (booking.kind, booking.department, booking.date, booking.half) == (
        "general", "im", today, "morning")
    assert booking.fee == Decimal("10.00") and booking.balance_after == Decimal("90.00")
    card = await service.card("10001")
    assert card is not None and card.balance == Decimal("90.00")
    found = await service.session(session.id)
    assert found is not None and found.booked == 1
    # the department's name was spoken through TTS and cached under the data directory
    assert list((switch.config.data_dir / "tts" / "zh").glob("*.wav"))


@pytest.mark.peer
async def test_the_demo_hospital_books_an_expert_by_phone(tmp_path: Path) -> None:
    """`softswitch run --demo`: a demo phone dials 8000 and books tomorrow's ENT expert."""
    from softswitch.flows.tts import TextToSpeech

    switch = Switch(replace(calls_config(tmp_path), demo=True))
    await switch.start()
    try:
        service = switch.booking
        assert service is not None
        tomorrow = service.today() + timedelta(days=1)
        # card 10004, PIN, expert clinic, ENT + confirm, tomorrow + confirm, expert 2, book,
        # finish
        await phone_8000(switch, tmp_path, ("1001", "ward3-nurses"),
                         "10004#246810#" + "2" + "31" + "21" + "2" + "1" + "2")
        [booking] = await service.appointments("10004")
        assert (booking.kind, booking.department, booking.expert, booking.date,
                booking.half) == ("expert", "ent", "杨帆", tomorrow, "afternoon")
        assert booking.balance_after == Decimal("970.00")
        # the experts' names were rendered once and cached for the next caller
        cache = TextToSpeech(switch.config.data_dir / "tts")
        for name in ("陈静", "杨帆"):
            assert cache.cache_path(name, "zh").is_file()
    finally:
        await switch.stop()
