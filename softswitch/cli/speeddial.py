"""`softswitch speeddial ...`: personal speed dial codes (``*0`` + code) in the database."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer

from softswitch.features.speeddial import SpeedDialError, SpeedDials, check_code
from softswitch.store import StoreError, open_database

__all__ = ["app"]

app = typer.Typer(help="Personal speed dials: *0 + a two-digit code.", no_args_is_help=True)

T = TypeVar("T")
DataDir = Annotated[
    Path, typer.Option("--data", envvar="SOFTSWITCH_DATA", help="Data directory.")
]
DEFAULT_DATA = Path("var")


def _run(work: Callable[[SpeedDials], Awaitable[T]], data: Path, extension: str) -> T:
    """Open the database, check the extension, run; every failure is a one-line error."""

    async def body() -> T:
        db = await open_database(data)
        try:
            if await db.users.get(extension) is None:
                raise SpeedDialError(f"no such extension: {extension}")
            return await work(SpeedDials(db.connection))
        finally:
            await db.close()

    try:
        return asyncio.run(body())
    except (SpeedDialError, StoreError, sqlite3.Error) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=1) from None


@app.command("list")
def list_codes(extension: str, data: DataDir = DEFAULT_DATA) -> None:
    """The extension's personal codes (system-wide ones are in the configuration)."""

    async def work(dials: SpeedDials) -> dict[str, str]:
        return await dials.personal(extension)

    for code, number in _run(work, data, extension).items():
        typer.echo(f"*0{code}  {number}")


@app.command("set")
def set_code(extension: str, code: str, number: str, data: DataDir = DEFAULT_DATA) -> None:
    """Dialling *0CODE from EXTENSION calls NUMBER."""

    async def work(dials: SpeedDials) -> None:
        await dials.set(extension, code, number)

    _run(work, data, extension)
    typer.echo(f"{extension}: *0{code} -> {number}")


@app.command("remove")
def remove(extension: str, code: str, data: DataDir = DEFAULT_DATA) -> None:
    """Forget one personal code."""

    async def work(dials: SpeedDials) -> bool:
        return await dials.remove(extension, check_code(code))

    if not _run(work, data, extension):
        typer.echo(f"error: {extension} has no speed dial {code}", err=True)
        raise typer.Exit(code=1)
    typer.echo(f"{extension}: *0{code} removed")
