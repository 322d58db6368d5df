"""The SIP core of the switch: the asyncio adapter around the sans-IO transaction layer.

Accepted messages from the transports go through the `TransactionLayer`; its outputs are sent
(`Transmit`) or turned into calls of the registered handlers:

- requests: `core.handle("REGISTER", handler)`; the handler gets a `ServerRequest` and answers
  with `reply()`, synchronously or from the awaitable it returns. With
  `handle(..., stateless_first=True)` (for handlers that never send a provisional response)
  no server transaction object is made at all: a final answer given during the call goes out
  statelessly (RFC 3261 8.2.7), like the registrar's challenges, half of all REGISTERs; for
  work it returns, the request is only marked in progress. Over UDP the answer's bytes are
  kept for 64*T1 (`StatelessAnswers`, a non-INVITE server transaction reduced to a dict
  entry): retransmissions are swallowed while in progress and get the same bytes after. A handler that fails answers
  500; one that finishes without a final answer also gets 500, so no server transaction is left
  waiting forever. OPTIONS is answered here, statelessly (RFC 3261 8.2.7), as load balancers
  and phones probe with it at high rates; other methods nobody handles get 405 with Allow.
- CANCEL is matched to its INVITE (RFC 3261 9.2): 481 when there is none, else 200 and the
  INVITE's `ServerRequest.cancelled` event is set so its handler answers 487.
- ACKs for 2xx and responses no transaction expects go to `on_ack` / `on_stray_response`
  (the dialog layer's business).
- `send_request(request, destination)` runs a client transaction and resolves to the final
  response (408 on timeout, 503 when the transport failed), with provisional ones passed to an
  optional callback. `cancel(future)` CANCELs a pending INVITE started that way (RFC 3261 9.1)
  and `send_ack(ack, destination)` sends the ACK for a 2xx, which has no transaction (17.1).
- A 2xx retransmission to an INVITE whose future already resolved goes to `on_stray_response`
  too, so the B2BUA re-sends its ACK (RFC 3261 13.2.2.4, RFC 6026 Accepted state).

A single `loop.call_at` handle is armed for the layer's earliest deadline.
"""

from __future__ import annotations

import asyncio
import hashlib
import inspect
import logging
from collections.abc import Awaitable, Callable, Iterable
from functools import partial

from softswitch.config import SipConfig
from softswitch.metrics import SwitchMetrics
from softswitch.sip.builders import make_response
from softswitch.sip.destination import Destination
from softswitch.sip.errors import RemoteProtocolError, TransactionError
from softswitch.sip.inbound import response_destination
from softswitch.sip.message import Request, Response
from softswitch.sip.transaction import (
    AckReceived,
    Output,
    RequestReceived,
    ResponseReceived,
    StrayAck,
    StrayResponse,
    TimerSettings,
    TransactionLayer,
    TransactionTimeout,
    Transmit,
    TransportFailure,
)
from softswitch.sip.transaction.answers import IN_PROGRESS, StatelessAnswers
from softswitch.sip.transaction.keys import ServerKey, server_key
from softswitch.switch.cancel_signal import CancelSignal
from softswitch.transport.manager import SUPPORTED_EXTENSIONS, TransportManager

__all__ = ["SipCore", "ServerRequest", "RequestHandler", "ProvisionalHandler"]

log = logging.getLogger(__name__)

STATELESS_METHODS = frozenset({"OPTIONS"})


class ServerRequest:
    """A received request and the means to answer it."""

    __slots__ = ("request", "source", "transaction_id", "answered", "cancelled", "_core",
                 "answer_key")

    def __init__(
        self, core: SipCore, request: Request, source: Destination, transaction_id: int | None
    ) -> None:
        self.request = request
        self.source = source
        self.transaction_id = transaction_id
        self.answered = False
        self.answer_key: ServerKey | None = None  # remember a stateless answer under this key
        self.cancelled: CancelSignal | None = CancelSignal() if request.method == "INVITE" else None
        self._core = core

    def reply(
        self,
        status: int,
        reason: str | None = None,
        headers: Iterable[tuple[str, str]] = (),
        body: bytes = b"",
        to_tag: str | None = None,
    ) -> Response:
        """Send a response; after a final one, further replies are ignored (and logged)."""
        if to_tag is None and self.transaction_id is None:
            to_tag = stateless_tag(self.request)
        response = make_response(self.request, status, reason, to_tag=to_tag)
        for name, value in headers:
            response.headers.add(name, value)
        response.headers.add("Server", self._core.config.user_agent)
        response.body = body
        return self.respond(response)

    def respond(self, response: Response) -> Response:
        """Send a response built elsewhere (a dialog's, with its tag and Contact); the same
        once-final rule as `reply` applies."""
        if self.answered:
            log.warning("ignoring %s after a final response to %s",
                        response.status, self.request.method)
            return response
        if response.status >= 200:
            self.answered = True
        self._core.send_response(self, response)
        return response


