"""The switch process: opens storage, binds the transports, serves HTTP, stops cleanly.

`Switch` is what `softswitch run` and the integration tests start; it wires the layers together
and owns nothing that a layer could own itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from typing import Any

from softswitch.config import Config
from softswitch.metrics import SwitchMetrics
from softswitch.switch.core import SipCore
from softswitch.transport.manager import TransportManager
from softswitch.web import HttpServer, create_app
from softswitch.web.auth import ensure_admin_token

__all__ = ["Switch", "StartupError", "run_until_signalled"]

log = logging.getLogger(__name__)


class StartupError(Exception):
    """The switch cannot start (port in use, unwritable data dir, bad TLS files...)."""


class Switch:
    def __init__(self, config: Config) -> None:
        self.config = config
        self.metrics = SwitchMetrics()
        self.transports: TransportManager | None = None
        self.core: SipCore | None = None
        self.http: HttpServer | None = None
        self.started_at = 0.0
        self.admin_token = ""
        self._lag_task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        cfg = self.config
        try:
            cfg.data_dir.mkdir(parents=True, exist_ok=True)
            self.admin_token = ensure_admin_token(cfg.data_dir, cfg.http.token)
        except OSError as exc:
            raise StartupError(f"data directory {cfg.data_dir}: {exc.strerror or exc}") from None
        self.transports = TransportManager(cfg.sip, self.metrics)
        self.core = SipCore(cfg.sip, self.transports, self.metrics)
        try:
            await self.transports.start()
        except OSError as exc:
            await self.transports.stop()
            raise StartupError(f"cannot listen for SIP on {cfg.sip.host}:{cfg.sip.port}: "
                               f"{exc.strerror or exc}") from None
        app = create_app(admin_token=self.admin_token, metrics=self.metrics, status=self.status)
        try:
            self.http = HttpServer(app, cfg.http.host, cfg.http.port)
        except OSError as exc:
            await self.transports.stop()
            raise StartupError(f"cannot listen for HTTP on {cfg.http.host}:{cfg.http.port}: "
                               f"{exc.strerror or exc}") from None
        await self.http.start()
        self.started_at = time.monotonic()
        self._lag_task = asyncio.create_task(self._measure_loop_lag())

    async def stop(self) -> None:
        if self._lag_task is not None:
            self._lag_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._lag_task
        if self.http is not None:
            await self.http.stop()
        if self.core is not None:
            self.core.stop()
        if self.transports is not None:
            await self.transports.stop()

    @property
    def sip_port(self) -> int:
        assert self.transports is not None
        return self.transports.port

    @property
    def http_port(self) -> int:
        assert self.http is not None
        return self.http.port

    def status(self) -> dict[str, Any]:
        return {
            "uptime_seconds": round(time.monotonic() - self.started_at, 1) if self.started_at else 0,
            "sip": self.transports.listening() if self.transports else [],
            "transactions": self.metrics.transactions_alive(),
        }

    async def _measure_loop_lag(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            expected = loop.time() + 1.0
            await asyncio.sleep(1.0)
            self.metrics.loop_lag_seconds = max(0.0, loop.time() - expected)


async def run_until_signalled(switch: Switch) -> None:
    """Start, print where we listen, and stop cleanly on SIGTERM or SIGINT."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await switch.start()
    try:
        for line in switch.transports.listening() if switch.transports else []:
            print(f"SIP  listening on {line}", flush=True)
        print(f"HTTP listening on http://{switch.config.http.host}:{switch.http_port} "
              f"(API token in {switch.config.data_dir / 'admin-token'})", flush=True)
        await stop.wait()
        print("stopping", flush=True)
    finally:
        await switch.stop()
