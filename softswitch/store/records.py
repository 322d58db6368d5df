"""Values the repositories read and write: plain frozen dataclasses, no database types.

They do not validate directory rules (that is :mod:`softswitch.switch.directory`), so a
PostgreSQL backend can return the very same records.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

__all__ = ["Binding", "SecurityEvent", "SecurityEventKind", "User", "binding_key"]


@dataclass(frozen=True, slots=True)
class User:
    """One extension. HA1 values are password-equivalent for their realm: kept out of repr."""

    extension: str
    realm: str
    ha1_md5: str = field(repr=False)
    ha1_sha256: str = field(repr=False)
    display_name: str = ""
    department: str = ""
    class_of_service: str = "internal"
    rights: frozenset[str] = frozenset()
    voicemail_pin_hash: str | None = field(default=None, repr=False)
    enabled: bool = True
    created_at: float = 0.0
    updated_at: float = 0.0


def binding_key(contact: str, instance_id: str | None = None, reg_id: int | None = None) -> str:
    """What identifies a binding within its AOR.

    RFC 5626 section 6: with +sip.instance and reg-id, the pair identifies the flow; with only
    +sip.instance, the instance (RFC 5627); otherwise the Contact URI (RFC 3261 section 10.3,
    the registrar normalises the URI before it gets here).
    """
    if instance_id is None:
        return f"contact:{contact}"
    if reg_id is None:
        return f"instance:{instance_id}"
    return f"instance:{instance_id};reg-id={reg_id}"


@dataclass(frozen=True, slots=True)
class Binding:
    """A registrar binding: where and how to reach one contact of an address-of-record."""

    aor: str
    contact: str
    expires_at: float
    call_id: str
    cseq: int
    source_host: str
    source_port: int
    transport: str
    q: float | None = None
    connection_id: str | None = None
    user_agent: str = ""
    path: tuple[str, ...] = ()
    instance_id: str | None = None
    reg_id: int | None = None
    last_seen: float = 0.0
    reachable: bool = True

    @property
    def key(self) -> str:
        """See :func:`binding_key`."""
        return binding_key(self.contact, self.instance_id, self.reg_id)

    def expires_in(self, now: float) -> int:
        """Seconds left, for the Contact expires parameter of a 200 OK (never negative)."""
        return max(0, int(self.expires_at - now))


class SecurityEventKind(StrEnum):
    """The vocabulary of the security log."""

    AUTH_FAILED = "auth_failed"
    SOURCE_BLOCKED = "source_blocked"
    SCANNER_DROPPED = "scanner_dropped"
    NONCE_REPLAYED = "nonce_replayed"
    USER_DISABLED = "user_disabled"


@dataclass(frozen=True, slots=True)
class SecurityEvent:
    """Who (user, if named), from where (source), what (kind, detail), when (at)."""

    at: float
    kind: SecurityEventKind
    source: str
    user: str | None = None
    detail: str = ""
    id: int | None = None
