"""The per-leg call records of a call that ended: the caller's leg and every contact tried.

Pure: built from the call's state when it ends, so the B2BUA writes them together with the
call's own record in one commit. A fork that failed keeps its own status (a busy desk phone
while the softphone answered), a fork still ringing when the call was decided was CANCELled:
because another contact answered, or with the call (caller hung up, nobody answered).
"""

from __future__ import annotations

from softswitch.sip.destination import Destination
from softswitch.sip.uri import SipURI
from softswitch.store.cdr import Disposition, LegRecord
from softswitch.switch.call import disposition_for
from softswitch.switch.legs import Call, Fork

__all__ = ["leg_records"]


def _address(destination: Destination) -> str:
    return f"{destination.transport.lower()}:{destination.host}:{destination.port}"


def _caller_peer(call: Call) -> str:
    assert call.server is not None
    request = call.server.request
    contacts = request.contacts
    if contacts and isinstance(contacts[0].uri, SipURI):
        return str(contacts[0].uri)
    return str(request.from_.uri)


def _fork_leg(call: Call, fork: Fork, n: int, ended_at: float, disposition: Disposition,
              cause: str, answered: bool) -> LegRecord:
    if fork.won:
        outcome, why, answered_at = disposition, cause, call.answered_at
    elif fork.status is not None:
        outcome, why, answered_at = disposition_for(fork.status), f"{fork.status} from callee", None
    elif answered:
        outcome, why, answered_at = Disposition.CANCELLED, "answered elsewhere", None
    else:
        outcome, why, answered_at = disposition, cause, None
    return LegRecord(
        leg_id=f"{call.id}:b{n}", call_id=call.id, side="b", direction="outbound",
        sip_call_id=fork.invite.call_id, peer=str(fork.invite.uri),
        address=_address(fork.destination), started_at=fork.started_at or call.started_at,
        answered_at=answered_at, ended_at=ended_at, disposition=outcome, cause=why)


def leg_records(call: Call, ended_at: float, disposition: Disposition,
                cause: str) -> list[LegRecord]:
    """Leg A first (the call's own outcome; none for a call the switch originated), then one
    row per fork in the order sent."""
    legs: list[LegRecord] = []
    if call.server is not None:
        legs.append(LegRecord(
            leg_id=f"{call.id}:a", call_id=call.id, side="a", direction="inbound",
            sip_call_id=call.id, peer=_caller_peer(call), address=_address(call.server.source),
            started_at=call.started_at, answered_at=call.answered_at, ended_at=ended_at,
            disposition=disposition, cause=cause))
    answered = any(fork.won for fork in call.forks)
    return [*legs, *(_fork_leg(call, fork, n, ended_at, disposition, cause, answered)
                     for n, fork in enumerate(call.forks, 1))]
