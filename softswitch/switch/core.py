"""The SIP core of the switch: receives accepted messages and dispatches requests by method.

Features register a handler per method (`core.handle("REGISTER", registrar.on_register)`).
A handler gets a `ServerRequest` and answers with `reply()`, synchronously or from a task.
OPTIONS is answered here (200 with Allow/Accept/Supported); a method nobody handles gets 405
with Allow, an ACK or a response nobody expects is dropped.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable

from softswitch.config import SipConfig
from softswitch.metrics import SwitchMetrics
from softswitch.sip.builders import make_response
from softswitch.sip.destination import Destination
from softswitch.sip.inbound import response_destination
from softswitch.sip.message import Request, Response
from softswitch.transport.manager import SUPPORTED_EXTENSIONS, TransportManager

__all__ = ["SipCore", "ServerRequest", "RequestHandler"]

log = logging.getLogger(__name__)


class ServerRequest:
    """A received request and the means to answer it."""

    __slots__ = ("request", "source", "_core", "answered")

    def __init__(self, core: SipCore, request: Request, source: Destination) -> None:
        self.request = request
        self.source = source
        self._core = core
        self.answered = False

    def reply(
        self,
        status: int,
        reason: str | None = None,
        headers: Iterable[tuple[str, str]] = (),
        body: bytes = b"",
        to_tag: str | None = None,
    ) -> Response:
        response = make_response(self.request, status, reason, to_tag=to_tag)
        for name, value in headers:
            response.headers.add(name, value)
        response.headers.add("Server", self._core.config.user_agent)
        response.body = body
        self._core.send_response(self, response)
        if status >= 200:
            self.answered = True
        return response


RequestHandler = Callable[[ServerRequest], Awaitable[None] | None]


class SipCore:
    def __init__(self, config: SipConfig, transports: TransportManager, metrics: SwitchMetrics):
        self.config = config
        self.transports = transports
        self.metrics = metrics
        self.handlers: dict[str, RequestHandler] = {"OPTIONS": self._on_options}
        self._tasks: set[asyncio.Task[None]] = set()
        transports.set_receiver(self.receive)

    def handle(self, method: str, handler: RequestHandler) -> None:
        self.handlers[method.upper()] = handler

    @property
    def allow(self) -> str:
        return ", ".join(sorted(set(self.handlers) | {"ACK"}))

    def receive(self, message: Request | Response, source: Destination) -> None:
        if isinstance(message, Response):
            return  # no client transactions yet to match it against: drop (RFC 3261 18.1.2)
        if message.method == "ACK":
            return
        server_request = ServerRequest(self, message, source)
        handler = self.handlers.get(message.method)
        if handler is None:
            server_request.reply(405, headers=[("Allow", self.allow)])
            return
        result = handler(server_request)
        if result is not None:
            task = asyncio.ensure_future(self._guard(server_request, result))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _guard(self, server_request: ServerRequest, work: Awaitable[None]) -> None:
        """A failing handler answers 500 and is logged; it never takes the switch down."""
        try:
            await work
        except Exception:
            log.exception("handler for %s failed", server_request.request.method)
            if not server_request.answered:
                server_request.reply(500)

    def send_response(self, server_request: ServerRequest, response: Response) -> None:
        via = server_request.request.top_via
        destination = response_destination(via, server_request.source)
        self.metrics.responses_out[response.status] += 1
        self.transports.send(response.serialize(), destination)

    def _on_options(self, server_request: ServerRequest) -> None:
        server_request.reply(
            200,
            headers=[
                ("Allow", self.allow),
                ("Accept", "application/sdp"),
                ("Supported", ", ".join(SUPPORTED_EXTENSIONS)),
            ],
        )

    def stop(self) -> None:
        for task in self._tasks:
            task.cancel()

