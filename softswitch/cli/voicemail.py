"""`softswitch voicemail ...`: mailboxes from the command line, read from the data directory.

Works with the switch stopped or running (SQLite WAL lets both use the store). A message
deleted here while the switch runs updates the phone's lamp at its next registration or
mailbox change, not at once: MWI is sent by the switch process.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import sqlite3
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from softswitch.cli.output import print_rows
from softswitch.features.voicemail import VoicemailService
from softswitch.features.voicemail_setup import VOICEMAIL_DIR
from softswitch.store import Database, StoreError, UnknownUserError, open_database
from softswitch.switch.directory import (
    InvalidUserError,
    hash_pin,
    validate_extension,
    validate_pin,
)
from softswitch.web.routes.voicemail import message_summary

__all__ = ["app"]

T = TypeVar("T")

app = typer.Typer(help="Voicemail: list, delete, PIN, on/off.", no_args_is_help=True)

DataDir = Annotated[
    Path, typer.Option("--data", envvar="SOFTSWITCH_DATA", help="Data directory.")
]
Mailbox = Annotated[str, typer.Argument(help="The extension whose mailbox it is.")]


def _run(data: Path, work: Callable[[Database, VoicemailService], Awaitable[T]]) -> T:
    async def main() -> T:
        db = await open_database(data)
        try:
            service = VoicemailService(db.voicemail, db.users.get, data / VOICEMAIL_DIR)
            return await work(db, service)
        finally:
            await db.close()

    try:
        return asyncio.run(main())
    except (StoreError, sqlite3.Error) as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(code=1) from None
    except (InvalidUserError, UnknownUserError, LookupError) as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(code=2) from None


def _mailbox(mailbox: str) -> str:
    try:
        return validate_extension(mailbox)
    except InvalidUserError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(code=2) from None


@app.command("list")
def list_messages(
    mailbox: Mailbox,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON array.")] = False,
    data: DataDir = Path("var"),
) -> None:
    """The messages of a mailbox, new first: id, caller, received, seconds, status."""
    box = _mailbox(mailbox)

    async def work(db: Database, service: VoicemailService) -> list[dict[str, Any]]:
        return [message_summary(m) for m in await service.messages(box)]

    rows = _run(data, work)
    for row in rows:
        row["received"] = dt.datetime.fromtimestamp(row["received_at"]).strftime(
            "%Y-%m-%d %H:%M:%S")
    print_rows(rows, {"id": "ID", "caller": "CALLER", "received": "RECEIVED",
                      "duration": "SECONDS", "status": "STATUS"},
               as_json=as_json, empty=f"no messages for {box}")


@app.command("delete")
def delete(mailbox: Mailbox, message_id: Annotated[int, typer.Argument(help="Message id.")],
           data: DataDir = Path("var")) -> None:
    """Delete one message (its row, then its file)."""
    box = _mailbox(mailbox)

    async def work(db: Database, service: VoicemailService) -> None:
        message = await service.get(message_id)
        if message is None or message.mailbox != box:
            raise LookupError(f"no message {message_id} in mailbox {box}")
        await service.delete(message)

    _run(data, work)
    typer.echo(f"deleted message {message_id} of {box}")


@app.command("pin")
def pin(mailbox: Mailbox,
        new_pin: Annotated[str, typer.Argument(metavar="PIN", help="4 to 12 digits.")],
        data: DataDir = Path("var")) -> None:
    """Set the voicemail PIN that *97 asks for."""
    box = _mailbox(mailbox)
    try:
        hashed = hash_pin(validate_pin(new_pin))
    except InvalidUserError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(code=2) from None

    async def work(db: Database, service: VoicemailService) -> None:
        await db.users.set_voicemail_pin_hash(box, hashed)

    _run(data, work)
    typer.echo(f"voicemail PIN of {box} set")


def _switch(mailbox: str, data: Path, enabled: bool) -> None:
    box = _mailbox(mailbox)

    async def work(db: Database, service: VoicemailService) -> None:
        if await db.users.get(box) is None:
            raise UnknownUserError(box)
        await service.set_enabled(box, enabled)

    _run(data, work)
    typer.echo(f"voicemail of {box} {'on' if enabled else 'off'}")


@app.command("on")
def on(mailbox: Mailbox, data: DataDir = Path("var")) -> None:
    """Busy and unanswered calls to this extension go to its mailbox (the default)."""
    _switch(mailbox, data, True)


@app.command("off")
def off(mailbox: Mailbox, data: DataDir = Path("var")) -> None:
    """Busy and unanswered calls to this extension fail as usual (no voicemail)."""
    _switch(mailbox, data, False)