def stateless_tag(request: Request) -> str:
    """The To tag of a stateless answer: the same for a retransmission of the same request
    (RFC 3261 8.2.7), different for different requests."""
    headers = request.headers
    key = "\0".join((headers.get("call-id") or "", headers.get("cseq") or "",
                      headers.get("from") or "", headers.get("via") or ""))
    return hashlib.blake2s(key.encode(), digest_size=6).hexdigest()


RequestHandler = Callable[[ServerRequest], Awaitable[None] | None]
ProvisionalHandler = Callable[[Response], None]


class SipCore:
    def __init__(self, config: SipConfig, transports: TransportManager, metrics: SwitchMetrics):
        self.config = config
        self.transports = transports
        self.metrics = metrics
        self.layer = TransactionLayer(TimerSettings(t1=config.t1, t2=config.t2, t4=config.t4))
        metrics.transactions_alive = lambda: len(self.layer)
        self.handlers: dict[str, RequestHandler] = {"OPTIONS": self._on_options}
        self._stateless_first: set[str] = set()
        self._answers = StatelessAnswers(lifetime=64 * config.t1)
        self._capabilities: list[tuple[str, str]] | None = None
        self.on_ack: Callable[[Request, Destination], None] | None = None
        self.on_stray_response: Callable[[Response], None] | None = None
        self._loop = asyncio.get_running_loop()
        self._tasks: set[asyncio.Task[None]] = set()
        self._pending_invites: dict[int, ServerRequest] = {}
        self._clients: dict[int, tuple[asyncio.Future[Response], ProvisionalHandler | None]] = {}
        self._client_ids: dict[asyncio.Future[Response], int] = {}
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at: float | None = None
        transports.set_receiver(self.receive)
        transports.set_absorber(self.absorb, stateless=STATELESS_METHODS)

    def handle(self, method: str, handler: RequestHandler, *, stateless_first: bool = False) -> None:
        """Route ``method`` to ``handler``. ``stateless_first``: see the module docstring; such
        a handler must not send a provisional response before it returns its work."""
        method = method.upper()
        self.handlers[method] = handler
        if stateless_first:
            self._stateless_first.add(method)
        else:
            self._stateless_first.discard(method)
        self._capabilities = None

    @property
    def allow(self) -> str:
        return ", ".join(sorted(set(self.handlers) | {"ACK", "CANCEL"}))

    def _capability_headers(self) -> list[tuple[str, str]]:
        """What OPTIONS answers with; computed once per change of handlers (OPTIONS is hot)."""
        if self._capabilities is None:
            self._capabilities = [
                ("Allow", self.allow),
                ("Accept", "application/sdp"),
                ("Supported", ", ".join(SUPPORTED_EXTENSIONS)),
            ]
        return self._capabilities

    # -- inbound ----------------------------------------------------------------------------
    def receive(self, message: Request | Response, source: Destination) -> None:
        now = self._loop.time()
        if isinstance(message, Response):
            self._process(self.layer.receive_response(message, now))
            return
        if message.method in STATELESS_METHODS:
            self._dispatch(ServerRequest(self, message, source, None))
            return
        if message.method in self._stateless_first:
            self._receive_stateless_first(message, source, now)
            return
        self._process(self.layer.receive_request(message, source, now, via=message.top_via))

    def _receive_stateless_first(self, message: Request, source: Destination, now: float) -> None:
        """Let the handler answer at once, or run its work, without a transaction object."""
        key: ServerKey | None = None
        if not source.reliable:  # streams do not retransmit (RFC 3261 17.2.2: Timer J is 0)
            try:
                key = server_key(message, message.top_via, message.method)
            except RemoteProtocolError:
                key = None
            answer = self._answers.lookup(key, now) if key is not None else None
            if answer is not None:
                self._resend(answer)
                return
        server_request = ServerRequest(self, message, source, None)
        server_request.answer_key = key
        try:
            work = self.handlers[message.method](server_request)
        except Exception:
            log.exception("handler for %s failed", message.method)
            work = None
        if work is None or server_request.answered:
            self._ensure_answered(server_request)
            if work is not None:
                _close(work)
            return
        if key is not None:
            self._answers.start(key, now)
        self._run(server_request, work)

    def _resend(self, answer: tuple[bytes, Destination]) -> None:
        """A retransmission: the same final answer again, or nothing while in progress."""
        if answer is not IN_PROGRESS:
            self.transports.send(*answer)

    def absorb(self, key: tuple[str, str, int | None, str]) -> bool:
        """Answer a retransmission matched by its raw key, unparsed; False if it is new."""
        now = self._loop.time()
        outputs = self.layer.absorb_retransmission(key, now)
        if outputs is None:
            answer = self._answers.lookup(key, now)
            if answer is None:
                return False
            self._resend(answer)
            return True
        self._process(outputs)
        return True

    def _process(self, outputs: list[Output]) -> None:
        for out in outputs:
            if isinstance(out, Transmit):
                self.transports.send(out.data, out.destination)
            elif isinstance(out, RequestReceived):
                self._on_request(out)
            elif isinstance(out, ResponseReceived):
                self._on_response(out.transaction_id, out.response)
            elif isinstance(out, (StrayAck, AckReceived)):
                if self.on_ack is not None:
                    source = out.source if isinstance(out, StrayAck) else None
                    self.on_ack(out.request, source or Destination("", 0))
            elif isinstance(out, StrayResponse):
                if self.on_stray_response is not None:
                    self.on_stray_response(out.response)
            elif isinstance(out, TransactionTimeout):
                self._fail_client(out.transaction_id, 408, "Request Timeout")
                self._pending_invites.pop(out.transaction_id, None)
            elif isinstance(out, TransportFailure):
                self._fail_client(out.transaction_id, 503, "Transport Failure")
                self._pending_invites.pop(out.transaction_id, None)
        self._arm_timer()

    def _on_request(self, event: RequestReceived) -> None:
        server_request = ServerRequest(self, event.request, event.source, event.transaction_id)
        if event.request.method == "CANCEL":
            self._on_cancel(server_request)
            return
        if event.request.method == "INVITE":
            self._pending_invites[event.transaction_id] = server_request
        self._dispatch(server_request)

    def _dispatch(self, server_request: ServerRequest) -> None:
        handler = self.handlers.get(server_request.request.method)
        if handler is None:
            server_request.reply(405, headers=[("Allow", self.allow)])
            return
        try:
            result = handler(server_request)
        except Exception:
            log.exception("handler for %s failed", server_request.request.method)
            result = None
        if result is None:
            self._ensure_answered(server_request)
            return
        self._run(server_request, result)

    def _run(self, server_request: ServerRequest, work: Awaitable[None]) -> None:
        """The handler's awaitable, in one guarded task; a future (whose own callbacks answer,
        added before this one) is only watched, with no task."""
        if isinstance(work, asyncio.Future):
            work.add_done_callback(partial(self._settled, server_request))
            return
        task = asyncio.ensure_future(self._guard(server_request, work))
        self._tasks.add(task)
        task.add_done_callback(partial(self._task_done, work))

    def _task_done(self, work: Awaitable[None], task: asyncio.Task[None]) -> None:
        """Forget the task; a handler coroutine that never ran (its task was cancelled before
        starting, at shutdown) is closed, so Python does not warn it was never awaited."""
        self._tasks.discard(task)
        if task.cancelled():
            _close(work)

    async def _guard(self, server_request: ServerRequest, work: Awaitable[None]) -> None:
        """A failing handler answers 500 and is logged; it never takes the switch down."""
        try:
            await work
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("handler for %s failed", server_request.request.method)
        self._ensure_answered(server_request)

    def _settled(self, server_request: ServerRequest, work: asyncio.Future[None]) -> None:
        """A handler's future settled: the same guard as `_guard` (a failure is logged and
        answered 500), without a task."""
        if work.cancelled():  # the switch is stopping, as for a cancelled task
            return
        if (error := work.exception()) is not None:
            log.error("handler for %s failed", server_request.request.method,
                      exc_info=(type(error), error, error.__traceback__))
        self._ensure_answered(server_request)

    def _ensure_answered(self, server_request: ServerRequest) -> None:
        if not server_request.answered:
            server_request.reply(500, "Server Internal Error")

    def _on_cancel(self, cancel: ServerRequest) -> None:
        invite_id = self.layer.find_cancelled(cancel.request)
        invite = self._pending_invites.get(invite_id) if invite_id is not None else None
        if invite is None or invite.answered:
            cancel.reply(481)
            return
        cancel.reply(200)
        assert invite.cancelled is not None
        invite.cancelled.set()

    # -- outbound ---------------------------------------------------------------------------
    def send_response(self, server_request: ServerRequest, response: Response) -> None:
        self.metrics.responses_out[response.status] += 1
        if server_request.transaction_id is None:
            via = server_request.request.top_via
            destination = response_destination(via, server_request.source)
            data = response.serialize()
            self.transports.send(data, destination)
            if server_request.answer_key is not None and response.status >= 200:
                self._answers.remember(server_request.answer_key, data, destination,
                                       self._loop.time())
            return
        now = self._loop.time()
        if response.status >= 200:
            self._pending_invites.pop(server_request.transaction_id, None)
        self._process(self.layer.send_response(server_request.transaction_id, response, now))

    def send_request(
        self,
        request: Request,
        destination: Destination,
        on_provisional: ProvisionalHandler | None = None,
    ) -> asyncio.Future[Response]:
        """Start a client transaction; the future resolves to the final response.

        Timeouts resolve to a local 408, transport failures to a local 503 (RFC 3261 8.1.3.1).
        """
        future: asyncio.Future[Response] = self._loop.create_future()
        transaction_id, outputs = self.layer.send_request(request, destination, self._loop.time())
        self._clients[transaction_id] = (future, on_provisional)
        self._client_ids[future] = transaction_id
        future.add_done_callback(self._forget_client_id)
        self.metrics.requests_out[request.method] += 1
        self._process(outputs)
        return future

    def _forget_client_id(self, future: asyncio.Future[Response]) -> None:
        self._client_ids.pop(future, None)

    def cancel(self, future: asyncio.Future[Response]) -> None:
        """CANCEL the INVITE behind `future` (from `send_request`); its future then resolves
        to the 487 (or to whatever final response crossed the CANCEL). A no-op once final."""
        transaction_id = self._client_ids.get(future)
        if transaction_id is None:
            return
        try:
            _, outputs = self.layer.cancel(transaction_id, self._loop.time())
        except TransactionError:
            return  # the transaction ended in between: nothing left to cancel
        self.metrics.requests_out["CANCEL"] += 1
        self._process(outputs)

    def send_ack(self, ack: Request, destination: Destination) -> None:
        """Send the ACK for a 2xx straight to the transport: it is not a transaction."""
        self.metrics.requests_out["ACK"] += 1
        self.transports.send(ack.serialize(), destination)

    def _on_response(self, transaction_id: int, response: Response) -> None:
        entry = self._clients.get(transaction_id)
        if entry is None:
            if 200 <= response.status < 300 and self.on_stray_response is not None:
                self.on_stray_response(response)  # a 2xx resent while we were Accepted
            return
        future, on_provisional = entry
        if response.status < 200:
            if on_provisional is not None:
                on_provisional(response)
            return
        del self._clients[transaction_id]
        if not future.done():
            future.set_result(response)

    def _fail_client(self, transaction_id: int, status: int, reason: str) -> None:
        entry = self._clients.pop(transaction_id, None)
        if entry is not None and not entry[0].done():
            entry[0].set_result(Response(status, reason))

    # -- timers -----------------------------------------------------------------------------
    def _arm_timer(self) -> None:
        deadline = self.layer.next_deadline()
        if deadline is None or (self._timer_at is not None and self._timer_at <= deadline):
            return
        if self._timer is not None:
            self._timer.cancel()
        self._timer_at = deadline
        self._timer = self._loop.call_at(deadline, self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        self._timer_at = None
        self._process(self.layer.handle_timers(self._loop.time()))

    # -- built-in handlers ------------------------------------------------------------------
    def _on_options(self, server_request: ServerRequest) -> None:
        server_request.reply(200, headers=self._capability_headers())

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        for task in self._tasks:
            task.cancel()
        for future, _ in self._clients.values():
            future.cancel()


def _close(work: Awaitable[None]) -> None:
    """Close a handler coroutine that will never run, so Python does not warn about it."""
    if inspect.iscoroutine(work):
        work.close()
