"""Benchmark: a page to 100 phones, from dialling 621 to the last phone answering (goal < 1 s).

The switch runs as `softswitch run` in its own process (uvloop). 100 extensions are
registered, each with its own contact URI, all on one SIPp UAS that answers every INVITE at
once (after checking its auto-answer headers) and waits for the BYE: the phones cost the
switch what 100 real phones would in SIP, and nothing in time. The caller is a small Python
phone in this process: it dials 621 (digest round trip included), the clock starts when its
first INVITE leaves. "Last phone answered" is the latest `answered_at` among the page's
calls (GET /api/calls: the moment the switch took each 200). The caller then hangs up and
every phone must get its BYE before the next round. Prints one JSON line.

    .venv/bin/python -m tests.bench.page [--phones 100] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from softswitch.store import Binding, open_database
from softswitch.switch.directory import make_user
from tests.calls.harness import Sipp
from tests.features.phone import Phone
from tests.process import SwitchProcess

SCENARIO = Path(__file__).parents[1] / "features" / "scenarios" / "page_uas_all_headers.xml"
PASSWORD = "bench-page-pass1"
FIRST = 1100


async def prepare(data: Path, phones: int, uas_port: int) -> None:
    """Users (1001 may page; 1100.. are the phones) and one live binding per phone, written to
    the store before the switch starts, as their REGISTERs would have left them."""
    db = await open_database(data)
    try:
        realm = await db.settings.get_or_set("realm", "softswitch")
        users = [make_user("1001", PASSWORD, realm, rights=("paging",))]
        users += [make_user(str(FIRST + n), PASSWORD, realm) for n in range(phones)]
        await db.users.add_many(users)
        now = time.time()
        for n in range(phones):
            ext = str(FIRST + n)
            await db.bindings.update(ext, [Binding(
                aor=ext, contact=f"sip:{ext}@127.0.0.1:{uas_port}", expires_at=now + 3600,
                call_id=f"bench-{ext}", cseq=1, source_host="127.0.0.1", source_port=uas_port,
                transport="UDP", user_agent="SIPp", last_seen=now)])
    finally:
        await db.close()


async def calls_in_progress(api: httpx.AsyncClient) -> list[dict[str, object]]:
    response = await api.get("/api/calls")
    response.raise_for_status()
    body = response.json()
    return body if isinstance(body, list) else body.get("calls", [])


def process_cpu(pid: int) -> float:
    """User + system CPU seconds of a process (all threads), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def one_page(switch: SwitchProcess, api: httpx.AsyncClient, phones: int) -> dict:
    caller = await Phone(extension="1001", password=PASSWORD,
                         switch_port=switch.sip_port).start()
    assert switch.proc is not None
    try:
        cpu0 = process_cpu(switch.proc.pid)
        started = time.time()
        final = await caller.dial("621", timeout=20)
        caller_answered = time.time()
        if final.status != 200:
            raise RuntimeError(f"page refused: {final.status} {final.reason}")
        answered: list[float] = []
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            calls = await calls_in_progress(api)
            answered = [float(c["answered_at"]) for c in calls  # type: ignore[arg-type]
                        if c["callee"] != "621" and c["answered_at"] is not None]
            if len(answered) >= phones:
                break
            await asyncio.sleep(0.25)  # the times are the switch's; polling less costs it less
        if len(answered) < phones:
            raise RuntimeError(f"only {len(answered)} of {phones} phones answered")
        cpu = process_cpu(switch.proc.pid) - cpu0  # includes the API polling
        caller.hang_up()
        while time.monotonic() < deadline and await calls_in_progress(api):
            await asyncio.sleep(0.05)
        return {"last_answer_s": round(max(answered) - started, 3),
                "first_answer_s": round(min(answered) - started, 3),
                "caller_answered_s": round(caller_answered - started, 3),
                "switch_cpu_s": round(cpu, 3)}
    finally:
        caller.close()


async def main(phones: int, rounds: int) -> dict:
    load = round(os.getloadavg()[0], 2)
    with tempfile.TemporaryDirectory(prefix="bench-page-") as tmp:
        data = Path(tmp) / "data"
        config = Path(tmp) / "switch.toml"
        config.write_text("[registrar]\nqualify_interval = 0\n"
                          "[paging]\nbeep = false\n")  # the beep costs no SIP time anyway
        uas = Sipp(str(SCENARIO), "-m", str(phones * rounds))
        uas.args[uas.args.index("-timeout") + 1] = "600s"
        await prepare(data, phones, uas.port)
        switch = SwitchProcess(data, "--config", str(config)).start()
        try:
            await uas.start()
            token = (data / "admin-token").read_text().strip()
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{switch.http_port}",
                                         headers={"Authorization": f"Bearer {token}"},
                                         timeout=10) as api:
                await calls_in_progress(api)  # the API's first request costs the switch's loop
                runs = [await one_page(switch, api, phones) for _ in range(rounds)]
        except Exception:
            switch.stop()
            print("\n".join(switch.lines[-40:]))
            raise
        finally:
            uas.stop()
            switch.stop()
    last = [r["last_answer_s"] for r in runs]
    return {"benchmark": "page", "phones": phones, "loadavg_at_start": load, "runs": runs,
            "median_last_answer_s": statistics.median(last),
            "median_switch_cpu_s": statistics.median(r["switch_cpu_s"] for r in runs),
            "goal_s": 1.0,
            "goal_met": statistics.median(last) < 1.0}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--phones", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(main(args.phones, args.rounds))))
