"""Benchmark: meet-me conference rooms filled with real SIP participants (SIPp with RTP).

The switch runs as its own process (`softswitch run`); one SIPp process places every call
(digest-authenticated INVITE to room 9000 + i // room_size) and streams G.711 µ-law into it
for the whole call (SIPp's rtp_stream, one RTP port per call); the switch's conference flow
answers, announces, joins the room's mixing bridge and mixes N-1 for everyone on its 20 ms
clock. At each step, once every participant is in a room (seen through /api/conferences),
the switch process's CPU is measured over a window; then SIPp hangs up every call.

A step passes when every participant joined and stayed to the end of the window, every SIPp
call completed (exit code 0), and the switch used under 95 % of one core. The same run also
measures the media engine's mixing alone (no SIP, no sockets) for the same room size, the
in-process floor the SIP figure is compared with. Prints one JSON line at the end.

    .venv/bin/python -m tests.bench.conference_sip [--steps 50,100,200,300] [--seconds 8]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
import urllib.request
from collections import deque
from pathlib import Path
from typing import Any

import numpy as np

from media.codecs import get_codec
from tests.bench.conference import mixing_cost
from tests.process import SwitchProcess, free_port

PASSWORD = "bench-conf-pass"
FIRST_EXTENSION = 2000
FIRST_ROOM = 9000
SIPP_MEDIA = 40000  # SIPp's media ports, 20 per room, above the switch's 16384-32767
SCENARIO = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="conference participant with RTP">
  <send retrans="500"><![CDATA[
INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
From: <sip:[field0]@[remote_ip]>;tag=[call_number]
To: <sip:[service]@[remote_ip]>
Call-ID: [call_id]
Contact: <sip:[field0]@[local_ip]:[local_port]>
Max-Forwards: 70
Content-Type: application/sdp
CSeq: 1 INVITE
Content-Length: [len]

v=0
o=sipp 1 1 IN IP4 [local_ip]
s=-
c=IN IP4 [local_ip]
t=0 0
m=audio [rtpstream_audio_port] RTP/AVP 0 101
a=rtpmap:0 PCMU/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-15
]]></send>
  <recv response="100" optional="true"/>
  <recv response="407" auth="true"/>
  <send><![CDATA[
ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch-3];rport
From: <sip:[field0]@[remote_ip]>;tag=[call_number]
To: <sip:[service]@[remote_ip]>[peer_tag_param]
Call-ID: [call_id]
CSeq: 1 ACK
Max-Forwards: 70
Content-Length: 0

]]></send>
  <send retrans="500"><![CDATA[
INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
From: <sip:[field0]@[remote_ip]>;tag=[call_number]
To: <sip:[service]@[remote_ip]>
Call-ID: [call_id]
Contact: <sip:[field0]@[local_ip]:[local_port]>
Max-Forwards: 70
Content-Type: application/sdp
CSeq: 2 INVITE
[field1]
Content-Length: [len]

v=0
o=sipp 1 1 IN IP4 [local_ip]
s=-
c=IN IP4 [local_ip]
t=0 0
m=audio [rtpstream_audio_port] RTP/AVP 0 101
a=rtpmap:0 PCMU/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-15
]]></send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="183" optional="true"/>
  <recv response="200" rrs="true"/>
  <send><![CDATA[
ACK [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
From: <sip:[field0]@[remote_ip]>;tag=[call_number]
To: <sip:[service]@[remote_ip]>[peer_tag_param]
Call-ID: [call_id]
CSeq: 2 ACK
Max-Forwards: 70
Content-Length: 0

]]></send>
  <nop><action><exec rtp_stream="VOICE_FILE,-1,0"/></action></nop>
  <pause/>
  <nop><action><exec rtp_stream="pause"/></action></nop>
  <send retrans="500"><![CDATA[
BYE [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
From: <sip:[field0]@[remote_ip]>;tag=[call_number]
To: <sip:[service]@[remote_ip]>[peer_tag_param]
Call-ID: [call_id]
CSeq: 3 BYE
Max-Forwards: 70
Content-Length: 0

]]></send>
  <recv response="200"/>
</scenario>
"""
CONFIG = """[security]
digest_algorithms = ["MD5", "SHA-256"]   # SIPp answers the first challenge only
[conference]
announce_count = false                   # every joiner would otherwise hear a prompt
music_when_alone = false
"""


def _voice_file(path: Path) -> Path:
    """Ten seconds of speech-like noise as raw µ-law (SIPp streams it in 160-byte packets)."""
    rng = np.random.default_rng(7)
    pcm = (rng.normal(0, 2500, 80000)).clip(-32768, 32767).astype(np.int16)
    path.write_bytes(get_codec("PCMU").encode(pcm))
    return path


def _add_users(data: Path, count: int) -> None:
    """The participants' extensions, written into the store before the switch starts."""
    import asyncio

    from softswitch.store import open_database
    from softswitch.switch.directory import make_user

    async def add() -> None:
        db = await open_database(data)
        try:
            realm = await db.settings.get_or_set("realm", "softswitch")
            await db.users.add_many([make_user(str(FIRST_EXTENSION + i), PASSWORD, realm)
                                     for i in range(count)])
        finally:
            await db.close()

    asyncio.run(add())


