"""Speed dial: ``*0`` + a two-digit code dials a stored number.

System-wide codes come from the configuration (``[speed_dial] "01" = "1002"``, the same for
every phone); personal codes are stored per extension (table ``speed_dials``, set through the
API or the CLI) and win over a system code of the same number. The B2BUA asks
`SpeedDials.rewrite` before routing (`B2bua.rewrite_numbers`), so the call is routed, limited
by class of service and recorded as if the stored number had been dialled; an unknown code is
refused 404 by the dial plan's ``speed_dial`` feature.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from softswitch.config import ConfigError
from softswitch.store.sqlite import SqliteConnection
from softswitch.switch.b2bua import B2bua
from softswitch.switch.dialplan import Route
from softswitch.switch.legs import Call

__all__ = ["PREFIX", "SpeedDialError", "SpeedDials", "check_code", "check_number",
           "speed_dials_from"]

PREFIX = "*0"
_CODE = re.compile(r"[0-9]{2}")
_NUMBER = re.compile(r"\+?[0-9*#]{1,32}")


class SpeedDialError(ValueError):
    """A code or number that cannot be stored (the API's 422, the CLI's message)."""


def check_code(code: str) -> str:
    if not _CODE.fullmatch(code):
        raise SpeedDialError(f"speed dial code {code!r} must be two digits (00-99)")
    return code


def check_number(number: str) -> str:
    if not _NUMBER.fullmatch(number):
        raise SpeedDialError(f"number {number!r} must be 1-32 digits, * or # (+ first allowed)")
    return number


def speed_dials_from(features: Mapping[str, Any]) -> dict[str, str]:
    """The system-wide codes of ``[speed_dial]``; ConfigError names a bad entry."""
    raw = features.get("speed_dial", {})
    if not isinstance(raw, Mapping):
        raise ConfigError('[speed_dial] must be a table of "CODE" = "NUMBER"')
    try:
        return {check_code(str(code)): check_number(str(number)) for code, number in raw.items()}
    except SpeedDialError as exc:
        raise ConfigError(f"[speed_dial]: {exc}") from None


class SpeedDials:
    """Personal codes (stored) over the system-wide ones (configured)."""

    def __init__(self, db: SqliteConnection, system: Mapping[str, str] | None = None) -> None:
        self._db = db
        self.system = dict(system or {})

    async def personal(self, owner: str) -> dict[str, str]:
        rows = await self._db.fetch_all(
            "SELECT code, number FROM speed_dials WHERE owner = ? ORDER BY code", (owner,))
        return {row["code"]: row["number"] for row in rows}

    async def set(self, owner: str, code: str, number: str) -> None:
        """Store (or replace) one personal code; SpeedDialError for a bad code or number."""
        check_code(code)
        check_number(number)
        await self._db.write(lambda tx: tx.execute(
            "INSERT INTO speed_dials (owner, code, number) VALUES (?, ?, ?) "
            "ON CONFLICT (owner, code) DO UPDATE SET number = excluded.number",
            (owner, code, number)))

    async def remove(self, owner: str, code: str) -> bool:
        """Forget one personal code; False when there was none."""
        changed = await self._db.write(lambda tx: tx.execute(
            "DELETE FROM speed_dials WHERE owner = ? AND code = ?", (owner, code)))
        return changed > 0

    async def lookup(self, owner: str, code: str) -> str | None:
        row = await self._db.fetch_one(
            "SELECT number FROM speed_dials WHERE owner = ? AND code = ?", (owner, code))
        return row["number"] if row is not None else self.system.get(code)

    async def rewrite(self, caller: str, dialled: str) -> str | None:
        """The number ``*0NN`` stands for, for this caller; None for anything else."""
        code = dialled[len(PREFIX):]
        if not dialled.startswith(PREFIX) or not _CODE.fullmatch(code):
            return None
        number = await self.lookup(caller, code)
        return number if number is not None and not number.startswith(PREFIX) else None

    def attach(self, b2bua: B2bua) -> None:
        """Rewrite ``*0NN`` before routing; refuse an unknown code."""

        async def unknown(call: Call, route: Route) -> None:
            await b2bua.refuse(call, 404, "No Such Speed Dial", f"speed dial {call.dialled}")

        b2bua.rewrite_numbers(self.rewrite)
        b2bua.serve_feature("speed_dial", unknown)
