"""Dial plan and class of service: what a dialled number reaches, and whether the caller may.

Pure: built from the `[dialplan]` and `[cos.NAME]` sections of the TOML configuration (or the
defaults, which run as they are), then `route(dialled, cos)` answers with a small frozen value
the B2BUA acts on: `Extension`, `Flow`, `Conference`, `Queue`, `Paging`, `Feature`, `Trunk`,
or `Refused` (a SIP status, a reason for logs and the CDR, and the prompt to play).

Order of the decision:

1. Normalise: drop spaces, `-`, `(`, `)`; `+86...` becomes the national form `0...`, any other
   `+CC...` the international form `00CC...`. Anything but digits, `*` and `#` is refused.
2. `*` numbers are feature codes; the longest configured code that prefixes the number wins
   and the remaining digits are its argument (`*72` + `1001`).
3. Internal numbers: extension ranges, flow numbers (IVR), conference and queue ranges,
   paging groups. Ranges never overlap (checked when the plan is built).
4. Anything else goes out: the longest matching outbound route prefix picks the trunk, its
   `strip` leading digits are removed (an access code such as `9`), the rest is classified
   and checked against the caller's class of service, then `prepend` is added for the trunk.

Number classes for the Chinese numbering plan (applied to the number after `strip`):

- EMERGENCY: 110 police, 119 fire, 120 ambulance, 122 traffic (configurable list). Always
  allowed, whatever the class of service says: a hospital phone must reach them.
- INTERNATIONAL: `00` + country code + number.
- LONG_DISTANCE: `0` + area code + subscriber number. Area codes `10` and `2x` have two
  digits, all others three (`0755 ...`); the subscriber part is checked for premium numbers.
- PREMIUM: numbers matching a configured premium pattern (default `168` information
  services and `95xxx` five-digit national service numbers). A pattern is a prefix; `x`
  stands for one digit and fixes the length.
- LOCAL: 7-8 digit subscriber numbers (first digit 2-9), 11-digit mobile numbers `13x`-`19x`
  (LONG_DISTANCE instead with `mobile_is_long_distance = true`), the other `1xx`..`1xxxx`
  service numbers (114, 10086, 12345), `95xxx`/`96xxx` service numbers not configured as
  premium, and 400/800 ten-digit company numbers.
- UNKNOWN: anything else is refused with 404.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from softswitch.config import ConfigError

__all__ = [
    "ClassOfService",
    "Conference",
    "DialPlan",
    "Extension",
    "Feature",
    "Flow",
    "NumberClass",
    "NumberRange",
    "OutboundRoute",
    "Paging",
    "Queue",
    "Refused",
    "Route",
    "Trunk",
    "classify",
    "normalise",
]


class NumberClass(Enum):
    INTERNAL = "internal"
    EMERGENCY = "emergency"
    LOCAL = "local"
    LONG_DISTANCE = "long_distance"
    INTERNATIONAL = "international"
    PREMIUM = "premium"
    UNKNOWN = "unknown"


# -- results ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Extension:
    number: str
    max_seconds: int | None = None


@dataclass(frozen=True, slots=True)
class Flow:
    number: str
    flow: str
    max_seconds: int | None = None


@dataclass(frozen=True, slots=True)
class Conference:
    number: str
    max_seconds: int | None = None


@dataclass(frozen=True, slots=True)
class Queue:
    number: str
    max_seconds: int | None = None


@dataclass(frozen=True, slots=True)
class Paging:
    number: str
    group: str
    max_seconds: int | None = None


@dataclass(frozen=True, slots=True)
class Feature:
    code: str
    name: str
    argument: str = ""
    max_seconds: int | None = None


@dataclass(frozen=True, slots=True)
class Trunk:
    """Out through `trunk`, dialling `number` there; `kind` is what the CDR bills."""

    trunk: str
    number: str
    dialled: str
    kind: NumberClass
    max_seconds: int | None = None


@dataclass(frozen=True, slots=True)
class Refused:
    """Answer `status`, play `prompt` first when the call can carry early media."""

    reason: str
    prompt: str
    status: int = 403


Route = Extension | Flow | Conference | Queue | Paging | Feature | Trunk | Refused


# -- configuration values --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NumberRange:
    """`1000-1999` or a single number; members have the bounds' length (so 01000 is not in)."""

    first: str
    last: str

    @classmethod
    def parse(cls, text: str, where: str) -> NumberRange:
        low, dash, high = str(text).strip().partition("-")
        high = high if dash else low
        if not (_DIGITS.fullmatch(low) and _DIGITS.fullmatch(high)):
            raise ConfigError(f"{where}: {text!r} is not a number or a range like 1000-1999")
        if len(low) != len(high) or int(low) > int(high):
            raise ConfigError(f"{where}: range {text!r} needs same-length bounds, low first")
        return cls(low, high)

    def __contains__(self, number: object) -> bool:
        return (
            isinstance(number, str)
            and len(number) == len(self.first)
            and number.isdigit()
            and int(self.first) <= int(number) <= int(self.last)
        )

    def overlaps(self, other: NumberRange) -> bool:
        return len(self.first) == len(other.first) and not (
            int(self.last) < int(other.first) or int(other.last) < int(self.first)
        )

    def __str__(self) -> str:
        return self.first if self.first == self.last else f"{self.first}-{self.last}"


