"""`softswitch run`: start the switch in the foreground until SIGTERM/SIGINT."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Annotated

import typer

from softswitch.config import ConfigError, load_config

__all__ = ["run"]


def run(
    config: Annotated[
        Path | None, typer.Option("--config", "-c", help="TOML configuration file.",
                                  envvar="SOFTSWITCH_CONFIG")
    ] = None,
    sip_host: Annotated[
        str | None, typer.Option(help="Address SIP listens on.", envvar="SOFTSWITCH_SIP_HOST")
    ] = None,
    sip_port: Annotated[
        int | None,
        typer.Option(min=0, max=65535, help="SIP port for UDP and TCP.", envvar="SOFTSWITCH_SIP_PORT"),
    ] = None,
    http_host: Annotated[
        str | None, typer.Option(help="Address HTTP listens on.", envvar="SOFTSWITCH_HTTP_HOST")
    ] = None,
    http_port: Annotated[
        int | None,
        typer.Option(min=0, max=65535, help="HTTP port.", envvar="SOFTSWITCH_HTTP_PORT"),
    ] = None,
    data: Annotated[
        Path | None,
        typer.Option("--data", help="Directory for everything durable.", envvar="SOFTSWITCH_DATA"),
    ] = None,
    demo: Annotated[bool, typer.Option(help="Load the demo hospital into an empty data dir.")] = False,
    log_level: Annotated[
        str | None, typer.Option(help="debug, info, warning or error.", envvar="SOFTSWITCH_LOG_LEVEL")
    ] = None,
) -> None:
    """Start the switch (SIP on UDP+TCP, TLS when configured, and the HTTP API)."""
    from softswitch.app import StartupError, Switch, run_until_signalled

    try:
        cfg = load_config(config).with_overrides(
            sip_host=sip_host,
            sip_port=sip_port,
            http_host=http_host,
            http_port=http_port,
            data_dir=data,
            log_level=log_level,
            demo=demo or None,
        )
    except ConfigError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    level = getattr(logging, cfg.log_level.upper(), None)
    if not isinstance(level, int):
        typer.echo(f"error: unknown log level {cfg.log_level!r}", err=True)
        raise typer.Exit(2)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    _install_uvloop()
    try:
        switch = Switch(cfg)
    except ConfigError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    try:
        asyncio.run(run_until_signalled(switch))
    except StartupError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        pass


def _install_uvloop() -> None:
    try:
        import uvloop
    except ImportError:
        return
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
