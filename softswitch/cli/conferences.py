"""`softswitch conferences ...`: rooms in progress and their members, asked of the running
switch through `/api/conferences` with the admin token (conferences live only in the switch)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Annotated, Any

import typer

from softswitch.cli.output import print_rows
from softswitch.web.auth import TOKEN_FILE

__all__ = ["app"]

app = typer.Typer(help="Conference rooms: list, mute, kick, lock, record, invite.",
                  no_args_is_help=True)

UrlOption = Annotated[str, typer.Option(envvar="SOFTSWITCH_URL", help="The switch's HTTP API.")]
DataOption = Annotated[
    Path, typer.Option("--data", envvar="SOFTSWITCH_DATA", help="Data directory.")
]
URL = "http://127.0.0.1:8080"


def _call(url: str, data: Path, method: str, path: str, body: dict[str, Any] | None = None,
          timeout: float = 10.0) -> Any:
    """One API request; prints the switch's reason and exits 1 on any failure."""
    try:
        token = (data / TOKEN_FILE).read_text(encoding="utf-8").strip()
    except OSError as exc:
        typer.echo(f"error: cannot read the API token: {exc}", err=True)
        raise typer.Exit(code=1) from None
    request = urllib.request.Request(
        f"{url.rstrip('/')}/api/conferences{path}", method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            raw = response.read()
    except urllib.error.HTTPError as exc:
        typer.echo(f"error: {_reason(exc)}", err=True)
        raise typer.Exit(code=1) from None
    except (urllib.error.URLError, OSError) as exc:
        typer.echo(f"error: cannot reach the switch at {url}: {exc}", err=True)
        raise typer.Exit(code=1) from None
    return json.loads(raw) if raw else None


def _reason(exc: urllib.error.HTTPError) -> str:
    try:
        answer = json.loads(exc.read())
    except (ValueError, OSError):
        return f"HTTP {exc.code}"
    detail = str(answer.get("detail") or f"HTTP {exc.code}") if isinstance(answer, dict) else ""
    errors = answer.get("errors") if isinstance(answer, dict) else None
    if isinstance(errors, list) and errors:  # the API's 422: which field, and what is wrong
        detail += ": " + "; ".join(f"{e.get('field')}: {e.get('error')}" for e in errors)
    return detail or f"HTTP {exc.code}"


@app.command("list")
def list_rooms(
    room: Annotated[str | None, typer.Argument(help="Only this room.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON array.")] = False,
    url: UrlOption = URL,
    data: DataOption = Path("var"),
) -> None:
    """Rooms with members, one line per member."""
    rooms = [_call(url, data, "GET", f"/{room}")] if room else _call(url, data, "GET", "")
    if as_json:
        typer.echo(json.dumps(rooms, indent=2))
        return
    rows = [{"room": r["room"], **m, "locked": r["locked"], "recording": r["recording"]}
            for r in rooms for m in r["members"]]
    print_rows(rows, {"room": "ROOM", "id": "MEMBER", "caller": "CALLER", "role": "ROLE",
                      "muted": "MUTED", "talking": "TALKING", "locked": "LOCKED",
                      "recording": "RECORDING"},
               as_json=False, empty="no conference in progress")


@app.command()
def mute(room: str, member: int, url: UrlOption = URL, data: DataOption = Path("var")) -> None:
    """Mute a member (the others stop hearing them)."""
    _call(url, data, "PUT", f"/{room}/members/{member}/mute", {"muted": True})
    typer.echo(f"room {room}: member {member} muted")


@app.command()
def unmute(room: str, member: int, url: UrlOption = URL, data: DataOption = Path("var")) -> None:
    """Unmute a member."""
    _call(url, data, "PUT", f"/{room}/members/{member}/mute", {"muted": False})
    typer.echo(f"room {room}: member {member} unmuted")


@app.command()
def kick(room: str, member: int, url: UrlOption = URL, data: DataOption = Path("var")) -> None:
    """Remove a member: they are told so and hung up."""
    _call(url, data, "DELETE", f"/{room}/members/{member}")
    typer.echo(f"room {room}: member {member} removed")


@app.command()
def end(room: str, url: UrlOption = URL, data: DataOption = Path("var")) -> None:
    """End a room: every member is told and hung up."""
    answer = _call(url, data, "DELETE", f"/{room}")
    typer.echo(f"room {room} ended ({answer['ended']} member(s))")


@app.command()
def lock(room: str, url: UrlOption = URL, data: DataOption = Path("var")) -> None:
    """Lock a room: only moderators may join."""
    _call(url, data, "PUT", f"/{room}/lock", {"locked": True})
    typer.echo(f"room {room} locked")


@app.command()
def unlock(room: str, url: UrlOption = URL, data: DataOption = Path("var")) -> None:
    """Unlock a room."""
    _call(url, data, "PUT", f"/{room}/lock", {"locked": False})
    typer.echo(f"room {room} unlocked")


@app.command()
def record(room: str, url: UrlOption = URL, data: DataOption = Path("var")) -> None:
    """Start recording a room (a WAV under DATA/recordings)."""
    answer = _call(url, data, "POST", f"/{room}/recording")
    typer.echo(f"room {room}: recording into {answer['recording']}")


@app.command("stop-recording")
def stop_recording(room: str, url: UrlOption = URL, data: DataOption = Path("var")) -> None:
    """Stop recording a room; prints the finished file."""
    answer = _call(url, data, "DELETE", f"/{room}/recording")
    typer.echo(f"room {room}: recording saved as {answer['recording']}")


@app.command()
def invite(
    room: str,
    number: Annotated[str, typer.Argument(help="Extension or outside number to dial.")],
    listener: Annotated[bool, typer.Option("--listener", help="Listen only.")] = False,
    moderator: Annotated[bool, typer.Option("--moderator", help="As a moderator.")] = False,
    timeout: Annotated[float, typer.Option(help="Seconds to ring.")] = 30.0,
    url: UrlOption = URL,
    data: DataOption = Path("var"),
) -> None:
    """Dial a number and put whoever answers into the room (waits for the answer)."""
    if listener and moderator:
        typer.echo("error: --listener and --moderator exclude each other", err=True)
        raise typer.Exit(code=2)
    role = "listener" if listener else "moderator" if moderator else "participant"
    typer.echo(f"calling {number}...")
    member = _call(url, data, "POST", f"/{room}/invite",
                   {"number": number, "role": role, "timeout": timeout}, timeout=timeout + 10)
    typer.echo(f"room {room}: {number} joined as member {member['id']} ({member['role']})")
