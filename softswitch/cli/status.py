"""`softswitch status`: one screen on the switch (registrations, live calls, uptime, listeners,
trunks).

Registrations come from the store, so the count is there with the switch stopped; the rest
exists only inside a running switch, so it is asked of `/api/status` with the admin token, and
the screen says plainly when the switch does not answer.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Annotated, Any

import typer

from softswitch.store import StoreError, open_database
from softswitch.web.auth import TOKEN_FILE

__all__ = ["render_status", "status"]


async def _registrations(data: Path) -> tuple[int, int]:
    """(registered contacts, distinct extensions) live now."""
    db = await open_database(data)
    try:
        bindings = await db.bindings.active(time.time())
    finally:
        await db.close()
    return len(bindings), len({b.aor for b in bindings})


def _ask_switch(url: str, data: Path) -> dict[str, Any] | None:
    try:
        token = (data / TOKEN_FILE).read_text(encoding="utf-8").strip()
    except OSError:
        return None
    request = urllib.request.Request(f"{url.rstrip('/')}/api/status",
                                     headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            answer: dict[str, Any] = json.load(response)
    except (urllib.error.URLError, OSError, ValueError):
        return None
    return answer


def _duration(seconds: float) -> str:
    whole = int(seconds)
    days, rest = divmod(whole, 86400)
    return (f"{days}d " if days else "") + time.strftime("%H:%M:%S", time.gmtime(rest))


def render_status(running: dict[str, Any] | None, contacts: int, extensions: int,
                  url: str) -> list[str]:
    """The screen's lines; `running` is /api/status's answer, None when nobody answered."""
    lines = [f"registrations  {contacts} contact(s) for {extensions} extension(s)"]
    if running is None:
        lines.insert(0, f"switch         not running (no answer at {url})")
        return lines
    lines.insert(0, f"switch         up {_duration(float(running.get('uptime_seconds', 0)))}")
    lines.append(f"live calls     {running.get('live_calls', 0)}")
    lines.append(f"transactions   {running.get('transactions', 0)}")
    for listener in running.get("sip", []):
        lines.append(f"listening      {listener}")
    for trunk in running.get("trunks", []):
        state = trunk["state"] if trunk.get("registers") else "static peer"
        lines.append(f"trunk          {trunk['trunk']} ({trunk['host']}:{trunk['port']}) {state}")
    return lines


def status(
    url: Annotated[str, typer.Option(envvar="SOFTSWITCH_URL", help="The switch's HTTP API.")] = (
        "http://127.0.0.1:8080"
    ),
    data: Annotated[
        Path, typer.Option("--data", envvar="SOFTSWITCH_DATA", help="Data directory.")
    ] = Path("var"),
) -> None:
    """One-screen summary: registrations, live calls, uptime, listeners, trunks."""
    try:
        contacts, extensions = asyncio.run(_registrations(data))
    except (StoreError, sqlite3.Error) as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(code=1) from None
    for line in render_status(_ask_switch(url, data), contacts, extensions, url):
        typer.echo(line)
