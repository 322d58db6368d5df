"""`softswitch users ...`: manage the extension directory, whether or not the switch runs.

Every command opens the database in ``--data`` (WAL lets it share the file with a running
switch), does one thing, and closes it. Errors are one line on stderr with exit code 1.

The digest realm is fixed in the database on first use (``--realm``, ``SOFTSWITCH_REALM`` or
``softswitch``). HA1 values depend on it, so a different realm is refused rather than mixed
in; ``softswitch users realm NEW`` changes it, after which every password must be set again.
"""

from __future__ import annotations

import asyncio
import csv
import re
import sqlite3
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from softswitch.cli.output import print_rows
from softswitch.store import Database, StoreError, User, open_database
from softswitch.switch.directory import (
    DEFAULT_REALM,
    InvalidUserError,
    make_user,
    user_summary,
    validate_extension,
    validate_realm,
    validate_right,
)

app = typer.Typer(help="Manage extensions (users) in the directory.", no_args_is_help=True)

T = TypeVar("T")

DataDir = Annotated[
    Path,
    typer.Option("--data", envvar="SOFTSWITCH_DATA", help="Data directory.", show_default=True),
]
Realm = Annotated[
    str | None,
    typer.Option(
        "--realm", envvar="SOFTSWITCH_REALM",
        help="Digest realm (default: the one stored in the database, else 'softswitch').",
    ),
]
Extension = Annotated[str, typer.Argument(help="Extension number (2 to 15 digits).")]
NewPassword = Annotated[
    str,
    typer.Option(
        "--password", prompt=True, hide_input=True, confirmation_prompt=True,
        help="SIP password (prompted for when omitted; it is stored only as HA1 digests).",
    ),
]
DEFAULT_DATA = Path("var")
REQUIRED_COLUMNS = ("extension", "password", "name")
OPTIONAL_COLUMNS = ("department", "voicemail_pin", "rights", "class_of_service")
MAX_REPORTED_ERRORS = 50


class CommandError(Exception):
    """A problem to report on one line, without a traceback."""


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code=1)


