"""The `[paging]` section: paging groups, auto-answer headers per phone model, intercom rights.

Read once at start; a typo or a bad address stops the switch with a one-line ConfigError.
The dial plan says which number pages which group (`[dialplan] paging = { "621" = "all" }`);
this section says who is in a group. Group "all" means every registered phone and needs no
entry.

```toml
[paging]
skip_busy = true            # phones already in a call are not paged
beep = true                 # a start beep, once for the page
answer_wait = 1.0           # seconds the beep waits for the phones to answer
ring_timeout = 5.0          # a phone that has not answered by then is left out
language = "zh"             # the refusal announcement's language
[paging.groups.ward3]
members = ["1201", "1202"]  # extensions ([] with a multicast address: speakers only)
multicast = "239.255.3.1:5004"   # also send the page's RTP (PCMU) there
[paging.auto_answer]        # user agent substring -> header styles; first match wins
"Yealink" = ["call-info"]
"Grandstream" = ["call-info", "alert-info"]
default = ["call-info", "alert-info", "ring-answer"]
[intercom]
right = "intercom"          # "" lets everyone use intercom
```
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from softswitch.config import ConfigError
from softswitch.switch.directory import InvalidUserError, validate_right

__all__ = [
    "AUTO_ANSWER_HEADERS",
    "IntercomSettings",
    "PagingGroup",
    "PagingSettings",
    "auto_answer_headers",
    "intercom_settings_from",
    "paging_settings_from",
]

# The auto-answer headers phones understand, by style name ("HOST" becomes our address).
AUTO_ANSWER_HEADERS: Mapping[str, tuple[str, str]] = {
    "call-info": ("Call-Info", "<sip:HOST>;answer-after=0"),  # Yealink, Snom, Grandstream...
    "alert-info": ("Alert-Info", "info=alert-autoanswer"),  # Grandstream, Fanvil, Cisco SPA
    "ring-answer": ("Alert-Info", "Ring Answer"),  # Polycom
}
_ALL_STYLES = ("call-info", "alert-info", "ring-answer")


@dataclass(frozen=True, slots=True)
class PagingGroup:
    """Who a page reaches: ``members`` (None: every registered phone) and/or a multicast
    ``(address, port)``."""

    name: str
    members: tuple[str, ...] | None = None
    multicast: tuple[str, int] | None = None


@dataclass(frozen=True)
class PagingSettings:
    skip_busy: bool = True
    beep: bool = True
    answer_wait: float = 1.0
    ring_timeout: float = 5.0
    language: str = "zh"
    groups: Mapping[str, PagingGroup] = field(
        default_factory=lambda: {"all": PagingGroup("all")})
    auto_answer: tuple[tuple[str, tuple[str, ...]], ...] = ()
    default_auto_answer: tuple[str, ...] = _ALL_STYLES


@dataclass(frozen=True, slots=True)
class IntercomSettings:
    right: str = "intercom"  # "" : no right needed


def auto_answer_headers(settings: PagingSettings, user_agent: str) -> list[tuple[str, str]]:
    """The headers for a phone whose REGISTER said ``user_agent`` (first matching rule)."""
    agent = user_agent.lower()
    styles = next((s for pattern, s in settings.auto_answer if pattern.lower() in agent),
                  settings.default_auto_answer)
    return [AUTO_ANSWER_HEADERS[style] for style in styles]


def paging_settings_from(features: Mapping[str, Any],
                         dialled_groups: Sequence[str] = ()) -> PagingSettings:
    """Read `[paging]`; every group the dial plan pages (``dialled_groups``) must exist."""
    raw = _table(features.get("paging", {}), "[paging]")
    known = {"skip_busy", "beep", "answer_wait", "ring_timeout", "language", "groups",
             "auto_answer"}
    _no_unknown(raw, known, "[paging]")
    defaults = PagingSettings()
    for key in ("skip_busy", "beep"):
        if not isinstance(raw.get(key, True), bool):
            raise ConfigError(f"[paging] {key} must be true or false")
    waits = {}
    for key in ("answer_wait", "ring_timeout"):
        value = raw.get(key, getattr(defaults, key))
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 60:
            raise ConfigError(f"[paging] {key} must be a number of seconds above 0, at most 60")
        waits[key] = float(value)
    language = raw.get("language", defaults.language)
    if not isinstance(language, str) or not language.isalpha():
        raise ConfigError("[paging] language must be a language code such as 'zh'")
    groups = {"all": PagingGroup("all")}
    for name, table in _table(raw.get("groups", {}), "[paging.groups]").items():
        groups[name] = _group(name, table)
    for name in dialled_groups:
        if name not in groups:
            raise ConfigError(f"[dialplan] paging group {name!r} is not in [paging.groups]")
    rules: list[tuple[str, tuple[str, ...]]] = []
    default = _ALL_STYLES
    for pattern, styles in _table(raw.get("auto_answer", {}), "[paging.auto_answer]").items():
        checked = _styles(pattern, styles)
        if pattern == "default":
            default = checked
        else:
            rules.append((pattern, checked))
    return PagingSettings(skip_busy=raw.get("skip_busy", True), beep=raw.get("beep", True),
                          language=language, groups=groups, auto_answer=tuple(rules),
                          default_auto_answer=default, **waits)


def intercom_settings_from(features: Mapping[str, Any]) -> IntercomSettings:
    """Read `[intercom]`: the right a caller needs ('' for none)."""
    raw = _table(features.get("intercom", {}), "[intercom]")
    _no_unknown(raw, {"right"}, "[intercom]")
    right = raw.get("right", "intercom")
    if not isinstance(right, str):
        raise ConfigError("[intercom] right must be a right's name or \"\"")
    if right:
        try:
            validate_right(right)
        except InvalidUserError as exc:
            raise ConfigError(f"[intercom] right: {exc}") from None
    return IntercomSettings(right=right)


def _group(name: str, raw: Any) -> PagingGroup:
    where = f"[paging.groups.{name}]"
    table = _table(raw, where)
    _no_unknown(table, {"members", "multicast"}, where)
    members = table.get("members")
    if members is not None and (not isinstance(members, list) or not all(
            isinstance(m, str) and m.isdigit() for m in members)):
        raise ConfigError(f"{where} members must be a list of extension numbers")
    multicast = _multicast(table["multicast"], where) if "multicast" in table else None
    if name == "all":
        if members is not None:
            raise ConfigError(f"{where}: group 'all' is every registered phone; no members")
        return PagingGroup(name, None, multicast)
    if members is None and multicast is None:
        raise ConfigError(f"{where} needs members or a multicast address")
    return PagingGroup(name, tuple(members or ()), multicast)


def _multicast(value: Any, where: str) -> tuple[str, int]:
    if not isinstance(value, str) or ":" not in value:
        raise ConfigError(f"{where} multicast must be 'ADDRESS:PORT' such as '239.255.0.1:5004'")
    host, _, port = value.rpartition(":")
    try:
        address = ipaddress.IPv4Address(host)
        number = int(port)
    except ValueError:
        raise ConfigError(f"{where} multicast {value!r} is not 'IPv4-ADDRESS:PORT'") from None
    if not address.is_multicast:
        raise ConfigError(f"{where} multicast {host} is not a multicast address (224.0.0.0/4)")
    if not 1024 <= number <= 65535 or number % 2:
        raise ConfigError(f"{where} multicast port must be even, 1024-65535 (RTP)")
    return str(address), number


def _styles(pattern: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(v in AUTO_ANSWER_HEADERS for v in value):
        choices = ", ".join(AUTO_ANSWER_HEADERS)
        raise ConfigError(f"[paging.auto_answer] {pattern!r} must be a list of: {choices}")
    return tuple(value)


def _table(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ConfigError(f"{where} must be a table")
    return value


def _no_unknown(table: Mapping[str, Any], known: set[str], where: str) -> None:
    unknown = sorted(set(table) - known)
    if unknown:
        raise ConfigError(f"{where}: unknown setting {unknown[0]!r}")
