"""`softswitch cdr` (call records, from the store; `cdr stats` for management, `cdr legs ID`
per leg) and `softswitch calls` (live, from the API).

Records are read straight from the database, so they work with the switch stopped; live calls
exist only inside the running switch, so `calls` asks its HTTP API with the admin token.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import urllib.error
import urllib.request
from collections.abc import Callable, Coroutine
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from softswitch.cli.output import print_rows
from softswitch.store import StoreError, open_database
from softswitch.store.cdr_stats import GroupBy
from softswitch.web.auth import TOKEN_FILE
from softswitch.web.routes.calls import (
    leg_summary,
    parse_disposition,
    record_summary,
    records_csv,
)

__all__ = ["calls", "cdr", "cdr_app"]

# `softswitch cdr [filters]` lists records; `softswitch cdr stats|legs` are its subcommands.
cdr_app = typer.Typer(help="Call detail records.", invoke_without_command=True)

T = TypeVar("T")
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


@cdr_app.callback()
def cdr(
    ctx: typer.Context,
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
    if ctx.invoked_subcommand is not None:
        return
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

    records = _from_store(load)
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


def _from_store(load: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a read against the store; a store problem is a one-line error, not a traceback."""
    try:
        return asyncio.run(load())
    except (StoreError, sqlite3.Error) as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(code=1) from None


@cdr_app.command("stats")
def stats(
    since: Annotated[str | None, typer.Option(help="From (unix seconds or ISO time).")] = None,
    until: Annotated[str | None, typer.Option(help="Until (exclusive).")] = None,
    by: Annotated[GroupBy, typer.Option("--by", help="Group by extension or department.")] = (
        GroupBy.EXTENSION
    ),
    include_internal: Annotated[
        bool, typer.Option("--internal", help="Count calls between extensions too.")
    ] = False,
    top: Annotated[int, typer.Option(min=0, max=1000, help="How many longest calls.")] = 10,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object.")] = False,
    data: DataOption = Path("var"),
) -> None:
    """Outbound call statistics: calls, billable minutes by cost class, the longest calls."""
    first, last = _when(since), _when(until)
    if first is not None and last is not None and last <= first:
        raise typer.BadParameter("--until must be after --since")

    async def load() -> dict[str, Any]:
        db = await open_database(data)
        try:
            result = await db.cdr.stats(since=first, until=last, group_by=by,
                                        include_internal=include_internal, top=top)
            return result.as_dict()
        finally:
            await db.close()

    result = _from_store(load)
    if as_json:
        typer.echo(json.dumps(result, indent=2))
        return
    rows = []
    for group in [*result["groups"], result["total"]]:
        split = ", ".join(f"{name} {v['calls']}/{v['minutes']}m"
                          for name, v in sorted(group["by_class"].items()))
        rows.append({**group, "key": group["key"] or "(none)", "split": split})
    print_rows(rows if result["groups"] else [], {
        "key": by.value.upper(), "calls": "CALLS", "answered": "ANSWERED",
        "minutes": "MINUTES", "split": "BY COST CLASS (calls/minutes)"},
        as_json=False, empty="no outbound calls in that period")
    if result["longest"]:
        typer.echo("")
        longest = [{**c, "started_at": _stamp(c["started_at"])} for c in result["longest"]]
        print_rows(longest, {"started_at": "STARTED", "caller": "FROM",
                             "department": "DEPARTMENT", "dialled": "DIALLED",
                             "cost_class": "CLASS", "billable_seconds": "SECONDS"},
                   as_json=False, empty="")


@cdr_app.command("legs")
def legs(
    call_id: Annotated[str, typer.Argument(help="The call's id (its caller-side Call-ID).")],
    as_json: Annotated[bool, typer.Option("--json", help="One JSON array.")] = False,
    data: DataOption = Path("var"),
) -> None:
    """One call's legs: the caller's, then every phone or trunk it rang, with outcomes."""

    async def load() -> tuple[bool, list[Any]]:
        db = await open_database(data)
        try:
            return await db.cdr.get(call_id) is not None, await db.cdr.legs(call_id)
        finally:
            await db.close()

    found, rows = _from_store(load)
    if not found:
        typer.echo(f"error: no call record {call_id!r}", err=True)
        raise typer.Exit(code=1)
    summaries = [leg_summary(leg) for leg in rows]
    if not as_json:
        for row in summaries:
            row["started_at"] = _stamp(row["started_at"])
    print_rows(summaries, {"side": "SIDE", "direction": "DIRECTION", "peer": "PEER",
                           "started_at": "STARTED", "disposition": "DISPOSITION",
                           "cause": "CAUSE"},
               as_json=as_json, empty="no leg records (calls before version 3 have none)")


def calls(
    url: Annotated[str, typer.Option(envvar="SOFTSWITCH_URL", help="The switch's HTTP API.")] = (
        "http://127.0.0.1:8080"
    ),
    as_json: Annotated[bool, typer.Option("--json", help="One JSON array.")] = False,
    media: Annotated[bool, typer.Option(
        "--media", help="One line per leg: RTP ports, packets, loss, jitter.")] = False,
    data: DataOption = Path("var"),
) -> None:
    """Calls in progress, asked of the running switch (--json always has each leg's media)."""
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
    if media and not as_json:
        print_rows(_media_rows(rows), MEDIA_COLUMNS, as_json=False, empty="no calls in progress")
        return
    if not as_json:
        for row in rows:
            row["started_at"] = _stamp(row["started_at"])
    print_rows(rows, {"started_at": "STARTED", "caller": "FROM", "callee": "TO", "state": "STATE",
                      "codec_caller": "CODEC A", "codec_callee": "CODEC B",
                      "relayed": "RELAYED"},
               as_json=as_json, empty="no calls in progress")


MEDIA_COLUMNS = {
    "call": "CALL", "leg": "LEG", "local": "LOCAL", "remote": "REMOTE", "latched": "LATCHED",
    "packets_in": "PKTS IN", "packets_out": "PKTS OUT", "loss": "LOSS %",
    "jitter_ms": "JITTER ms", "remote_loss": "PEER LOSS %", "remote_jitter_ms": "PEER JITTER ms",
    "dropped": "DROPPED",
}


def _media_rows(calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per leg of each call in `/api/calls`: what an engineer checks first."""
    rows = []
    for call in calls:
        for side, leg in (call.get("media") or {}).items():
            if leg is None:
                continue
            remote = (f"{leg['remote_address']}:{leg['remote_port']}"
                      if leg["remote_address"] else None)
            peer_loss = leg["remote_loss"]
            rows.append({
                "call": f"{call['caller']}->{call['dialled']}", "leg": side,
                "local": f"{leg['local_address']}:{leg['local_port']}", "remote": remote,
                "latched": "yes" if leg["latched"] else "no",
                "packets_in": leg["packets_in"], "packets_out": leg["packets_out"],
                "loss": f"{leg['loss'] * 100:.2f}", "jitter_ms": leg["jitter_ms"],
                "remote_loss": None if peer_loss is None else f"{peer_loss * 100:.2f}",
                "remote_jitter_ms": leg["remote_jitter_ms"],
                "dropped": leg["malformed"] + leg["foreign"],
            })
    return rows
