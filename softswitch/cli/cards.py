"""`softswitch cards ...`: visit cards from the command line, whether or not the switch runs.

Each command opens the database in ``--data`` (WAL and the store's write transactions let it
share the file with a running switch: a top-up here and a booking there never lose each
other's money), does one thing through :class:`BookingService`, and closes it. Refusals are one
line on stderr with exit code 1.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from softswitch.cli.output import print_rows
from softswitch.hospital.booking import BookingError, BookingService, Card
from softswitch.store import StoreError, open_database
from softswitch.web.routes.booking import appointment_json, card_json

__all__ = ["app"]

app = typer.Typer(help="Visit cards: issue, show, top up, reset the PIN.", no_args_is_help=True)

T = TypeVar("T")
DataDir = Annotated[Path, typer.Option("--data", envvar="SOFTSWITCH_DATA",
                                       help="Data directory.")]
Number = Annotated[str, typer.Argument(help="Card number (4 to 20 digits).")]
DEFAULT_DATA = Path("var")


def _run(data: Path, work: Callable[[BookingService], Awaitable[T]]) -> T:
    """Open the store, run ``work`` with a service over it, close; errors in one line."""

    async def main() -> T:
        async with await open_database(data) as db:
            return await work(BookingService(db))

    try:
        return asyncio.run(main())
    except BookingError as error:
        typer.echo(f"error: {error.message}", err=True)
    except StoreError as error:
        typer.echo(f"error: {error}", err=True)
    except sqlite3.Error as error:
        typer.echo(f"error: database error: {error}", err=True)
    raise typer.Exit(code=1)


def _print_card(card: Card) -> None:
    for key, value in card_json(card).items():
        shown = ", ".join(value) if isinstance(value, list) else value
        typer.echo(f"{key + ':':<10} {shown or '-'}")


@app.command("add")
def add(
    number: Number,
    name: Annotated[str, typer.Option("--name", help="The patient's name.")],
    pin: Annotated[str, typer.Option("--pin", prompt=True, hide_input=True,
                                     confirmation_prompt=True,
                                     help="4 to 12 digits (prompted for when omitted; "
                                          "stored only hashed).")],
    phones: Annotated[list[str] | None, typer.Option(
        "--phone", help="A number on file (repeatable: patient, family, employer).")] = None,
    insurance: Annotated[str, typer.Option("--insurance", help="Insurance class.")] = "self-pay",
    balance: Annotated[str, typer.Option("--balance", help="Opening balance, yuan.")] = "0",
    data: DataDir = DEFAULT_DATA,
) -> None:
    """Issue a visit card."""
    card = _run(data, lambda service: service.add_card(
        number, pin, name, phones=phones or (), insurance=insurance, balance=balance))
    typer.echo(f"added card {card.number} ({card.name}), balance {card.balance}")


@app.command("show")
def show(
    number: Number,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object.")] = False,
    data: DataDir = DEFAULT_DATA,
) -> None:
    """A card (never its PIN), its appointments and its money movements."""

    async def work(service: BookingService) -> tuple[Card, list[Any], list[Any]]:
        card = await service.card(number)
        if card is None:
            raise BookingError(f"no card {number}")
        return card, await service.appointments(number), await service.ledger(number)

    card, bookings, ledger = _run(data, work)
    appointments = [appointment_json(b) for b in bookings]
    movements = [{"at": datetime.fromtimestamp(e.at).strftime("%Y-%m-%d %H:%M:%S"),
                  "amount": f"{e.amount:.2f}", "balance_after": f"{e.balance_after:.2f}",
                  "reason": e.reason, "ticket": e.ticket, "note": e.note} for e in ledger]
    if as_json:
        typer.echo(json.dumps({**card_json(card), "appointments": appointments,
                               "ledger": movements}, ensure_ascii=False, indent=2))
        return
    _print_card(card)
    typer.echo("")
    print_rows(appointments, {"ticket": "TICKET", "date": "DATE", "session": "SESSION",
                              "kind": "KIND", "department": "DEPARTMENT", "expert": "EXPERT",
                              "fee": "FEE"}, as_json=False, empty="no appointments")
    typer.echo("")
    print_rows(movements, {"at": "AT", "amount": "AMOUNT", "balance_after": "BALANCE",
                           "reason": "REASON", "ticket": "TICKET", "note": "NOTE"},
               as_json=False, empty="no money movements")


@app.command("topup")
def topup(
    number: Number,
    amount: Annotated[str, typer.Argument(help="Yuan to add, e.g. 100 or 20.50.")],
    note: Annotated[str, typer.Option("--note", help="Why (receipt number...).")] = "",
    data: DataDir = DEFAULT_DATA,
) -> None:
    """Add money to a card (one ledger row)."""
    card = _run(data, lambda service: service.change_balance(number, amount, note=note))
    typer.echo(f"card {card.number}: balance {card.balance}")


@app.command("pin")
def pin(
    number: Number,
    new_pin: Annotated[str, typer.Option("--pin", prompt="New PIN", hide_input=True,
                                         confirmation_prompt=True,
                                         help="4 to 12 digits (prompted for when omitted).")],
    data: DataDir = DEFAULT_DATA,
) -> None:
    """Set a new PIN (forgotten, or the card is locked after wrong PINs: this lifts it)."""
    _run(data, lambda service: service.update_card(number, pin=new_pin))
    typer.echo(f"card {number}: PIN changed")
