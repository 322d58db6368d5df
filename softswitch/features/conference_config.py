"""The ``[conference]`` section: default room settings, per-room overrides, in-call keys.

```toml
[conference]                       # defaults for every room of the dial plan's range
max_members = 50
announce_count = true              # tell a joining member how many are there
music_when_alone = true
end_when_moderator_leaves = false
record = false                     # record every session of the room

[conference.rooms.9002]            # one room: any default plus its PINs and moderators
pin = "1234"                       # participants enter it
moderator_pin = "9999"             # a moderator enters this one instead
listener_pin = "5555"              # listen-only members enter this one
moderators = ["1005"]              # these extensions are moderators without a PIN
end_when_moderator_leaves = true

[conference.keys]                  # in-call keys (defaults shown)
mute = "1"
volume_down = "4"
volume_up = "6"
leave = "#"
mute_all = "0"                     # moderator only
lock = "2"                         # moderator only
kick_last = "3"                    # moderator only
```

Every mistake is a :class:`~softswitch.config.ConfigError` naming the key.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

from softswitch.config import ConfigError

__all__ = ["ConferenceSettings", "KeyMap", "RoomSettings", "conference_settings_from"]

_DTMF = set("0123456789*#ABCD")


@dataclass(frozen=True, slots=True)
class RoomSettings:
    """How one room behaves; a room without its own table uses the defaults."""

    pin: str = ""
    moderator_pin: str = ""
    listener_pin: str = ""
    moderators: tuple[str, ...] = ()
    max_members: int = 50
    announce_count: bool = True
    music_when_alone: bool = True
    end_when_moderator_leaves: bool = False
    record: bool = False

    @property
    def asks_pin(self) -> bool:
        """Any PIN set means callers are asked for one (the PIN picks their role)."""
        return bool(self.pin or self.moderator_pin or self.listener_pin)


@dataclass(frozen=True, slots=True)
class KeyMap:
    """In-call keys (RFC 4733 digits from the member); the last three are moderator keys."""

    mute: str = "1"
    volume_down: str = "4"
    volume_up: str = "6"
    leave: str = "#"
    mute_all: str = "0"
    lock: str = "2"
    kick_last: str = "3"

    def action_for(self, digit: str) -> str | None:
        """The action a key names (``mute``, ``lock``...), None for an unbound key."""
        for f in fields(self):
            if getattr(self, f.name) == digit:
                return f.name
        return None


@dataclass(frozen=True, slots=True)
class ConferenceSettings:
    """The whole section: defaults, rooms with their own settings, and the keys."""

    defaults: RoomSettings = field(default_factory=RoomSettings)
    rooms: Mapping[str, RoomSettings] = field(default_factory=dict)
    keys: KeyMap = field(default_factory=KeyMap)

    def room(self, number: str) -> RoomSettings:
        """Settings of room ``number`` (its own table, else the defaults)."""
        return self.rooms.get(number, self.defaults)


def _room(values: Mapping[str, Any], base: RoomSettings, where: str) -> RoomSettings:
    known = {f.name: f for f in fields(RoomSettings)}
    changes: dict[str, Any] = {}
    for key, value in values.items():
        if key not in known:
            raise ConfigError(f"{where}: unknown setting {key!r}")
        default = getattr(base, key)
        if isinstance(default, bool):
            if not isinstance(value, bool):
                raise ConfigError(f"{where}: {key} must be true or false")
        elif isinstance(default, int):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ConfigError(f"{where}: {key} must be a positive integer")
        elif isinstance(default, tuple):
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ConfigError(f"{where}: {key} must be a list of extensions")
            value = tuple(value)
        elif not isinstance(value, str) or (value and not value.isdigit()):
            raise ConfigError(f"{where}: {key} must be a string of digits")
        changes[key] = value
    room = replace(base, **changes)
    pins = [p for p in (room.pin, room.moderator_pin, room.listener_pin) if p]
    if len(set(pins)) != len(pins):
        raise ConfigError(f"{where}: pin, moderator_pin and listener_pin must differ")
    return room


def _keys(values: Any, where: str) -> KeyMap:
    if not isinstance(values, dict):
        raise ConfigError(f"{where} must be a table")
    names = {f.name for f in fields(KeyMap)}
    for key, value in values.items():
        if key not in names:
            raise ConfigError(f"{where}: unknown key action {key!r} (one of {sorted(names)})")
        if not isinstance(value, str) or len(value) != 1 or value not in _DTMF:
            raise ConfigError(f"{where}: {key} must be one DTMF key (0-9, *, #, A-D)")
    keys = replace(KeyMap(), **values)
    bound = [getattr(keys, name) for name in names]
    if len(set(bound)) != len(bound):
        raise ConfigError(f"{where}: two actions share one key")
    return keys


def conference_settings_from(features: Mapping[str, Any]) -> ConferenceSettings:
    """Read ``[conference]`` from the raw feature sections (absent: every default)."""
    section = features.get("conference", {})
    if not isinstance(section, dict):
        raise ConfigError("[conference] must be a table")
    top = {k: v for k, v in section.items() if k not in ("rooms", "keys")}
    defaults = _room(top, RoomSettings(), "[conference]")
    rooms_raw = section.get("rooms", {})
    if not isinstance(rooms_raw, dict):
        raise ConfigError("[conference.rooms] must be a table of rooms")
    rooms: dict[str, RoomSettings] = {}
    for number, values in rooms_raw.items():
        where = f"[conference.rooms.{number}]"
        if not str(number).isdigit():
            raise ConfigError(f"{where}: a room is named by its number")
        if not isinstance(values, dict):
            raise ConfigError(f"{where} must be a table")
        rooms[str(number)] = _room(values, defaults, where)
    keys = _keys(section.get("keys", {}), "[conference.keys]")
    return ConferenceSettings(defaults, rooms, keys)
