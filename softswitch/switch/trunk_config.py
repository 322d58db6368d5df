"""The `[trunks.NAME]` sections: where a provider is, how we register to it, who may call in.

Read raw from the config's feature sections and checked here, so a typo stops the switch at
start with one ConfigError line::

    [trunks.carrier]
    host = "198.51.100.7"
    port = 5060
    transport = "udp"
    username = "0755123456"            # answers the provider's digest challenges
    password = "secret"
    register = true                    # keep a registration (default: with credentials)
    realm = "carrier.example"          # optional: answer only this realm's challenges
    expires = 3600                     # registration interval we ask for
    inbound_acl = ["198.51.100.0/24"]  # sources whose INVITEs need no digest (IP ACL)
    did = { "075512345601" = "1001", "075512345600" = "8000" }
    from_user = "075512345600"         # caller ID presented on outbound calls
    from_display = "City Hospital"
    pai = true                         # also send P-Asserted-Identity (RFC 3325)

A trunk without credentials (or with `register = false`) is a static peer: calls go to it
without registration.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from softswitch.config import ConfigError

__all__ = ["TrunkConfig", "trunks_from"]

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

_KEYS = frozenset({
    "register", "host", "port", "transport", "username", "password", "realm", "expires", "inbound_acl",
    "did", "from_user", "from_display", "pai",
})
_TRANSPORTS = ("udp", "tcp", "tls")
_NUMBER = re.compile(r"[0-9*#+]+")
_USER = re.compile(r"[A-Za-z0-9._~+\-]+")


@dataclass(frozen=True, slots=True)
class TrunkConfig:
    """One provider or gateway; `register`: we keep a registration to it (needs credentials)."""

    name: str
    host: str
    port: int = 5060
    transport: str = "udp"
    username: str | None = None
    password: str | None = None
    realm: str | None = None
    expires: int = 3600
    inbound_acl: tuple[IpNetwork, ...] = ()
    did: Mapping[str, str] = field(default_factory=dict)
    from_user: str | None = None
    from_display: str | None = None
    pai: bool = False
    register: bool = False

    def admits(self, source_host: str) -> bool:
        """Is an unauthenticated request from ``source_host`` this trunk's (IP ACL)?"""
        address = _address(source_host)
        return address is not None and any(address in network for network in self.inbound_acl)

    def did_target(self, dialled: str) -> str:
        """The internal number an inbound call to ``dialled`` goes to (default: itself)."""
        return self.did.get(dialled, dialled)


@functools.lru_cache(maxsize=4096)
def _address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """A source host as an address (None: not one); parsed once per host, as every INVITE
    is checked against every trunk's ACL."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def trunks_from(features: Mapping[str, Any]) -> dict[str, TrunkConfig]:
    """Read every `[trunks.NAME]` table (absent: no trunks)."""
    raw = features.get("trunks", {})
    if not isinstance(raw, Mapping):
        raise ConfigError("[trunks] must be a table of [trunks.NAME] tables")
    return {name: _trunk(name, table) for name, table in raw.items()}


def _trunk(name: str, table: Any) -> TrunkConfig:
    where = f"[trunks.{name}]"
    if not isinstance(table, Mapping):
        raise ConfigError(f"{where} must be a table")
    unknown = sorted(set(table) - _KEYS)
    if unknown:
        raise ConfigError(f"{where}: unknown setting {unknown[0]!r}")
    host = table.get("host")
    if not isinstance(host, str) or not host:
        raise ConfigError(f"{where}: host is required")
    port = table.get("port", 5060)
    if not isinstance(port, int) or isinstance(port, bool) or not 0 < port < 65536:
        raise ConfigError(f"{where}: port must be 1-65535")
    transport = table.get("transport", "udp")
    if not isinstance(transport, str) or transport.lower() not in _TRANSPORTS:
        raise ConfigError(f"{where}: transport must be one of {', '.join(_TRANSPORTS)}")
    expires = table.get("expires", 3600)
    if not isinstance(expires, int) or isinstance(expires, bool) or expires < 10:
        raise ConfigError(f"{where}: expires must be a whole number of seconds, 10 or more")
    strings = {key: table.get(key) for key in ("username", "password", "realm", "from_display")}
    for key, value in strings.items():
        if value is not None and not isinstance(value, str):
            raise ConfigError(f"{where}: {key} must be a string")
    if (strings["username"] is None) != (strings["password"] is None):
        raise ConfigError(f"{where}: username and password go together")
    from_user = table.get("from_user")
    if from_user is not None and (not isinstance(from_user, str) or not _USER.fullmatch(from_user)):
        raise ConfigError(f"{where}: from_user must be a SIP user part such as a number")
    pai = table.get("pai", False)
    register = table.get("register", strings["username"] is not None)
    if not isinstance(pai, bool) or not isinstance(register, bool):
        raise ConfigError(f"{where}: pai and register must be true or false")
    if register and strings["username"] is None:
        raise ConfigError(f"{where}: register needs username and password")
    return TrunkConfig(
        name=name, host=host, port=port, transport=transport.lower(),
        username=strings["username"], password=strings["password"], realm=strings["realm"],
        expires=expires, inbound_acl=_acl(table.get("inbound_acl", []), where),
        did=_did(table.get("did", {}), where), from_user=from_user,
        from_display=strings["from_display"], pai=pai, register=register,
    )


def _acl(value: Any, where: str) -> tuple[IpNetwork, ...]:
    if not isinstance(value, list):
        raise ConfigError(f"{where}: inbound_acl must be a list of addresses or networks")
    networks: list[IpNetwork] = []
    for item in value:
        try:
            networks.append(ipaddress.ip_network(str(item), strict=False))
        except ValueError:
            raise ConfigError(f"{where}: inbound_acl entry {item!r} is not an IP or CIDR") from None
    return tuple(networks)


def _did(value: Any, where: str) -> dict[str, str]:
    if not isinstance(value, Mapping):
        raise ConfigError(f"{where}: did must be a table of number = internal number")
    for dialled, target in value.items():
        if not _NUMBER.fullmatch(dialled) or not isinstance(target, str) \
                or not _NUMBER.fullmatch(target):
            raise ConfigError(f"{where}: did {dialled!r} = {target!r} must map numbers to numbers")
    return dict(value)
