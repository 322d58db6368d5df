"""The rules of one conference room, apart from media and SIP: who may join and as what, who
is heard, what a key does, who is kicked, when the room ends.

Pure state (no asyncio, no clock: times are passed in), so every rule is unit-tested on its
own; :mod:`softswitch.features.conference` applies the outcomes to the mixer and the calls.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from softswitch.features.conference_config import KeyMap, RoomSettings

__all__ = ["KeyOutcome", "Member", "Role", "Room", "gain_for", "role_for"]

_MAX_VOLUME_STEP = 4
_DB_PER_STEP = 3.0


class Role(StrEnum):
    MODERATOR = "moderator"
    PARTICIPANT = "participant"
    LISTENER = "listener"


def role_for(settings: RoomSettings, caller: str, pin: str | None) -> Role | None:
    """The role a caller gets: listed moderators need no PIN; otherwise the PIN decides
    (``None``: not asked yet, for rooms without PINs). None means the PIN was wrong."""
    if caller in settings.moderators:
        return Role.MODERATOR
    if not settings.asks_pin:
        return Role.PARTICIPANT
    if pin is None:
        return None
    if settings.moderator_pin and pin == settings.moderator_pin:
        return Role.MODERATOR
    if settings.listener_pin and pin == settings.listener_pin:
        return Role.LISTENER
    if pin == settings.pin:  # an empty pin admits participants when only others are set
        return Role.PARTICIPANT
    return None


def gain_for(step: int) -> float:
    """Linear gain for a volume step (3 dB each)."""
    return float(10 ** (step * _DB_PER_STEP / 20))


@dataclass(slots=True)
class Member:
    """One member: ``id`` is the room-wide number the API and CLI name members by."""

    id: int
    key: str  # the media leg's id: what the mixer knows the member by
    caller: str
    role: Role
    joined_at: float
    self_muted: bool = False  # by the member's own key or the API
    volume_step: int = 0

    def summary(self, room: Room, talking: bool = False) -> dict[str, object]:
        """The member as the API and CLI show it."""
        return {
            "id": self.id,
            "caller": self.caller,
            "role": self.role.value,
            "muted": not room.heard(self),
            "talking": talking,
            "joined_at": self.joined_at,
            "volume": self.volume_step,
        }


@dataclass(frozen=True, slots=True)
class KeyOutcome:
    """What a key did: ``action`` (mute, lock...), the prompt to play to the member who
    pressed it (or None), the members whose "heard" state changed (the mixer must follow),
    the member to kick, and whether the member leaves."""

    action: str
    prompt: str | None = None
    changed: tuple[Member, ...] = ()
    kick: Member | None = None
    leave: bool = False


class Room:
    """A room while it has members: membership, lock, mute-all and the key rules."""

    def __init__(self, number: str, settings: RoomSettings, keys: KeyMap | None = None) -> None:
        self.number = number
        self.settings = settings
        self.keys = keys or KeyMap()
        self.members: dict[int, Member] = {}
        self.locked = False
        self.muted_all = False
        self._next_id = 1
        self._had_moderator = False

    def __len__(self) -> int:
        return len(self.members)

    # -- membership ------------------------------------------------------------------------

    def refusal(self, role: Role) -> str | None:
        """Why ``role`` may not join now (``locked``, ``full``), None when it may. A locked
        room still admits moderators; a full one admits nobody."""
        if len(self.members) >= self.settings.max_members:
            return "full"
        if self.locked and role is not Role.MODERATOR:
            return "locked"
        return None

    def join(self, key: str, caller: str, role: Role, now: float, *,
             passing_lock: bool = False) -> Member:
        """Add a member (the caller checked :meth:`refusal` first); an operator's invite
        passes the lock (``passing_lock``), never a full room."""
        reason = self.refusal(Role.MODERATOR if passing_lock else role)
        if reason is not None:
            raise ValueError(f"room {self.number} is {reason}")
        member = Member(self._next_id, key, caller, role, now)
        self._next_id += 1
        self.members[member.id] = member
        self._had_moderator |= role is Role.MODERATOR
        return member

    def leave(self, member_id: int) -> Member | None:
        """Remove a member; returns it (None when it had left already)."""
        return self.members.pop(member_id, None)

    def should_end(self) -> bool:
        """The last moderator left a room set to end with its moderators."""
        return (
            self.settings.end_when_moderator_leaves
            and self._had_moderator
            and bool(self.members)
            and not any(m.role is Role.MODERATOR for m in self.members.values())
        )

    def others(self, member: Member) -> int:
        """How many besides ``member`` are in the room."""
        return len(self.members) - (1 if member.id in self.members else 0)

    def heard(self, member: Member) -> bool:
        """Whether the others hear ``member``: listeners never, the self-muted not, and
        participants not while a moderator has muted everyone."""
        if member.role is Role.LISTENER or member.self_muted:
            return False
        return not (self.muted_all and member.role is Role.PARTICIPANT)

    def last_joined(self, besides: Member | None = None) -> Member | None:
        """The most recent member other than ``besides`` (the moderator pressing kick)."""
        for member in reversed(self.members.values()):
            if besides is None or member.id != besides.id:
                return member
        return None

    # -- actions (keys and API) ----------------------------------------------------------

    def set_muted(self, member: Member, muted: bool) -> bool:
        """Mute or unmute a member; False for a listener (it cannot be unmuted)."""
        if member.role is Role.LISTENER:
            return False
        member.self_muted = muted
        return True

    def set_volume(self, member: Member, step: int) -> None:
        """Volume of what the member says, -4..+4 steps of 3 dB."""
        member.volume_step = max(-_MAX_VOLUME_STEP, min(_MAX_VOLUME_STEP, step))

    def set_muted_all(self, muted: bool) -> tuple[Member, ...]:
        """Mute (or unmute) every participant; returns the participants affected."""
        self.muted_all = muted
        return tuple(m for m in self.members.values() if m.role is Role.PARTICIPANT)

    def key(self, member: Member, digit: str) -> KeyOutcome | None:
        """Apply an in-call key pressed by ``member``; None for a key with no meaning for it
        (unbound, or a moderator key pressed by someone else)."""
        action = self.keys.action_for(digit)
        if action is None:
            return None
        moderator = member.role is Role.MODERATOR
        if action in ("mute_all", "lock", "kick_last") and not moderator:
            return None
        if action == "leave":
            return KeyOutcome("leave", leave=True)
        if action == "mute":
            if not self.set_muted(member, not member.self_muted):
                return KeyOutcome("mute", "conf_listen_only")
            prompt = "conf_muted" if not self.heard(member) else "conf_unmuted"
            return KeyOutcome("mute", prompt, (member,))
        if action in ("volume_up", "volume_down"):
            self.set_volume(member, member.volume_step + (1 if action == "volume_up" else -1))
            return KeyOutcome(action, None, (member,))
        if action == "mute_all":
            changed = self.set_muted_all(not self.muted_all)
            prompt = "conf_all_muted" if self.muted_all else "conf_all_unmuted"
            return KeyOutcome("mute_all", prompt, changed)
        if action == "lock":
            self.locked = not self.locked
            return KeyOutcome("lock", "conf_locked_now" if self.locked else "conf_unlocked")
        victim = self.last_joined(besides=member)
        return KeyOutcome("kick_last", None if victim else "conf_nobody", kick=victim)

    def summary(self, talking: frozenset[str] = frozenset()) -> dict[str, object]:
        """The room as the API and CLI show it."""
        return {
            "room": self.number,
            "members": [m.summary(self, m.key in talking) for m in self.members.values()],
            "locked": self.locked,
            "muted_all": self.muted_all,
            "max_members": self.settings.max_members,
        }
