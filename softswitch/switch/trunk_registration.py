"""Keeping the switch registered at a provider: REGISTER with digest, refreshed before expiry.

RFC 3261 section 10.2: one Call-ID for the life of the registration, CSeq rising by one per
REGISTER; the granted interval is the `expires` parameter of our Contact in the 2xx (10.2.4),
else its Expires header, else what we asked for. We refresh a minute before expiry (half the
interval when it is short) and, after a failure, retry later so a provider outage does not
turn into a REGISTER storm.

The loop is asyncio, but its seams are injected: `send_request` (the SIP core's), the clock
and the sleep, so tests run it against a fake provider without waiting.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum

from softswitch.sip.builders import new_branch, new_call_id, new_tag
from softswitch.sip.destination import Destination
from softswitch.sip.headers import Headers
from softswitch.sip.message import Request, Response
from softswitch.sip.uri import SipURI, format_host
from softswitch.switch.trunk_auth import ClientCredentials, authorized_retry
from softswitch.switch.trunk_config import TrunkConfig

__all__ = ["RegistrationState", "TrunkRegistration", "TrunkStatus", "refresh_delay"]

log = logging.getLogger(__name__)

SendRequest = Callable[[Request, Destination], Awaitable[Response]]
RETRY_AFTER_FAILURE = 60.0


class RegistrationState(StrEnum):
    IDLE = "idle"
    REGISTERED = "registered"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class TrunkStatus:
    """What `/api/trunks` shows for one trunk."""

    trunk: str
    state: RegistrationState
    last_status: int | None = None
    expires_at: float | None = None
    reason: str = ""


def refresh_delay(granted: int) -> float:
    """Seconds until the next REGISTER: a minute before expiry, or halfway for short ones."""
    return float(max(granted / 2, granted - 60))


class TrunkRegistration:
    """One trunk's registration; `run()` until cancelled, `status` at any time."""

    def __init__(
        self,
        trunk: TrunkConfig,
        send_request: SendRequest,
        *,
        contact_host: str,
        contact_port: int,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if trunk.username is None or trunk.password is None:
            raise ValueError(f"trunk {trunk.name} has no credentials to register with")
        self.trunk = trunk
        self._send = send_request
        self._credentials = ClientCredentials(trunk.username, trunk.password, trunk.realm)
        self._contact = SipURI(contact_host, trunk.username, port=contact_port,
                               params={} if trunk.transport == "udp"
                               else {"transport": trunk.transport})
        self._clock = clock
        self._sleep = sleep
        self._call_id = new_call_id(contact_host)
        self._tag = new_tag()
        self._cseq = 0
        self.status = TrunkStatus(trunk.name, RegistrationState.IDLE)

    @property
    def destination(self) -> Destination:
        return Destination(self.trunk.host, self.trunk.port, self.trunk.transport.upper())

    async def run(self) -> None:
        """Register, then refresh before every expiry; failures retry after a minute."""
        while True:
            granted = await self.register_once()
            await self._sleep(refresh_delay(granted) if granted else RETRY_AFTER_FAILURE)

    async def register_once(self) -> int | None:
        """One REGISTER (answering one challenge); the granted seconds, or None on failure."""
        request = self._register()
        response = await self._send(request, self.destination)
        if response.status in (401, 407):
            retry = authorized_retry(request, response, self._credentials, secrets.token_hex(8))
            if retry is None:
                return self._failed(response, "cannot answer the provider's challenge")
            self._cseq = retry.cseq.number
            response = await self._send(retry, self.destination)
        if not 200 <= response.status < 300:
            return self._failed(response, response.reason)
        granted = self._granted(response)
        if granted <= 0:
            return self._failed(response, "provider granted no registration time")
        self.status = TrunkStatus(self.trunk.name, RegistrationState.REGISTERED, response.status,
                                  self._clock() + granted)
        log.info("trunk %s registered for %d s", self.trunk.name, granted)
        return granted

    def _failed(self, response: Response, reason: str) -> None:
        log.warning("trunk %s registration failed: %s %s", self.trunk.name, response.status,
                    reason)
        self.status = TrunkStatus(self.trunk.name, RegistrationState.FAILED, response.status,
                                  None, reason)

    def _register(self) -> Request:
        trunk = self.trunk
        self._cseq += 1
        aor = SipURI(trunk.host, trunk.username)
        transport = trunk.transport.upper()
        headers = Headers()
        headers.add("Via", f"SIP/2.0/{transport} {format_host(self._contact.host)}:"
                           f"{self._contact.port};rport;branch={new_branch()}")
        headers.add("Max-Forwards", "70")
        headers.add("From", f"<{aor}>;tag={self._tag}")
        headers.add("To", f"<{aor}>")
        headers.add("Call-ID", self._call_id)
        headers.add("CSeq", f"{self._cseq} REGISTER")
        headers.add("Contact", f"<{self._contact}>")
        headers.add("Expires", str(trunk.expires))
        return Request("REGISTER", SipURI(trunk.host, port=trunk.port), headers)

    def _granted(self, response: Response) -> int:
        for contact in response.contacts:
            uri = contact.uri
            if isinstance(uri, SipURI) and uri.user == self._contact.user \
                    and uri.host == self._contact.host and uri.port == self._contact.port:
                value = contact.params.get("expires")
                if value is not None and value.isdigit():
                    return int(value)
        header = response.headers.get("expires")
        if header is not None and header.strip().isdigit():
            return int(header.strip())
        return self.trunk.expires
