"""Shared helpers for the registration peer tests: a switch process with extensions."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

from softswitch.store import open_database
from softswitch.switch.directory import make_user
from tests.process import ROOT, SwitchProcess

__all__ = ["add_users", "registrations", "start_switch"]


def add_users(data: Path, users: dict[str, str]) -> None:
    async def work() -> None:
        db = await open_database(data)
        try:
            realm = await db.settings.get_or_set("realm", "softswitch")
            await db.users.add_many([make_user(ext, pw, realm) for ext, pw in users.items()])
        finally:
            await db.close()

    asyncio.run(work())


def start_switch(tmp: Path, config: str = "", **users: str) -> SwitchProcess:
    """`softswitch run` on a data dir holding ``users`` (extension=password), with TOML."""
    data = tmp / "data"
    add_users(data, users)
    path = tmp / "switch.toml"
    path.write_text("[registrar]\nqualify_interval = 0\n" + config)
    return SwitchProcess(data, "--config", str(path)).start()


def registrations(data: Path) -> list[dict[str, object]]:
    """`softswitch registrations --json`, run as the operator would."""
    out = subprocess.run(
        [sys.executable, "-m", "softswitch", "registrations", "--json", "--data", str(data)],
        capture_output=True, text=True, timeout=30, cwd=ROOT, check=True,
    )
    rows: list[dict[str, object]] = json.loads(out.stdout)
    return rows
