"""Call pickup: answer, from one's own phone, a call ringing another phone.

- group (``*8``, the dial plan feature ``pickup``): the oldest call ringing a phone of the
  picker's pickup group. A group is a configured list (``[pickup] groups``, a nurse station's
  phones) or, when the picker is in none, everybody of the picker's department.
- directed (``**`` + extension, feature ``pickup_directed``): the oldest call ringing that
  extension.

The switch takes the ringing call over (`B2bua.take_over`: its forks are CANCELled and the
caller answered), answers the picker (`B2bua.answer_alone`) and bridges the two; they are
linked like a transfer's legs (`TransferService.connect`), so either hanging up ends both.
Nothing ringing gets 404 "Nothing To Pick Up".
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from softswitch.config import ConfigError
from softswitch.features.transfer import TransferService
from softswitch.switch.b2bua import B2bua
from softswitch.switch.dialplan import Feature, Route
from softswitch.switch.legs import Call, CallState
from softswitch.switch.readcache import UserCache

__all__ = ["PickupService", "pickup_groups_from"]

log = logging.getLogger(__name__)


def pickup_groups_from(features: Mapping[str, Any]) -> dict[str, frozenset[str]]:
    """``[pickup] groups = { ward3 = ["1001", "1002"] }``; ConfigError for anything else."""
    raw = features.get("pickup", {})
    if not isinstance(raw, Mapping) or set(raw) - {"groups"}:
        raise ConfigError("[pickup] takes only groups = { NAME = [extensions] }")
    groups = raw.get("groups", {})
    if not isinstance(groups, Mapping):
        raise ConfigError("[pickup] groups must be a table of NAME = [extensions]")
    out: dict[str, frozenset[str]] = {}
    for name, members in groups.items():
        if not isinstance(members, list) or not all(
                isinstance(m, str) and m.isdigit() for m in members):
            raise ConfigError(f"[pickup] group {name!r} must be a list of extensions as strings")
        out[str(name)] = frozenset(members)
    return out


class PickupService:
    """Serves the ``pickup`` and ``pickup_directed`` feature codes."""

    def __init__(self, b2bua: B2bua, users: UserCache, transfers: TransferService,
                 groups: Mapping[str, frozenset[str]] | None = None) -> None:
        self.b2bua = b2bua
        self.users = users
        self.transfers = transfers
        self.groups = dict(groups or {})
        b2bua.serve_feature("pickup", self.group_pickup)
        b2bua.serve_feature("pickup_directed", self.directed_pickup)

    async def group_pickup(self, call: Call, route: Route) -> None:
        """``*8``: a call ringing another phone of the picker's group."""
        configured = [m for m in self.groups.values() if call.caller in m]
        if configured:
            members = frozenset().union(*configured)
            ringing = [c for c in self._ringing() if c.callee in members]
        else:
            picker = await self.users.get(call.caller)
            department = picker.department if picker is not None else ""
            ringing = []
            for candidate in self._ringing():
                callee = await self.users.get(candidate.callee)
                if department and callee is not None and callee.department == department:
                    ringing.append(candidate)
        await self._pick(call, [c for c in ringing if c.callee != call.caller])

    async def directed_pickup(self, call: Call, route: Route) -> None:
        """``**EXT``: a call ringing extension EXT."""
        number = route.argument if isinstance(route, Feature) else ""
        if not number.isdigit():
            await self.b2bua.refuse(call, 484, "Address Incomplete", "pickup needs an extension")
            return
        await self._pick(call, [c for c in self._ringing() if c.callee == number])

    def _ringing(self) -> list[Call]:
        """Calls to extensions still ringing, oldest first."""
        found = []
        for summary in self.b2bua.calls():
            ringing = self.b2bua.find(summary["call_id"])
            if (ringing is not None and ringing.state in (CallState.ROUTING, CallState.RINGING)
                    and ringing.route == "extension" and not ringing.taken
                    and ringing.server is not None):
                found.append(ringing)
        return sorted(found, key=lambda c: c.started_at)

    async def _pick(self, call: Call, ringing: list[Call]) -> None:
        if not ringing:
            await self.b2bua.refuse(call, 404, "Nothing To Pick Up", "no ringing call")
            return
        target = ringing[0]
        log.info("call %s: %s picks up the call from %s to %s", call.id, call.caller,
                 target.caller, target.callee)
        caller_leg = await self.b2bua.take_over(target)
        picker_leg = await self.b2bua.answer_alone(call)
        self.transfers.connect(picker_leg, caller_leg)
