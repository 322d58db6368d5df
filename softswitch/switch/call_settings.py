"""The `[calls]` section: how long phones ring, when dead media or a dead session ends a call.

The config loader keeps `[calls]` raw (a feature section); this module reads and checks it, so
a typo or a negative timeout stops the switch at start with a one-line ConfigError.

```toml
[calls]
no_answer_timeout = 30      # seconds a callee may ring
rtp_timeout = 60            # no RTP from a phone that should send: end the call (0: never)
session_expires = 1800      # RFC 4028 interval we ask for; 0 turns session timers off
min_se = 90                 # smallest interval we accept (422 below it)
codecs = ["PCMU", "PCMA", "G722"]
```
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from softswitch.config import ConfigError
from softswitch.sip.sdp_negotiation import Capabilities
from softswitch.sip.session_timer import SessionTimerPolicy

__all__ = ["CallSettings", "call_settings_from"]


@dataclass(frozen=True, slots=True)
class CallSettings:
    """Call handling knobs; ``session_timer`` None means no RFC 4028 timers on our side."""

    no_answer_timeout: float = 30.0
    rtp_timeout: float = 60.0
    capabilities: Capabilities = Capabilities()
    session_timer: SessionTimerPolicy | None = field(default_factory=SessionTimerPolicy)


_NUMBERS = ("no_answer_timeout", "rtp_timeout", "session_expires", "min_se")


def call_settings_from(features: Mapping[str, Any]) -> CallSettings:
    """Read `[calls]` from the config's feature sections (absent: the defaults)."""
    raw = features.get("calls", {})
    if not isinstance(raw, Mapping):
        raise ConfigError("[calls] must be a table")
    unknown = sorted(set(raw) - {*_NUMBERS, "codecs"})
    if unknown:
        raise ConfigError(f"[calls]: unknown setting {unknown[0]!r}")
    for key in _NUMBERS:
        value = raw.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)
                                  or value < 0):
            raise ConfigError(f"[calls] {key} must be a number of seconds, 0 or more")
    defaults = CallSettings()
    no_answer = float(raw.get("no_answer_timeout", defaults.no_answer_timeout))
    if no_answer <= 0:
        raise ConfigError("[calls] no_answer_timeout must be above 0")
    caps = defaults.capabilities
    if "codecs" in raw:
        codecs = raw["codecs"]
        if not isinstance(codecs, list) or not all(isinstance(c, str) for c in codecs):
            raise ConfigError("[calls] codecs must be a list of codec names")
        try:
            caps = Capabilities(codecs=tuple(codecs))
        except ValueError as exc:
            raise ConfigError(f"[calls] codecs: {exc}") from None
    policy: SessionTimerPolicy | None = None
    expires = int(raw.get("session_expires", 1800))
    if expires:
        try:
            policy = SessionTimerPolicy(session_expires=expires,
                                        min_se=int(raw.get("min_se", 90)))
        except ValueError as exc:
            raise ConfigError(f"[calls] session timer: {exc}") from None
    return CallSettings(no_answer_timeout=no_answer,
                        rtp_timeout=float(raw.get("rtp_timeout", defaults.rtp_timeout)),
                        capabilities=caps, session_timer=policy)
