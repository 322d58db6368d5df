"""Keep-alive of registered contacts ("qualify"): is the phone still there, is its NAT open?

UDP contacts get an OPTIONS through a client transaction; any response from the phone,
whatever its status, proves it reachable, and a timeout or transport failure marks it
unreachable. TCP/TLS contacts get a CRLFCRLF ping (RFC 5626 section 4.4.1) on the connection
the phone registered over; when that connection is gone the phone cannot be reached until it
registers again, since nobody can connect in through its NAT. Results go to the store
(``mark_seen``), so :mod:`softswitch.switch.location` and the API show them.

The decisions (what is due, what a response means, the OPTIONS itself) are pure functions;
:class:`Qualifier` is the thin asyncio loop around them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from softswitch.sip.builders import new_branch, new_call_id, new_tag
from softswitch.sip.destination import Destination
from softswitch.sip.errors import RemoteProtocolError
from softswitch.sip.headers import Headers
from softswitch.sip.message import Request, Response
from softswitch.sip.uri import format_host, parse_uri
from softswitch.store.bindings import BindingRepository
from softswitch.store.records import Binding
from softswitch.switch.location import destination_of

__all__ = ["Qualifier", "is_due", "options_for", "proves_reachable", "KEEPALIVE"]

log = logging.getLogger(__name__)

KEEPALIVE = b"\r\n\r\n"

SendRequest = Callable[[Request, Destination], Awaitable[Response]]


def is_due(binding: Binding, now: float, interval: float) -> bool:
    """A binding heard from (REGISTER or keep-alive) within ``interval`` needs no probe."""
    return now - binding.last_seen >= interval


def proves_reachable(response: Response) -> bool:
    """Any response the phone sent counts; the core's own 408/503 (timeout, transport
    failure) carries no Via, because it never crossed the network."""
    return response.headers.get("via") is not None


def options_for(binding: Binding, sent_by: tuple[str, int], user_agent: str) -> Request:
    """An out-of-dialog OPTIONS to the contact, routed through its Path (RFC 3327)."""
    target = parse_uri(binding.contact)
    host, port = sent_by
    headers = Headers()
    headers.add("Via", f"SIP/2.0/{binding.transport} {format_host(host)}:{port};"
                       f"branch={new_branch()};rport")
    for hop in binding.path:
        headers.add("Route", hop)
    headers.add("Max-Forwards", "70")
    headers.add("From", f"<sip:qualify@{format_host(host)}>;tag={new_tag()}")
    headers.add("To", f"<{binding.contact}>")
    headers.add("Call-ID", new_call_id(host))
    headers.add("CSeq", "1 OPTIONS")
    headers.add("User-Agent", user_agent)
    return Request("OPTIONS", target, headers)


class Qualifier:
    """Probe every due binding each ``interval`` seconds; at most ``concurrency`` at once."""

    def __init__(
        self,
        bindings: BindingRepository,
        send_request: SendRequest,
        send_raw: Callable[[bytes, Destination], None],
        connected: Callable[[Destination], bool],
        clock: Callable[[], float],
        *,
        sent_by: tuple[str, int],
        user_agent: str,
        interval: float = 30.0,
        concurrency: int = 200,
    ) -> None:
        self._bindings = bindings
        self._send_request = send_request
        self._send_raw = send_raw
        self._connected = connected
        self._clock = clock
        self._sent_by = sent_by
        self._user_agent = user_agent
        self.interval = interval
        self._slots = asyncio.Semaphore(concurrency)

    async def run(self) -> None:
        """Forever: one round, then wait ``interval`` (cancel the task to stop)."""
        while True:
            try:
                await self.run_once()
            except Exception:  # a failed round is logged; the next one runs anyway
                log.exception("qualify round failed")
            await asyncio.sleep(self.interval)

    async def run_once(self) -> int:
        """Probe the bindings that are due now; returns how many were probed."""
        now = self._clock()
        due = [b for b in await self._bindings.active(now) if is_due(b, now, self.interval)]
        await asyncio.gather(*(self._probe(binding) for binding in due))
        return len(due)

    async def _probe(self, binding: Binding) -> None:
        destination = destination_of(binding)
        if destination.reliable:
            reachable = self._connected(destination)
            if reachable:
                self._send_raw(KEEPALIVE, destination)
        else:
            try:
                request = options_for(binding, self._sent_by, self._user_agent)
            except RemoteProtocolError:
                return  # a contact we cannot address (not a SIP URI): nothing to probe
            async with self._slots:
                response = await self._send_request(request, destination)
            reachable = proves_reachable(response)
        if reachable or binding.reachable:  # refresh last_seen, or record the change
            await self._bindings.mark_seen(
                binding.aor, binding.key, now=self._clock(), reachable=reachable
            )