@dataclass(frozen=True, slots=True)
class OutboundRoute:
    prefix: str
    trunk: str
    strip: int = 0
    prepend: str = ""


@dataclass(frozen=True, slots=True)
class ClassOfService:
    """What a caller may dial; `max_call_seconds` ends longer calls with an announcement."""

    name: str
    internal: bool = True
    local: bool = True
    long_distance: bool = False
    international: bool = False
    premium: bool = False
    max_call_seconds: int | None = None

    def allows(self, kind: NumberClass) -> bool:
        if kind is NumberClass.EMERGENCY:
            return True
        return {
            NumberClass.INTERNAL: self.internal,
            NumberClass.LOCAL: self.local,
            NumberClass.LONG_DISTANCE: self.long_distance,
            NumberClass.INTERNATIONAL: self.international,
            NumberClass.PREMIUM: self.premium,
        }.get(kind, False)


DEFAULT_COS = {
    "internal": ClassOfService("internal", local=False),
    "local": ClassOfService("local"),
    "national": ClassOfService("national", long_distance=True),
    "unrestricted": ClassOfService(
        "unrestricted", long_distance=True, international=True, premium=True
    ),
}

_DIGITS = re.compile(r"[0-9]+")
_DIAL_CHARS = re.compile(r"[0-9*#]+")
_PATTERN = re.compile(r"[0-9]+[xX]*")
_MOBILE = re.compile(r"1[3-9][0-9]{9}")
_LOCAL = re.compile(r"[2-9][0-9]{6,7}")
_SERVICE = re.compile(r"1[0-9]{2,4}|9[56][0-9]{3}|[48]00[0-9]{7}")


def normalise(dialled: str) -> str:
    """Digits, `*` and `#` only; `+86` to national `0`, other `+` to international `00`."""
    text = re.sub(r"[\s\-()]", "", dialled)
    if text.startswith("+86"):
        text = "0" + text[3:]
    elif text.startswith("+"):
        text = "00" + text[1:]
    return text


def _matches(pattern: str, number: str) -> bool:
    fixed = pattern.rstrip("xX")
    if len(fixed) == len(pattern):
        return number.startswith(fixed)
    return len(number) == len(pattern) and number.startswith(fixed)


