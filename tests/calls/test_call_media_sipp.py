"""Per-leg media figures of a live call, over a real call: SIPp phones do the signalling, the
test owns both phones' RTP sockets, and reads `/api/calls` (httpx) and `softswitch calls`."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import struct
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
from typer.testing import CliRunner

from media.rtcp import ReceiverReport, ReportBlock, serialize_rtcp
from softswitch.app import Switch
from softswitch.cli import app as cli_app
from softswitch.store import HangupSide
from softswitch.switch.call_settings import CallSettings
from tests.calls.harness import (
    Sipp,
    closed_record,
    passed,
    register,
    running_switch,
    wait_until,
)

BENCH_SCENARIOS = Path(__file__).parents[1] / "bench" / "scenarios"
USERS = {"1001": "caller-pass-a", "1002": "callee-pass-b"}
PAYLOAD = bytes(160)  # 20 ms of PCMU
HEADER = struct.Struct("!BBHII")


def _rtp_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.setblocking(False)
    return sock


async def _send_stream(sock: socket.socket, port: int, seqs: list[int], ssrc: int) -> None:
    """PCMU packets ``seqs`` (a gap is a lost packet) at 20 ms, to the switch's ``port``."""
    for seq in seqs:
        sock.sendto(HEADER.pack(0x80, 0, seq, seq * 160, ssrc) + PAYLOAD, ("127.0.0.1", port))
        await asyncio.sleep(0.02)


async def _drain(sock: socket.socket, want: int, timeout: float = 10.0) -> list[bytes]:
    """What the switch relayed to this phone, until ``want`` packets (bounded wait)."""
    got: list[bytes] = []
    deadline = time.monotonic() + timeout
    while len(got) < want and time.monotonic() < deadline:
        try:
            got.append(sock.recv(2048))
        except BlockingIOError:
            await asyncio.sleep(0.01)
    return got


async def _live(http: httpx.AsyncClient) -> list[dict[str, Any]]:
    response = await http.get("/calls")
    assert response.status_code == 200
    return response.json()


@contextlib.asynccontextmanager
async def _switch_and_api(
    tmp_path: Path, settings: CallSettings | None = None,
) -> AsyncIterator[tuple[Switch, httpx.AsyncClient]]:
    """A running switch with USERS, and an HTTP client of its API (admin token)."""
    async with running_switch(tmp_path, USERS, settings) as switch, httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{switch.http_port}/api", timeout=10,
        headers={"Authorization": f"Bearer {switch.admin_token}"},
    ) as http:
        yield switch, http


@contextlib.asynccontextmanager
async def _answered_call(
    tmp_path: Path, switch: Switch, http: httpx.AsyncClient, a_port: int, b_port: int,
) -> AsyncIterator[tuple[Sipp, Sipp, dict[str, Any]]]:
    """1001 calls 1002 (SIPp both), each announcing the given RTP port; yields both SIPps and
    the answered call as `/api/calls` lists it. Both SIPps are stopped by their PIDs after."""
    (tmp_path / "callee.csv").write_text(f"SEQUENTIAL\n{b_port};\n")
    (tmp_path / "caller.csv").write_text(
        "SEQUENTIAL\n1001;[authentication username=1001 password=caller-pass-a];"
        f"{a_port};\n")
    callee = await Sipp(str(BENCH_SCENARIOS / "rtp_uas.xml"),
                        "-inf", str(tmp_path / "callee.csv")).start()
    uac: Sipp | None = None
    try:
        await register(switch, "1002", callee.port)
        uac = await Sipp(
            "call_uac_media_port_wait_bye.xml", f"127.0.0.1:{switch.sip_port}", "-s", "1002",
            "-inf", str(tmp_path / "caller.csv"),
            "-auth_uri", f"1002@127.0.0.1:{switch.sip_port}").start()

        async def answered() -> bool:
            calls = await _live(http)
            return bool(calls) and calls[0]["state"] == "answered"

        await wait_until(answered, timeout=15)
        [call] = await _live(http)
        yield uac, callee, call
    finally:
        callee.stop()
        if uac is not None:
            uac.stop()


