"""The booking line's settings and the ``[booking_phone]`` configuration section.

::

    [booking_phone]
    language = "en"     # the line's first language: "zh" (default) or "en"; * switches
    days = 3            # bookable days offered by phone: today, tomorrow, the day after
    timeout = 8         # seconds to wait for the first key of each answer
    tries = 3           # wrong card/PIN entries before the call ends
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from softswitch.config import ConfigError

__all__ = ["PhoneSettings", "phone_settings_from"]

LANGUAGES = ("zh", "en")


@dataclass(frozen=True, slots=True)
class PhoneSettings:
    """Limits of the dialogue: tries, waits (seconds) and how many days can be booked."""

    tries: int = 3  # wrong card/PIN entries before the call ends
    rounds: int = 3  # "choose again" after a refusal, and re-entries after "press 2"
    days: int = 3  # today, tomorrow, the day after (at most 9: one key each)
    timeout: float = 8.0  # for the first key of any answer
    inter_digit: float = 5.0
    card_digits: int = 20
    pin_digits: int = 12
    language: str | None = None  # force "en" or "zh"; None keeps the call's (zh by default)


DEFAULTS = PhoneSettings()


def _integer(raw: Mapping[str, Any], key: str, low: int, high: int, default: int) -> int:
    value = raw.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ConfigError(f"[booking_phone] {key} must be a whole number from {low} to {high}")
    return value


def phone_settings_from(features: Mapping[str, Any]) -> PhoneSettings:
    """Read ``[booking_phone]`` (absent: the defaults); ConfigError names a bad setting."""
    raw = features.get("booking_phone", {})
    if not isinstance(raw, Mapping):
        raise ConfigError("[booking_phone] must be a table")
    unknown = sorted(set(raw) - {"language", "days", "timeout", "tries"})
    if unknown:
        raise ConfigError(f"[booking_phone]: unknown setting {unknown[0]!r}")
    language = raw.get("language")
    if language is not None and language not in LANGUAGES:
        raise ConfigError(f"[booking_phone] language must be one of {', '.join(LANGUAGES)}")
    timeout = raw.get("timeout", DEFAULTS.timeout)
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not 1 <= timeout <= 60:
        raise ConfigError("[booking_phone] timeout must be 1 to 60 seconds")
    return PhoneSettings(tries=_integer(raw, "tries", 1, 10, DEFAULTS.tries),
                         days=_integer(raw, "days", 1, 9, DEFAULTS.days),
                         timeout=float(timeout), language=language)