def classify(
    number: str,
    *,
    emergency: Iterable[str] = ("110", "119", "120", "122"),
    premium: Iterable[str] = ("168", "95xxx"),
    mobile_is_long_distance: bool = False,
) -> NumberClass:
    """The class of an external number under the Chinese plan (see the module docstring)."""
    premium = tuple(premium)
    if not _DIGITS.fullmatch(number):
        return NumberClass.UNKNOWN
    if number in set(emergency):
        return NumberClass.EMERGENCY
    if number.startswith("00"):
        return NumberClass.INTERNATIONAL if len(number) > 4 else NumberClass.UNKNOWN
    if number.startswith("0"):
        national = number[1:]
        area = 2 if national.startswith(("10", "2")) else 3
        subscriber = national[area:]
        if len(subscriber) < 3:
            return NumberClass.UNKNOWN
        if any(_matches(p, subscriber) for p in premium):
            return NumberClass.PREMIUM
        return NumberClass.LONG_DISTANCE
    if any(_matches(p, number) for p in premium):
        return NumberClass.PREMIUM
    if _MOBILE.fullmatch(number):
        return NumberClass.LONG_DISTANCE if mobile_is_long_distance else NumberClass.LOCAL
    if _LOCAL.fullmatch(number) or _SERVICE.fullmatch(number):
        return NumberClass.LOCAL
    return NumberClass.UNKNOWN


# -- the plan --------------------------------------------------------------------------------


@dataclass(frozen=True)
class DialPlan:
    """A validated dial plan; build it from configuration with `from_config`."""

    extensions: tuple[NumberRange, ...] = (NumberRange("1000", "1999"),)
    flows: Mapping[str, str] = field(default_factory=lambda: {"8000": "appointments"})
    conferences: tuple[NumberRange, ...] = (NumberRange("9000", "9099"),)
    queues: tuple[NumberRange, ...] = ()
    paging: Mapping[str, str] = field(default_factory=lambda: {"621": "all"})
    features: Mapping[str, str] = field(
        default_factory=lambda: {
            "*72": "forward_on",
            "*73": "forward_off",
            "*78": "dnd_on",
            "*79": "dnd_off",
            "*8": "pickup",
            "**": "pickup_directed",
            "*0": "speed_dial",
            "*11": "hotdesk_login",
            "*12": "hotdesk_logout",
            "*80": "intercom",
            "*97": "voicemail",
        }
    )
    routes: tuple[OutboundRoute, ...] = ()
    emergency: tuple[str, ...] = ("110", "119", "120", "122")
    premium: tuple[str, ...] = ("168", "95xxx")
    mobile_is_long_distance: bool = False
    cos: Mapping[str, ClassOfService] = field(default_factory=lambda: dict(DEFAULT_COS))

    def __post_init__(self) -> None:
        _check_disjoint(self)

    @classmethod
    def from_config(cls, raw: Mapping[str, Any]) -> DialPlan:
        """Read `[dialplan]` and `[cos.NAME]` from a parsed TOML document; a key left out
        keeps its default, a wrong one raises ConfigError naming the section and key::

            [dialplan]
            extensions = ["1000-1999"]          # or one string; single numbers allowed
            flows = { "8000" = "appointments" }
            conferences = ["9000-9099"]
            queues = ["7000-7009"]
            paging = { "621" = "all" }
            features = { "*97" = "voicemail" }
            emergency = ["110", "119", "120", "122"]
            premium = ["168", "95xxx"]
            mobile_is_long_distance = false
            [[dialplan.routes]]
            prefix = "9"                        # access code
            trunk = "carrier"
            strip = 1
            prepend = ""
            [cos.staff]                         # adds to (or replaces) the default classes
            long_distance = true
            max_call_seconds = 300
        """
        return cls(**_plan_arguments(raw))

    def class_of_service(self, name: str) -> ClassOfService:
        try:
            return self.cos[name]
        except KeyError:
            raise ConfigError(f"unknown class of service {name!r}") from None

    def route(self, dialled: str, caller_cos: ClassOfService | str) -> Route:
        """Where `dialled` goes for a caller of class `caller_cos` (see the module docstring)."""
        if isinstance(caller_cos, ClassOfService):
            cos = caller_cos
        else:
            cos = self.class_of_service(caller_cos)
        number = normalise(dialled)
        if not number:
            return Refused("empty number", "number_incomplete", 484)
        if not _DIAL_CHARS.fullmatch(number):
            return Refused(f"invalid characters in {dialled!r}", "number_invalid", 404)
        limit = cos.max_call_seconds
        if number.startswith("*"):
            return self._feature(number, limit)
        internal = self._internal(number, limit)
        if internal is not None:
            if not cos.internal:
                return Refused("internal calls not allowed", "cos_internal")
            return internal
        return self._outbound(number, cos)

    def _feature(self, number: str, limit: int | None) -> Route:
        codes = sorted((c for c in self.features if number.startswith(c)), key=len, reverse=True)
        if not codes:
            return Refused(f"unknown feature code {number}", "feature_unknown", 404)
        code = codes[0]
        return Feature(code, self.features[code], number[len(code) :], limit)

    def _internal(self, number: str, limit: int | None) -> Route | None:
        if any(number in r for r in self.extensions):
            return Extension(number, limit)
        if number in self.flows:
            return Flow(number, self.flows[number], limit)
        if any(number in r for r in self.conferences):
            return Conference(number, limit)
        if any(number in r for r in self.queues):
            return Queue(number, limit)
        if number in self.paging:
            return Paging(number, self.paging[number], limit)
        return None

    def _outbound(self, number: str, cos: ClassOfService) -> Route:
        matching = [r for r in self.routes if number.startswith(r.prefix)]
        route = max(matching, key=lambda r: len(r.prefix)) if matching else None
        external = number[route.strip :] if route else number
        kind = classify(
            external,
            emergency=self.emergency,
            premium=self.premium,
            mobile_is_long_distance=self.mobile_is_long_distance,
        )
        if kind is NumberClass.UNKNOWN:
            return Refused(f"unknown number {number}", "number_unavailable", 404)
        if not cos.allows(kind):
            label = kind.value.replace("_", " ")
            return Refused(f"{label} calls not allowed for {cos.name}", f"cos_{kind.value}")
        if route is None:
            return Refused(f"no outbound route for {number}", "no_route", 404)
        limit = None if kind is NumberClass.EMERGENCY else cos.max_call_seconds
        return Trunk(route.trunk, route.prepend + external, number, kind, limit)


