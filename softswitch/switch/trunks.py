"""SIP trunks as the B2BUA sees them: who may call in, where a call goes out, who we say we are.

- Inbound: an INVITE whose source is in a trunk's `inbound_acl` needs no digest (a provider
  does not answer our challenges); its dialled number goes through the trunk's DID map to an
  internal number, which the dial plan routes like any other. Other unauthenticated sources
  still get 407 from the registrar's digest service.
- Outbound: the dial plan's `Trunk` route names the trunk; the call's leg B goes to the
  trunk's host as if it were a registered contact (`target`), with the caller ID rewritten
  (`present_caller`) and a 401/407 from the provider answered once with the trunk's
  credentials (`trunk_auth.authorized_retry`).
- Registration: trunks with credentials keep a `TrunkRegistration` running; `status()` shows
  them all (static peers report `idle`).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from typing import Any

from softswitch.sip.message import Request
from softswitch.sip.uri import SipURI, format_host
from softswitch.sip.values import Address
from softswitch.store.records import Binding
from softswitch.switch.trunk_auth import ClientCredentials
from softswitch.switch.trunk_config import TrunkConfig
from softswitch.switch.trunk_registration import (
    RegistrationState,
    SendRequest,
    TrunkRegistration,
    TrunkStatus,
)

__all__ = ["Trunks", "present_caller"]


class Trunks:
    """The configured trunks and their registrations."""

    def __init__(
        self,
        configs: Mapping[str, TrunkConfig],
        send_request: SendRequest,
        *,
        contact_host: str,
        contact_port: int,
    ) -> None:
        self.configs = dict(configs)
        self.registrations = {
            name: TrunkRegistration(trunk, send_request, contact_host=contact_host,
                                    contact_port=contact_port)
            for name, trunk in self.configs.items() if trunk.register
        }
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        """Start every registration loop (call once, from the running loop)."""
        self._tasks = [asyncio.ensure_future(r.run()) for r in self.registrations.values()]

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()

    def inbound(self, source_host: str) -> TrunkConfig | None:
        """The trunk whose IP ACL admits this source, or None (then digest applies)."""
        return next((t for t in self.configs.values() if t.admits(source_host)), None)

    def get(self, name: str) -> TrunkConfig | None:
        return self.configs.get(name)

    def credentials(self, name: str) -> ClientCredentials | None:
        trunk = self.configs.get(name)
        if trunk is None or trunk.username is None or trunk.password is None:
            return None
        return ClientCredentials(trunk.username, trunk.password, trunk.realm)

    def target(self, name: str, number: str) -> Binding | None:
        """Where leg B of a call out through trunk ``name`` to ``number`` goes, in the shape
        of a registered contact so the B2BUA's forking code serves trunks unchanged."""
        trunk = self.configs.get(name)
        if trunk is None:
            return None
        suffix = "" if trunk.transport == "udp" else f";transport={trunk.transport}"
        return Binding(
            aor=number, contact=f"sip:{number}@{format_host(trunk.host)}:{trunk.port}{suffix}",
            expires_at=float("inf"), call_id="", cseq=0, source_host=trunk.host,
            source_port=trunk.port, transport=trunk.transport.upper(),
        )

    def status(self) -> list[dict[str, Any]]:
        """Every trunk with its registration state, for /api/trunks and `softswitch status`."""
        out = []
        for name, trunk in self.configs.items():
            registration = self.registrations.get(name)
            status = registration.status if registration else TrunkStatus(
                name, RegistrationState.IDLE)
            out.append({
                "trunk": name, "host": trunk.host, "port": trunk.port,
                "transport": trunk.transport, "registers": trunk.register,
                "state": status.state.value, "last_status": status.last_status,
                "expires_at": status.expires_at, "reason": status.reason,
            })
        return out


def present_caller(invite: Request, trunk: TrunkConfig, caller: str) -> None:
    """Rewrite our own leg-B INVITE's From (and To host) for the provider: the trunk's
    `from_user`/`from_display` replace the extension, the From tag is kept; with `pai` the
    identity also goes in P-Asserted-Identity (RFC 3325 section 9.1)."""
    user = trunk.from_user or caller
    host = trunk.host
    from_ = invite.from_
    identity = Address(SipURI(host, user), trunk.from_display
                       if trunk.from_display is not None else from_.display_name)
    invite.headers.set("From", str(identity.with_tag(from_.tag or "")))
    to_user = invite.uri.user if isinstance(invite.uri, SipURI) else None
    invite.headers.set("To", f"<{SipURI(host, to_user, port=trunk.port)}>")
    if trunk.pai:
        invite.headers.set("P-Asserted-Identity", str(identity))