def _run(work: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run one async command body; turn every expected failure into a one-line error."""
    try:
        return asyncio.run(work())
    except (CommandError, StoreError, InvalidUserError) as error:
        raise _fail(str(error)) from None
    except sqlite3.Error as error:
        raise _fail(f"database error: {error}") from None


@asynccontextmanager
async def _directory(data: Path, realm: str | None) -> AsyncIterator[tuple[Database, str]]:
    """Open the database and settle the realm (stored on first use, then enforced)."""
    db = await open_database(data)
    try:
        stored = await db.settings.get("realm")
        if realm is not None and stored is not None and realm != stored:
            raise CommandError(
                f"this directory uses realm {stored!r}, not {realm!r}; to change it run "
                f"'softswitch users realm {realm}' and then set every password again"
            )
        if stored is None:
            stored = await db.settings.get_or_set("realm", validate_realm(realm or DEFAULT_REALM))
        yield db, stored
    finally:
        await db.close()


async def _require(db: Database, extension: str) -> User:
    user = await db.users.get(validate_extension(extension))
    if user is None:
        raise CommandError(f"no such extension: {extension}")
    return user


@app.command("add")
def add(
    extension: Extension,
    password: NewPassword,
    name: Annotated[str, typer.Option("--name", help="Display name.")] = "",
    department: Annotated[str, typer.Option("--department", help="Department.")] = "",
    class_of_service: Annotated[
        str, typer.Option("--class-of-service", help="internal, local, national, international.")
    ] = "internal",
    rights: Annotated[
        list[str] | None, typer.Option("--right", help="Feature right (repeatable).")
    ] = None,
    voicemail_pin: Annotated[
        str | None, typer.Option("--voicemail-pin", help="4 to 12 digits.")
    ] = None,
    data: DataDir = DEFAULT_DATA,
    realm: Realm = None,
) -> None:
    """Add an extension."""

    async def work() -> None:
        async with _directory(data, realm) as (db, used_realm):
            user = make_user(
                extension, password, used_realm, display_name=name, department=department,
                class_of_service=class_of_service, rights=rights or (),
                voicemail_pin=voicemail_pin,
            )
            await db.users.add(user)
        typer.echo(f"added {extension} (realm {used_realm})")

    _run(work)


@app.command("list")
def list_users(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON array.")] = False,
    data: DataDir = DEFAULT_DATA,
    realm: Realm = None,
) -> None:
    """List extensions. STATE says 'needs password' when the realm has changed since."""

    async def work() -> tuple[list[User], str]:
        async with _directory(data, realm) as (db, used_realm):
            return await db.users.list(), used_realm

    users, used_realm = _run(work)
    rows = [user_summary(user, used_realm) for user in users]
    print_rows(rows, {"extension": "EXT", "name": "NAME", "department": "DEPARTMENT",
                      "class_of_service": "COS", "rights": "RIGHTS", "state": "STATE"},
               as_json=as_json, empty=f"no extensions (realm {used_realm})")


@app.command("remove")
def remove(extension: Extension, data: DataDir = DEFAULT_DATA, realm: Realm = None) -> None:
    """Remove an extension and its registrations."""

    async def work() -> None:
        async with _directory(data, realm) as (db, _):
            await _require(db, extension)
            await db.users.remove(extension)
            await db.bindings.remove_all(extension)
        typer.echo(f"removed {extension}")

    _run(work)


@app.command("passwd")
def passwd(
    extension: Extension, password: NewPassword, data: DataDir = DEFAULT_DATA, realm: Realm = None
) -> None:
    """Set a new password (also needed for every user after a realm change)."""

    async def work() -> None:
        async with _directory(data, realm) as (db, used_realm):
            await _require(db, extension)
            user = make_user(extension, password, used_realm)  # same password rules as add
            await db.users.set_credentials(
                extension, realm=used_realm, ha1_md5=user.ha1_md5, ha1_sha256=user.ha1_sha256
            )
        typer.echo(f"password changed for {extension}")

    _run(work)


def _set_right(extension: str, right: str, data: Path, realm: str | None, grant: bool) -> None:
    async def work() -> bool:
        async with _directory(data, realm) as (db, _):
            await _require(db, extension)
            name = validate_right(right)
            if grant:
                return await db.users.grant(extension, name)
            return await db.users.revoke(extension, name)

    name = right.strip().lower()
    changed = _run(work)
    if grant:
        typer.echo(f"granted {name} to {extension}" if changed else f"{extension} has {name}")
    else:
        typer.echo(f"revoked {name} from {extension}" if changed else f"{extension} lacks {name}")


@app.command("grant")
def grant(
    extension: Extension,
    right: Annotated[str, typer.Argument(help="Feature right, e.g. paging.")],
    data: DataDir = DEFAULT_DATA,
    realm: Realm = None,
) -> None:
    """Grant a feature right."""
    _set_right(extension, right, data, realm, grant=True)


@app.command("revoke")
def revoke(
    extension: Extension,
    right: Annotated[str, typer.Argument(help="Feature right, e.g. paging.")],
    data: DataDir = DEFAULT_DATA,
    realm: Realm = None,
) -> None:
    """Revoke a feature right."""
    _set_right(extension, right, data, realm, grant=False)


def _set_enabled(extension: str, data: Path, realm: str | None, enabled: bool) -> None:
    async def work() -> None:
        async with _directory(data, realm) as (db, _):
            await _require(db, extension)
            await db.users.set_enabled(extension, enabled)

    _run(work)
    typer.echo(f"{'enabled' if enabled else 'disabled'} {extension}")


@app.command("enable")
def enable(extension: Extension, data: DataDir = DEFAULT_DATA, realm: Realm = None) -> None:
    """Allow an extension to register and call again."""
    _set_enabled(extension, data, realm, enabled=True)


@app.command("disable")
def disable(extension: Extension, data: DataDir = DEFAULT_DATA, realm: Realm = None) -> None:
    """Keep an extension's data but refuse its registrations and calls."""
    _set_enabled(extension, data, realm, enabled=False)


@app.command("realm")
def realm_command(
    new_realm: Annotated[str | None, typer.Argument(help="New realm; omit to show it.")] = None,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
    data: DataDir = DEFAULT_DATA,
) -> None:
    """Show or change the digest realm. Changing it needs every password again."""

    async def show() -> str:
        async with _directory(data, None) as (_, used_realm):
            return used_realm

    if new_realm is None:
        typer.echo(_run(show))
        return
    if not yes:
        typer.confirm(
            f"Change the realm to {new_realm!r}? Every extension will need 'users passwd'.",
            abort=True,
        )

    async def change() -> int:
        async with _directory(data, None) as (db, _):
            await db.settings.set("realm", validate_realm(new_realm))
            return sum(user.realm != new_realm for user in await db.users.list())

    stale = _run(change)
    typer.echo(f"realm is now {new_realm}; {stale} extension(s) need a new password")


@app.command("import")
def import_users(
    file: Annotated[Path, typer.Argument(help="CSV with header extension,password,name.")],
    data: DataDir = DEFAULT_DATA,
    realm: Realm = None,
) -> None:
    """Import extensions from CSV: all rows or, if any row is bad, none.

    Optional columns: department, voicemail_pin, class_of_service, rights (separated by
    ';' or spaces). Bad rows are reported by line number.
    """

    async def work() -> int:
        async with _directory(data, realm) as (db, used_realm):
            parsed, errors = _parse_csv(file, used_realm)
            taken = await db.users.existing(parsed)
            errors += [
                (line, f"extension {ext} already exists")
                for ext, (_, line) in parsed.items()
                if ext in taken
            ]
            if errors:
                _report(sorted(errors))
                raise CommandError(f"{len(errors)} bad row(s) in {file}; nothing imported")
            await db.users.add_many([user for user, _ in parsed.values()])
            return len(parsed)

    count = _run(work)
    typer.echo(f"imported {count} extension(s)")


def _report(errors: list[tuple[int, str]]) -> None:
    for line, message in errors[:MAX_REPORTED_ERRORS]:
        typer.echo(f"line {line}: {message}", err=True)
    if len(errors) > MAX_REPORTED_ERRORS:
        typer.echo(f"... and {len(errors) - MAX_REPORTED_ERRORS} more", err=True)


def _parse_csv(
    file: Path, realm: str
) -> tuple[dict[str, tuple[User, int]], list[tuple[int, str]]]:
    """Validate every row; return users by extension (with their line) and (line, error)s."""
    users: dict[str, tuple[User, int]] = {}
    errors: list[tuple[int, str]] = []
    for line, row in _read_rows(file):
        if isinstance(row, str):
            errors.append((line, row))
            continue
        extension = row["extension"].strip()
        if extension in users:
            errors.append((line, f"extension {extension} repeated (first on line "
                                 f"{users[extension][1]})"))
            continue
        try:
            user = make_user(
                extension, row["password"], realm,
                display_name=row["name"], department=row.get("department", ""),
                class_of_service=row.get("class_of_service", "").strip() or "internal",
                rights=re.split(r"[;\s]+", row.get("rights", "")),
                voicemail_pin=row.get("voicemail_pin", "").strip() or None,
            )
        except InvalidUserError as error:
            errors.append((line, str(error)))
            continue
        users[extension] = (user, line)
    return users, errors


def _read_rows(file: Path) -> Iterator[tuple[int, dict[str, str] | str]]:
    """(line, row by column) for each non-blank row, or (line, problem) for a malformed one."""
    try:
        text = file.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) else "not UTF-8 text"
        raise CommandError(f"cannot read {file}: {reason}") from None
    reader = csv.reader(text.splitlines(keepends=True))
    try:
        header = [column.strip().lower() for column in next(reader, [])]
        _check_header(file, header)
        start = reader.line_num + 1
        for values in reader:
            line, start = start, reader.line_num + 1
            if not any(value.strip() for value in values):
                continue
            if len(values) != len(header):
                yield line, f"{len(values)} fields, the header has {len(header)}"
                continue
            yield line, dict(zip(header, values, strict=True))
    except csv.Error as error:
        raise CommandError(f"{file}: line {reader.line_num}: {error}") from None


def _check_header(file: Path, header: list[str]) -> None:
    missing = [column for column in REQUIRED_COLUMNS if column not in header]
    if missing:
        raise CommandError(
            f"{file}: line 1: missing column(s) {', '.join(missing)}; "
            f"the header needs {','.join(REQUIRED_COLUMNS)}"
        )
    unknown = [column for column in header if column not in REQUIRED_COLUMNS + OPTIONAL_COLUMNS]
    if unknown:
        raise CommandError(
            f"{file}: line 1: unknown column(s) {', '.join(unknown)}; "
            f"optional columns are {', '.join(OPTIONAL_COLUMNS)}"
        )
    if len(set(header)) != len(header):
        raise CommandError(f"{file}: line 1: a column appears twice")
