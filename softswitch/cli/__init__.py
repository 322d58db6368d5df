"""The `softswitch` command line: one Typer app per area, joined here.

Each area lives in its own module (`run`, `users`, ...) and exposes a `Typer()` or a command
function; `main()` is the console-script entry point.
"""

from __future__ import annotations

import typer

from softswitch.cli import cards as _cards
from softswitch.cli import cdr as _cdr
from softswitch.cli import conferences as _conferences
from softswitch.cli import flows as _flows
from softswitch.cli import lines as _lines
from softswitch.cli import registrations as _registrations
from softswitch.cli import run as _run
from softswitch.cli import speeddial as _speeddial
from softswitch.cli import status as _status
from softswitch.cli import users as _users
from softswitch.cli import voicemail as _voicemail

__all__ = ["app", "main"]

app = typer.Typer(
    name="softswitch",
    help="A pure-Python SIP/RTP softswitch for hospital contact centres.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command("run")(_run.run)
app.add_typer(_users.app, name="users")
app.add_typer(_conferences.app, name="conferences")
app.command("registrations")(_registrations.registrations)
app.add_typer(_cdr.cdr_app, name="cdr")
app.command("calls")(_cdr.calls)
app.command("flows")(_flows.flows)
app.command("status")(_status.status)
app.add_typer(_cards.app, name="cards")
app.add_typer(_speeddial.app, name="speeddial")
app.add_typer(_lines.app, name="lines")
app.add_typer(_voicemail.app, name="voicemail")


def main() -> None:
    """Console-script entry point."""
    app()