def _cpu(pid: int) -> float:
    """User + system CPU seconds of a process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _api(port: int, token: str, path: str) -> Any:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}",
                                     headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        raw = response.read()
    return json.loads(raw) if path.startswith("/api") else raw.decode()


def _members(port: int, token: str) -> int:
    return sum(len(room["members"]) for room in _api(port, token, "/api/conferences"))


def run_step(participants: int, room_size: int, seconds: float, rate: int,
             work: Path) -> dict[str, Any]:
    data = work / f"data-{participants}"
    data.mkdir()
    _add_users(data, participants)
    config = work / "switch.toml"
    config.write_text(CONFIG)
    voice = _voice_file(work / "voice.ulaw")
    scenario = work / "participant.xml"
    scenario.write_text(SCENARIO.replace("VOICE_FILE", str(voice)))  # no keywords there
    rooms = -(-participants // room_size)
    ramp = participants / rate
    hold_ms = int((ramp + 25 + seconds) * 1000)
    switch = SwitchProcess(data, "--config", str(config)).start()
    assert switch.proc is not None and switch.proc.stdout is not None
    log: deque[str] = deque(maxlen=20)  # drained, or a full pipe would stall the switch
    threading.Thread(target=lambda out=switch.proc.stdout: log.extend(out), daemon=True).start()
    token = (data / "admin-token").read_text().strip()
    uacs = []  # one SIPp per room: the digest URI (-auth_uri) is per SIPp, not per call
    for k in range(rooms):
        room = str(FIRST_ROOM + k)
        members = range(k * room_size, min(participants, (k + 1) * room_size))
        inject = work / f"callers-{participants}-{room}.csv"
        inject.write_text("SEQUENTIAL\n" + "".join(
            f"{FIRST_EXTENSION + i};[authentication username={FIRST_EXTENSION + i} "
            f"password={PASSWORD}]\n" for i in members))
        uacs.append(subprocess.Popen(
            ["sipp", f"127.0.0.1:{switch.sip_port}", "-sf", str(scenario), "-inf", str(inject),
             "-s", room, "-auth_uri", f"{room}@127.0.0.1:{switch.sip_port}",
             "-i", "127.0.0.1", "-p", str(free_port()), "-mp", str(SIPP_MEDIA + 20 * k),
             "-m", str(len(members)), "-r", str(room_size), "-l", str(len(members)),
             "-d", str(hold_ms), "-nostdin",
             "-timeout", f"{int(hold_ms / 1000 + ramp + 60)}s", "-timeout_error",
             "-trace_err", "-error_file", str(work / f"errors-{participants}-{room}.log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        time.sleep(room_size / rate)
    result: dict[str, Any] = {"participants": participants, "rooms": rooms}
    try:
        deadline = time.monotonic() + ramp + 30
        joined = 0
        while time.monotonic() < deadline and joined < participants:
            time.sleep(0.5)
            joined = _members(switch.http_port, token)
        result["joined"] = joined
        time.sleep(2.0)  # the last joiners' tones and the jitter buffers settle
        cpu0, wall0 = _cpu(switch.proc.pid), time.monotonic()
        time.sleep(seconds)
        cpu = (_cpu(switch.proc.pid) - cpu0) / (time.monotonic() - wall0)
        stayed = _members(switch.http_port, token)
        metrics = _api(switch.http_port, token, "/metrics")
        lag = next((float(line.split()[-1]) for line in metrics.splitlines()
                    if line.startswith("softswitch_event_loop_lag_seconds")), None)
        codes = [uac.wait(timeout=hold_ms / 1000 + ramp + 90) for uac in uacs]
    finally:
        for uac in uacs:
            if uac.poll() is None:
                uac.kill()
                uac.wait(10)
        switch.stop()
    result.update({
        "stayed": stayed,
        "switch_cpu": round(cpu, 3),
        "cpu_us_per_participant_per_s": round(cpu * 1e6 / participants, 1),
        "event_loop_lag_ms": round(lag * 1000, 1) if lag is not None else None,
        "sipp_failed": sum(code != 0 for code in codes),
        "ok": joined == stayed == participants and not any(codes) and cpu < 0.95,
    })
    if not result["ok"]:
        result["switch_log"] = list(log)[-5:]
    return result


def measure(steps: tuple[int, ...], room_size: int, seconds: float,
            rate: int) -> dict[str, Any]:
    if shutil.which("sipp") is None:
        raise SystemExit("sipp is missing: run `make setup`")
    load = os.getloadavg()[0]
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="bench-conf-sip-") as tmp:
        for participants in steps:
            step = run_step(participants, room_size, seconds, rate, Path(tmp))
            print(f"# {step}", flush=True)
            results.append(step)
            if not step["ok"]:
                break
    passing = [r for r in results if r["ok"]]
    cost = float(passing[-1]["cpu_us_per_participant_per_s"]) if passing else None
    return {
        "benchmark": "conference_sip",
        "cpus": os.cpu_count(),
        "loadavg_at_start": load,
        "room_size": room_size,
        "max_participants_measured": passing[-1]["participants"] if passing else 0,
        "projected_participants_per_core": int(0.95e6 / cost) if cost else None,
        "mixing_only": mixing_cost(room_size),
        "steps": results,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", default="50,100,200,300")
    parser.add_argument("--room-size", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--rate", type=int, default=40, help="calls placed per second")
    args = parser.parse_args()
    steps = tuple(int(s) for s in args.steps.split(","))
    print(json.dumps(measure(steps, args.room_size, args.seconds, args.rate)))


if __name__ == "__main__":
    main()