def _check_disjoint(plan: DialPlan) -> None:
    """Every internal number must mean one thing: ranges and single numbers never overlap."""
    named: list[tuple[str, NumberRange]] = []
    named += [("extensions", r) for r in plan.extensions]
    named += [("flows", NumberRange(n, n)) for n in plan.flows]
    named += [("conferences", r) for r in plan.conferences]
    named += [("queues", r) for r in plan.queues]
    named += [("paging", NumberRange(n, n)) for n in plan.paging]
    for i, (kind_a, a) in enumerate(named):
        for kind_b, b in named[i + 1 :]:
            if a.overlaps(b):
                raise ConfigError(f"[dialplan] {kind_a} {a} overlaps {kind_b} {b}")
    for number in plan.emergency:
        if any(number in r for _, r in named):
            raise ConfigError(f"[dialplan] emergency number {number} is also an internal number")


# -- configuration ---------------------------------------------------------------------------

_PLAN_KEYS = frozenset(
    {
        "extensions", "flows", "conferences", "queues", "paging", "features", "routes",
        "emergency", "premium", "mobile_is_long_distance",
    }
)
_ROUTE_KEYS = frozenset({"prefix", "trunk", "strip", "prepend"})
_COS_FLAGS = ("internal", "local", "long_distance", "international", "premium")
_FEATURE_CODE = re.compile(r"\*[0-9#*]+")


