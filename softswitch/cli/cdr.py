"""`softswitch cdr` (call records, from the store) and `softswitch calls` (live, from the API).

Records are read straight from the database, so they work with the switch stopped; live calls
exist only inside the running switch, so `calls` asks its HTTP API with the admin token.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import urllib.error
import urllib.request
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from softswitch.cli.output import print_rows
from softswitch.store import StoreError, open_database
from softswitch.web.auth import TOKEN_FILE
from softswitch.web.routes.calls import parse_disposition, record_summary, records_csv

__all__ = ["calls", "cdr"]

DataOption = Annotated[
    Path, typer.Option("--data", envvar="SOFTSWITCH_DATA", help="Data directory.")
]


def _when(text: str | None) -> float | None:
    """Unix seconds or an ISO date/time (local time), as an operator types it."""
    if text is None:
        return None
    try:
        return float(text)
    except ValueError:
        pass
    try:
        return datetime.fromisoformat(text).timestamp()
    except ValueError:
        raise typer.BadParameter(f"{text!r} is neither unix seconds nor an ISO date") from None


def _stamp(value: float | None) -> str | None:
    return datetime.fromtimestamp(value).strftime("%Y-%m-%d %H:%M:%S") if value else None


def cdr(
    since: Annotated[str | None, typer.Option(help="From (unix seconds or ISO time).")] = None,
    until: Annotated[str | None, typer.Option(help="Until (exclusive).")] = None,
    extension: Annotated[str | None, typer.Option(help="Caller or callee.")] = None,
    disposition: Annotated[
        str | None, typer.Option(help="answered, busy, no_answer, failed, cancelled, interrupted")
    ] = None,
    limit: Annotated[int, typer.Option(help="At most this many, newest first.")] = 100,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON array.")] = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="CSV with a header line.")] = False,
    data: DataOption = Path("var"),
) -> None:
    """Call detail records: who called whom, when, how long, and how it ended."""
    try:
        wanted = parse_disposition(disposition)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None

    async def load() -> list[Any]:
        db = await open_database(data)
        try:
            return await db.cdr.search(since=_when(since), until=_when(until),
                                       extension=extension, disposition=wanted, limit=limit)
        finally:
            await db.close()

    try:
        records = asyncio.run(load())
    except (StoreError, sqlite3.Error) as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(code=1) from None
    if as_csv:
        typer.echo(records_csv(records), nl=False)
        return
    rows = [record_summary(r) for r in records]
    if not as_json:
        for row in rows:
            row["started_at"] = _stamp(row["started_at"])
    print_rows(rows, {"started_at": "STARTED", "caller": "FROM", "dialled": "DIALLED",
                      "callee": "TO", "duration": "SECONDS", "billable": "BILLED",
                      "disposition": "DISPOSITION", "cause": "CAUSE"},
               as_json=as_json, empty="no call records")


def calls(
    url: Annotated[str, typer.Option(envvar="SOFTSWITCH_URL", help="The switch's HTTP API.")] = (
        "http://127.0.0.1:8080"
    ),
    as_json: Annotated[bool, typer.Option("--json", help="One JSON array.")] = False,
    data: DataOption = Path("var"),
) -> None:
    """Calls in progress, asked of the running switch."""
    try:
        token = (data / TOKEN_FILE).read_text(encoding="utf-8").strip()
    except OSError as exc:
        typer.echo(f"error: cannot read the API token: {exc}", err=True)
        raise typer.Exit(code=1) from None
    request = urllib.request.Request(f"{url.rstrip('/')}/api/calls",
                                     headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            rows: list[dict[str, Any]] = json.load(response)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        typer.echo(f"error: cannot reach the switch at {url}: {exc}", err=True)
        raise typer.Exit(code=1) from None
    if not as_json:
        for row in rows:
            row["started_at"] = _stamp(row["started_at"])
    print_rows(rows, {"started_at": "STARTED", "caller": "FROM", "callee": "TO", "state": "STATE",
                      "codec_caller": "CODEC A", "codec_callee": "CODEC B",
                      "relayed": "RELAYED"},
               as_json=as_json, empty="no calls in progress")
