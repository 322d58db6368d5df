"""How list commands print: a JSON array with --json, else an aligned table (or a line saying
there is nothing), so every `softswitch ... list` looks and scripts the same."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import typer

__all__ = ["print_rows"]


def print_rows(
    rows: Sequence[Mapping[str, Any]], columns: Mapping[str, str], *, as_json: bool, empty: str
) -> None:
    """Print ``rows`` (dicts) under ``columns`` ({key: heading}); empty cells show as '-'."""
    if as_json:
        typer.echo(json.dumps(list(rows), indent=2))
        return
    if not rows:
        typer.echo(empty)
        return
    table = [dict(columns)] + [{key: _cell(row.get(key)) for key in columns} for row in rows]
    widths = {key: max(len(line[key]) for line in table) for key in columns}
    for line in table:
        typer.echo("  ".join(line[key].ljust(widths[key]) for key in columns).rstrip())


def _cell(value: object) -> str:
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value) or "-"
    return "-" if value is None or value == "" else str(value)
