"""`softswitch lines ...`: call waiting and follow-me of an extension, in the database."""

from __future__ import annotations

import asyncio
import dataclasses
import sqlite3
from pathlib import Path
from typing import Annotated, Any

import typer

from softswitch.features.followme_store import (
    LineSettings,
    LineSettingsError,
    LineSettingsRepository,
)
from softswitch.store import StoreError, open_database

__all__ = ["app"]

app = typer.Typer(help="Call waiting and follow-me per extension.", no_args_is_help=True)

DataDir = Annotated[
    Path, typer.Option("--data", envvar="SOFTSWITCH_DATA", help="Data directory.")
]
DEFAULT_DATA = Path("var")


def _change(data: Path, extension: str, changes: dict[str, Any]) -> LineSettings:
    """Read (and with ``changes``, store) the settings; one-line errors, exit code 1."""

    async def body() -> LineSettings:
        db = await open_database(data)
        try:
            if await db.users.get(extension) is None:
                raise LineSettingsError(f"no such extension: {extension}")
            repo = LineSettingsRepository(db.connection)
            settings = await repo.get(extension)
            if changes:
                settings = dataclasses.replace(settings, **changes)
                await repo.put(settings)
            return settings
        finally:
            await db.close()

    try:
        return asyncio.run(body())
    except (LineSettingsError, StoreError, sqlite3.Error) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=1) from None


def _show(settings: LineSettings) -> None:
    typer.echo(f"extension     {settings.extension}")
    typer.echo(f"call waiting  {'on' if settings.call_waiting else 'off'}")
    typer.echo(f"follow-me     {', '.join(settings.follow_me) or '-'}")
    typer.echo(f"ring seconds  {settings.ring_seconds}")


@app.command("show")
def show(extension: str, data: DataDir = DEFAULT_DATA) -> None:
    """An extension's call waiting and follow-me."""
    _show(_change(data, extension, {}))


@app.command("set")
def set_lines(
    extension: str,
    call_waiting: Annotated[bool | None, typer.Option(
        "--call-waiting/--no-call-waiting", help="Ring when already in a call.")] = None,
    follow_me: Annotated[str | None, typer.Option(
        help="Numbers to ring in turn, comma-separated ('' clears).")] = None,
    ring_seconds: Annotated[int | None, typer.Option(help="Seconds per number (5-120).")] = None,
    data: DataDir = DEFAULT_DATA,
) -> None:
    """Change an extension's call waiting and follow-me."""
    changes: dict[str, Any] = {}
    if call_waiting is not None:
        changes["call_waiting"] = call_waiting
    if follow_me is not None:
        changes["follow_me"] = tuple(n.strip() for n in follow_me.split(",") if n.strip())
    if ring_seconds is not None:
        changes["ring_seconds"] = ring_seconds
    _show(_change(data, extension, changes))
