"""`softswitch flows`: the call flows this configuration registers and the numbers they serve.

Flows come from the ``softswitch.flows`` entry points and the ``[flows]`` section (and the
switch's built-in ones, such as ``appointments``, unless those replace them); numbers from
``[dialplan] flows``. A number whose flow is not registered is shown as MISSING (callers to it
would be refused); ``--check`` makes that an exit status, to run before a deployment.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from softswitch.config import ConfigError, load_config
from softswitch.flows.registry import FlowRegistry
from softswitch.switch.dialplan import DialPlan

__all__ = ["flows"]


def flows(
    config: Annotated[
        Path | None, typer.Option("--config", "-c", help="TOML configuration file.",
                                  envvar="SOFTSWITCH_CONFIG")
    ] = None,
    check: Annotated[
        bool, typer.Option("--check", help="Exit 1 when a number's flow is not registered.")
    ] = False,
) -> None:
    """List registered call flows, where they come from and the numbers routed to them."""
    try:
        cfg = load_config(config)
        registry = FlowRegistry.from_config(cfg.features.get("flows"))
        plan = DialPlan.from_config(cfg.features)
    except ConfigError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    numbers: dict[str, list[str]] = {}
    for number, name in plan.flows.items():
        numbers.setdefault(name, []).append(number)
    rows = [("NAME", "NUMBERS", "SOURCE", "FUNCTION", "DESCRIPTION")]
    for info in registry.info():
        dialled = ",".join(sorted(numbers.get(info.name, []))) or "-"
        rows.append((info.name, dialled, info.source, info.target, info.summary))
    from softswitch.app import BUILTIN_FLOWS  # the switch's own flows, unless overridden

    builtin = {name: text for name, text in BUILTIN_FLOWS.items() if name not in registry}
    for name, text in sorted(builtin.items()):
        dialled = ",".join(sorted(numbers.get(name, []))) or "-"
        rows.append((name, dialled, "builtin", "-", text))
    missing = sorted(set(numbers) - set(registry) - set(builtin))
    for name in missing:
        rows.append((name, ",".join(sorted(numbers[name])), "MISSING", "-", "not registered"))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        typer.echo("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())
    if missing and check:
        raise typer.Exit(1)
