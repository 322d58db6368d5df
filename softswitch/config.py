"""One TOML configuration file with defaults that run; CLI flags and environment override it.

Unknown sections or keys are errors (a typo must not silently fall back to a default), and every
error is a `ConfigError` with a one-line message for the operator.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

__all__ = [
    "Config", "SipConfig", "HttpConfig", "RegistrarConfig", "SecurityConfig", "ConfigError",
    "load_config",
]


# Top-level sections owned by feature modules rather than by this one.
FEATURE_SECTIONS = frozenset({"dialplan", "cos", "calls", "flows", "trunks", "booking_phone",
                              "paging", "intercom", "conference", "voicemail", "recording",
                              "pickup", "speed_dial"})


class ConfigError(Exception):
    """The configuration cannot be used; the message says why, in one line."""


@dataclass(frozen=True)
class SipConfig:
    host: str = "0.0.0.0"
    port: int = 5060
    ipv6: bool = True
    tls_port: int = 5061
    tls_cert: str | None = None
    tls_key: str | None = None
    advertise: str | None = None
    realm: str = "softswitch"
    user_agent: str = "softswitch/0.1"
    max_udp_bytes: int = 65535
    max_header_bytes: int = 16 * 1024
    max_body_bytes: int = 64 * 1024
    tcp_idle_timeout: float = 900.0
    tcp_partial_timeout: float = 30.0
    max_connections: int = 10000
    t1: float = 0.5
    t2: float = 4.0
    t4: float = 5.0


@dataclass(frozen=True)
class HttpConfig:
    host: str = "0.0.0.0"
    port: int = 8080
    token: str | None = None
    # Logs staff in to the web pages (/staff/roster) besides the admin token; empty: token only.
    staff_password: str = ""


@dataclass(frozen=True)
class RegistrarConfig:
    """Registration timing (RFC 3261 section 10.3) and keep-alive of registered contacts."""

    min_expires: int = 60
    default_expires: int = 3600
    max_expires: int = 7200
    max_contacts: int = 10
    nonce_ttl: float = 300.0
    user_cache_ttl: float = 5.0
    qualify_interval: float = 30.0
    purge_interval: float = 60.0


@dataclass(frozen=True)
class SecurityConfig:
    """Brute-force blocking per source address, known scanner user agents, and the digest
    algorithms offered, most preferred first (RFC 8760; old UAs take the first one, so a
    site with MD5-only phones may list "MD5" first)."""

    max_failures: int = 10
    failure_window: float = 60.0
    block_for: float = 900.0
    digest_algorithms: tuple[str, ...] = ("SHA-256", "MD5")
    drop_scanners: bool = True
    scanner_agents: tuple[str, ...] = (
        "friendly-scanner", "sipvicious", "sipcli", "sip-scan", "vaxsipuseragent", "sundayddr",
        "iwar", "pplsip", "smap", "sipptk",
    )
    event_retention_days: float = 30.0


@dataclass(frozen=True)
class MediaConfig:
    """RTP ports: how many closed legs' socket pairs stay bound for the next calls
    (media/socketpool.py; 0: every leg binds and closes its own)."""

    socket_pool: int = 256

    def __post_init__(self) -> None:
        if self.socket_pool < 0:
            raise ConfigError(f"[media] socket_pool must be 0 or more, not {self.socket_pool}")


@dataclass(frozen=True)
class Config:
    sip: SipConfig = field(default_factory=SipConfig)
    http: HttpConfig = field(default_factory=HttpConfig)
    registrar: RegistrarConfig = field(default_factory=RegistrarConfig)
    security: SecurityConfig = field(default_factory=SecurityConfig)
    media: MediaConfig = field(default_factory=MediaConfig)
    data_dir: Path = Path("./var")
    log_level: str = "info"
    demo: bool = False
    # Raw TOML sections that feature modules read and check themselves (see FEATURE_SECTIONS).
    features: dict[str, Any] = field(default_factory=dict, compare=False)

    def with_overrides(self, **overrides: Any) -> Config:
        """Apply flag values (None means 'not given'): sip_port=..., http_port=..., data_dir=..."""
        sip_changes: dict[str, Any] = {}
        http_changes: dict[str, Any] = {}
        top: dict[str, Any] = {}
        for name, value in overrides.items():
            if value is None:
                continue
            section, _, key = name.partition("_")
            if section == "sip":
                sip_changes[key] = value
            elif section == "http":
                http_changes[key] = value
            else:
                top[name] = value
        return replace(
            self,
            sip=replace(self.sip, **sip_changes),
            http=replace(self.http, **http_changes),
            **top,
        )


def load_config(path: Path | None) -> Config:
    """Read a TOML file (or return the defaults when `path` is None) and check it."""
    if path is None:
        return Config()
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read config file {path}: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"invalid TOML in {path}: {exc}") from None
    base_dir = path.parent
    sections = {
        "sip": SipConfig, "http": HttpConfig, "registrar": RegistrarConfig,
        "security": SecurityConfig, "media": MediaConfig,
    }
    values: dict[str, Any] = {}
    features: dict[str, Any] = {}
    for key, value in raw.items():
        if key in sections:
            if not isinstance(value, dict):
                raise ConfigError(f"{path}: [{key}] must be a table")
            values[key] = _build(sections[key], value, f"{path}: [{key}]")
        elif key == "data_dir":
            values[key] = base_dir / str(value) if not Path(str(value)).is_absolute() else Path(value)
        elif key in ("log_level", "demo"):
            values[key] = value
        elif key in FEATURE_SECTIONS:
            # Read and checked by the feature's own module (the dial plan parses [dialplan]).
            features[key] = value
        else:
            raise ConfigError(f"{path}: unknown setting or section {key!r}")
    values["features"] = features
    return _build(Config, values, str(path))


def _build(cls: type, values: dict[str, Any], where: str) -> Any:
    known = {f.name: f for f in fields(cls)}
    for key, value in values.items():
        if key not in known:
            raise ConfigError(f"{where}: unknown setting {key!r}")
        default = getattr(cls(), key)
        if isinstance(default, bool) and not isinstance(value, bool):
            raise ConfigError(f"{where}: {key} must be true or false")
        if isinstance(default, int) and not isinstance(default, bool):
            if not isinstance(value, int) or isinstance(value, bool):
                raise ConfigError(f"{where}: {key} must be an integer")
        if isinstance(default, float) and not isinstance(value, (int, float)):
            raise ConfigError(f"{where}: {key} must be a number")
        if isinstance(default, str) and not isinstance(value, str):
            raise ConfigError(f"{where}: {key} must be a string")
        if isinstance(default, tuple):
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ConfigError(f"{where}: {key} must be a list of strings")
            values[key] = tuple(value)
    return cls(**values)