def _plan_arguments(raw: Mapping[str, Any]) -> dict[str, Any]:
    section = _table(raw.get("dialplan", {}), "[dialplan]")
    unknown = sorted(set(section) - _PLAN_KEYS)
    if unknown:
        raise ConfigError(f"[dialplan]: unknown setting {unknown[0]!r}")
    out: dict[str, Any] = {}
    for key in ("extensions", "conferences", "queues"):
        if key in section:
            items = section[key]
            items = [items] if isinstance(items, str) else _list(items, f"[dialplan] {key}")
            out[key] = tuple(NumberRange.parse(str(i), f"[dialplan] {key}") for i in items)
    for key in ("flows", "paging"):
        if key in section:
            out[key] = _names(section[key], f"[dialplan] {key}", _DIGITS, "a number")
    if "features" in section:
        out["features"] = _names(
            section["features"], "[dialplan] features", _FEATURE_CODE, "a code like *97"
        )
    if "routes" in section:
        routes = _list(section["routes"], "[dialplan] routes")
        out["routes"] = tuple(_route(r, f"[dialplan] routes[{i}]") for i, r in enumerate(routes))
    if "emergency" in section:
        out["emergency"] = _strings(section["emergency"], "[dialplan] emergency", _DIGITS)
    if "premium" in section:
        out["premium"] = _strings(section["premium"], "[dialplan] premium", _PATTERN)
    if "mobile_is_long_distance" in section:
        value = section["mobile_is_long_distance"]
        if not isinstance(value, bool):
            raise ConfigError("[dialplan] mobile_is_long_distance must be true or false")
        out["mobile_is_long_distance"] = value
    cos = dict(DEFAULT_COS)
    for name, table in _table(raw.get("cos", {}), "[cos]").items():
        cos[name] = _class_of_service(name, _table(table, f"[cos.{name}]"))
    out["cos"] = cos
    return out


def _table(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ConfigError(f"{where} must be a table")
    return value


def _list(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise ConfigError(f"{where} must be a list")
    return value


def _strings(value: Any, where: str, pattern: re.Pattern[str]) -> tuple[str, ...]:
    items = _list(value, where)
    for item in items:
        if not isinstance(item, str) or not pattern.fullmatch(item):
            raise ConfigError(f"{where}: invalid entry {item!r}")
    return tuple(items)


def _names(value: Any, where: str, pattern: re.Pattern[str], what: str) -> dict[str, str]:
    table = _table(value, where)
    for key, name in table.items():
        if not pattern.fullmatch(key):
            raise ConfigError(f"{where}: {key!r} must be {what}")
        if not isinstance(name, str) or not name:
            raise ConfigError(f"{where}: {key} needs a name (a non-empty string)")
    return dict(table)


def _route(value: Any, where: str) -> OutboundRoute:
    table = _table(value, where)
    unknown = sorted(set(table) - _ROUTE_KEYS)
    if unknown:
        raise ConfigError(f"{where}: unknown setting {unknown[0]!r}")
    prefix, trunk = table.get("prefix", ""), table.get("trunk")
    strip, prepend = table.get("strip", 0), table.get("prepend", "")
    if not isinstance(prefix, str) or not (prefix == "" or _DIGITS.fullmatch(prefix)):
        raise ConfigError(f"{where}: prefix must be a string of digits")
    if not isinstance(trunk, str) or not trunk:
        raise ConfigError(f"{where}: trunk (a trunk name) is required")
    if not isinstance(strip, int) or isinstance(strip, bool) or strip < 0:
        raise ConfigError(f"{where}: strip must be a whole number of digits, 0 or more")
    if not isinstance(prepend, str) or not (prepend == "" or _DIGITS.fullmatch(prepend)):
        raise ConfigError(f"{where}: prepend must be a string of digits")
    return OutboundRoute(prefix, trunk, strip, prepend)


def _class_of_service(name: str, table: dict[str, Any]) -> ClassOfService:
    where = f"[cos.{name}]"
    values: dict[str, Any] = {}
    for key, value in table.items():
        if key in _COS_FLAGS:
            if not isinstance(value, bool):
                raise ConfigError(f"{where}: {key} must be true or false")
        elif key == "max_call_seconds":
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ConfigError(f"{where}: max_call_seconds must be a positive whole number")
        else:
            raise ConfigError(f"{where}: unknown setting {key!r}")
        values[key] = value
    return ClassOfService(name, **values)
