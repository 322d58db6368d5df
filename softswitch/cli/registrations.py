"""`softswitch registrations`: the live bindings, read from the store (no running switch needed)."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from softswitch.cli.output import print_rows
from softswitch.store import StoreError, open_database
from softswitch.web.routes.registrations import binding_summary

__all__ = ["registrations"]


async def _load(data: Path) -> list[dict[str, Any]]:
    db = await open_database(data)
    try:
        now = time.time()
        return [binding_summary(binding, now) for binding in await db.bindings.active(now)]
    finally:
        await db.close()


def registrations(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON array.")] = False,
    data: Annotated[
        Path, typer.Option("--data", envvar="SOFTSWITCH_DATA", help="Data directory.")
    ] = Path("var"),
) -> None:
    """List registered contacts: extension, contact, source, transport, expires, user agent."""
    try:
        rows = asyncio.run(_load(data))
    except (StoreError, sqlite3.Error) as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(code=1) from None
    print_rows(rows, {"extension": "EXT", "contact": "CONTACT", "source": "SOURCE",
                      "transport": "TRANSPORT", "expires": "EXPIRES",
                      "user_agent": "USER AGENT"},
               as_json=as_json, empty="no registrations")