async def test_live_call_shows_each_legs_ports_latched_peer_packets_loss_and_jitter(
    tmp_path: Path,
) -> None:
    phone_a, phone_b, stranger = _rtp_socket(), _rtp_socket(), _rtp_socket()
    a_addr, b_addr = phone_a.getsockname(), phone_b.getsockname()
    async with _switch_and_api(tmp_path) as (switch, http):
        try:
            async with _answered_call(tmp_path, switch, http, a_addr[1], b_addr[1]) as (
                uac, callee, call,
            ):
                before_a, before_b = call["media"]["caller"], call["media"]["callee"]
                # before any RTP: the ports are the switch's, the peers are where the SDP said
                assert (before_a["remote_address"], before_a["remote_port"]) == a_addr
                assert (before_b["remote_address"], before_b["remote_port"]) == b_addr
                assert not before_a["latched"] and before_a["packets_in"] == 0
                port_a, port_b = before_a["local_port"], before_b["local_port"]
                assert port_a != port_b and before_a["local_address"] == "127.0.0.1"

                # A talks 50 packets with seq 10 missing; B talks 30; both ways through the relay
                await asyncio.gather(
                    _send_stream(phone_a, port_a, [s for s in range(50) if s != 10], 0xA),
                    _send_stream(phone_b, port_b, list(range(30)), 0xB))
                heard_by_b, heard_by_a = await _drain(phone_b, 49), await _drain(phone_a, 30)
                assert (len(heard_by_b), len(heard_by_a)) == (49, 30)
                # a stranger's packet and a runt on A's port: dropped and counted
                stranger.sendto(HEADER.pack(0x80, 0, 99, 0, 0xC) + PAYLOAD, ("127.0.0.1", port_a))
                phone_a.sendto(b"\x80\x08", ("127.0.0.1", port_a))
                # phone A's RTCP receiver report about the switch's stream to it (25 % lost)
                switch_ssrc = HEADER.unpack_from(heard_by_a[0])[4]
                report = ReceiverReport(0xA, (ReportBlock(switch_ssrc, 64, 3, 29, 80),))
                phone_a.sendto(serialize_rtcp([report]), ("127.0.0.1", port_a + 1))

                async def reported() -> bool:
                    leg = (await _live(http))[0]["media"]["caller"]
                    return leg["rtcp_received"] == 1 and leg["malformed"] == 1
                await wait_until(reported, timeout=10)
                [call] = await _live(http)
                leg_a, leg_b = call["media"]["caller"], call["media"]["callee"]
                assert call["relayed"] and leg_a["latched"] and leg_b["latched"]
                assert (leg_a["packets_in"], leg_a["packets_out"]) == (49, 30)
                assert (leg_b["packets_in"], leg_b["packets_out"]) == (30, 49)
                assert leg_a["bytes_in"] == 49 * 172 and leg_a["bytes_out"] == 30 * 172
                assert (leg_a["lost"], leg_a["loss"]) == (1, 0.02)
                assert (leg_b["lost"], leg_b["loss"]) == (0, 0.0)
                assert leg_a["jitter_ms"] >= 0 and leg_b["jitter_ms"] >= 0
                assert (leg_a["foreign"], leg_a["malformed"]) == (1, 1)
                assert (leg_a["remote_lost"], leg_a["remote_loss"], leg_a["remote_jitter_ms"]) == (
                    3, 0.25, 10.0)
                assert leg_b["remote_loss"] is None  # phone B sent no RTCP

                data = switch.config.data_dir
                url = f"http://127.0.0.1:{switch.http_port}"
                runner = CliRunner()
                as_json = await asyncio.to_thread(
                    runner.invoke, cli_app, ["calls", "--json", "--url", url, "--data", str(data)])
                assert as_json.exit_code == 0, as_json.output
                assert json.loads(as_json.output)[0]["media"]["caller"]["packets_in"] == 49
                table = await asyncio.to_thread(
                    runner.invoke, cli_app, ["calls", "--media", "--url", url, "--data", str(data)])
                assert table.exit_code == 0, table.output
                header, *rows = table.output.splitlines()
                assert "PKTS IN" in header and "JITTER ms" in header and len(rows) == 2
                caller_row = next(r for r in rows if " caller " in r)
                assert f"127.0.0.1:{port_a}" in caller_row and f"127.0.0.1:{a_addr[1]}" in caller_row
                assert "2.00" in caller_row and "25.00" in caller_row  # our loss, the peer's

                found = switch.b2bua.find(call["call_id"])
                assert found is not None
                switch.b2bua.hang_up(found, "test over")
                await passed(uac)
                await passed(callee)
        finally:
            for sock in (phone_a, phone_b, stranger):
                sock.close()


async def test_a_call_whose_phones_keep_talking_outlives_the_rtp_timeout(tmp_path: Path) -> None:
    """Dead-media detection samples each leg's packet counter: while RTP flows both ways the
    call stays up past the timeout, and it ends (cause rtp_timeout) once the phones fall silent."""
    phone_a, phone_b = _rtp_socket(), _rtp_socket()
    a_addr, b_addr = phone_a.getsockname(), phone_b.getsockname()
    settings = CallSettings(no_answer_timeout=5.0, rtp_timeout=0.4)
    async with _switch_and_api(tmp_path, settings) as (switch, http):
        try:
            async with _answered_call(tmp_path, switch, http, a_addr[1], b_addr[1]) as (
                uac, callee, call,
            ):
                port_a, port_b = call["media"]["caller"]["local_port"], call["media"]["callee"][
                    "local_port"]
                talk = list(range(60))  # 1.2 s at 20 ms: three times the timeout
                await asyncio.gather(_send_stream(phone_a, port_a, talk, 0xA),
                                     _send_stream(phone_b, port_b, talk, 0xB))
                [still] = await _live(http)
                assert still["state"] == "answered"
                record = await closed_record(switch, "1002")  # then the silence ends it
                assert record.hangup_side is HangupSide.SWITCH and record.cause == "rtp_timeout"
                assert record.answered_at is not None and record.ended_at is not None
                assert record.ended_at - record.answered_at >= 1.2
                await passed(uac)
                await passed(callee)
        finally:
            for sock in (phone_a, phone_b):
                sock.close()
