"""User directory rules: what a valid extension, password, name and right is, and HA1 per realm.

Why here and not in the store: the CLI, the HTTP API and CSV import must apply *the same* rules,
and the store should accept whatever the rules let through (a PostgreSQL backend included).

Passwords are never stored, only HA1 = H(extension:realm:password) for MD5 and SHA-256
(RFC 7616 section 3.4.2, RFC 8760). HA1 binds the realm, so **changing the realm needs every
password again**: existing HA1 values become useless, and users whose stored realm differs from
the current one cannot register until ``softswitch users passwd`` is run for them.

Voicemail PINs are short digit strings, so no hash makes them strong against an offline attack;
a salted PBKDF2 keeps them out of plain sight, and the voicemail lockout is the real protection.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from softswitch.sip.digest import DigestAlgorithm, compute_ha1
from softswitch.store.records import User

__all__ = [
    "CLASSES_OF_SERVICE",
    "DEFAULT_REALM",
    "EXTENSION_PATTERN",
    "FEATURE_RIGHTS",
    "Credentials",
    "InvalidUserError",
    "PasswordPolicy",
    "hash_pin",
    "make_credentials",
    "make_user",
    "normalise_rights",
    "user_summary",
    "validate_class_of_service",
    "validate_extension",
    "validate_label",
    "validate_pin",
    "validate_realm",
    "validate_right",
    "verify_pin",
]

DEFAULT_REALM = "softswitch"

#: Extensions are dialable digit strings: 2 to 15 digits (E.164 maximum length).
EXTENSION_PATTERN = re.compile(r"[0-9]{2,15}")

#: Feature rights an extension can be granted; features check these names.
FEATURE_RIGHTS = frozenset(
    {"paging", "intercom", "barge", "monitor", "record", "conference", "voicemail", "emergency"}
)

#: Class of service, from most to least restricted: where an extension may dial.
CLASSES_OF_SERVICE = ("internal", "local", "national", "international")

_PIN = re.compile(r"[0-9]{4,12}")
_REALM = re.compile(r"[A-Za-z0-9.\-_]{1,128}")
_PIN_ITERATIONS = 2_000
_MAX_LABEL = 64


class InvalidUserError(ValueError):
    """A field breaks a directory rule; ``field`` names it so the API can say which one."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


def validate_extension(extension: str) -> str:
    """Return the extension if it is 2..15 digits, else raise :class:`InvalidUserError`."""
    if not EXTENSION_PATTERN.fullmatch(extension):
        raise InvalidUserError("extension", f"{extension!r} must be 2 to 15 digits")
    return extension


def validate_realm(realm: str) -> str:
    """Realms are host-like tokens so they quote safely and read clearly on phone screens."""
    if not _REALM.fullmatch(realm):
        raise InvalidUserError("realm", f"{realm!r} must be 1-128 letters, digits, '.', '-', '_'")
    return realm


def validate_label(field: str, text: str) -> str:
    """Names and departments: printable, at most 64 characters (they end up in SIP headers)."""
    cleaned = text.strip()
    if len(cleaned) > _MAX_LABEL:
        raise InvalidUserError(field, f"at most {_MAX_LABEL} characters")
    if any(unicodedata.category(char).startswith("C") for char in cleaned):
        raise InvalidUserError(field, "control characters are not allowed")
    return cleaned


def validate_right(right: str) -> str:
    """A feature right must be one of :data:`FEATURE_RIGHTS` (catches typos like 'pagign')."""
    normalised = right.strip().lower()
    if normalised not in FEATURE_RIGHTS:
        choices = ", ".join(sorted(FEATURE_RIGHTS))
        raise InvalidUserError("rights", f"unknown right {right!r} (one of: {choices})")
    return normalised


def validate_class_of_service(value: str) -> str:
    """One of :data:`CLASSES_OF_SERVICE`."""
    normalised = value.strip().lower()
    if normalised not in CLASSES_OF_SERVICE:
        choices = ", ".join(CLASSES_OF_SERVICE)
        raise InvalidUserError("class_of_service", f"{value!r} is not one of: {choices}")
    return normalised


def validate_pin(pin: str) -> str:
    """Voicemail PINs are 4 to 12 digits, typed on a keypad."""
    if not _PIN.fullmatch(pin):
        raise InvalidUserError("voicemail_pin", "must be 4 to 12 digits")
    return pin


@dataclass(frozen=True, slots=True)
class PasswordPolicy:
    """Minimum strength for SIP passwords (they face online guessing from the internet)."""

    min_length: int = 8
    max_length: int = 128
    min_distinct: int = 5

    def check(self, password: str, extension: str) -> str:
        """Return the password or raise :class:`InvalidUserError` saying what is wrong."""
        if not self.min_length <= len(password) <= self.max_length:
            raise InvalidUserError(
                "password", f"must be {self.min_length} to {self.max_length} characters"
            )
        if any(unicodedata.category(char).startswith("C") for char in password):
            raise InvalidUserError("password", "control characters are not allowed")
        if len(set(password)) < self.min_distinct:
            raise InvalidUserError(
                "password", f"needs at least {self.min_distinct} different characters"
            )
        if extension in password:
            raise InvalidUserError("password", "must not contain the extension")
        return password


@dataclass(frozen=True, slots=True)
class Credentials:
    """What the directory keeps instead of a password: HA1 per algorithm for one realm."""

    realm: str
    ha1_md5: str
    ha1_sha256: str

    def ha1(self, algorithm: DigestAlgorithm) -> str:
        """The HA1 the digest verifier needs for ``algorithm``."""
        return self.ha1_sha256 if algorithm is DigestAlgorithm.SHA256 else self.ha1_md5


def make_credentials(extension: str, realm: str, password: str) -> Credentials:
    """HA1 for both algorithms; the digest username is the extension."""
    return Credentials(
        realm=realm,
        ha1_md5=compute_ha1(extension, realm, password, DigestAlgorithm.MD5),
        ha1_sha256=compute_ha1(extension, realm, password, DigestAlgorithm.SHA256),
    )


def hash_pin(pin: str, *, salt: bytes | None = None) -> str:
    """``pbkdf2_sha256$iterations$salt$hash`` (self-describing, so iterations can grow later)."""
    salt = salt if salt is not None else secrets.token_bytes(16)
    digest = hashlib.pbkdf2_hmac("sha256", pin.encode(), salt, _PIN_ITERATIONS)
    return f"pbkdf2_sha256${_PIN_ITERATIONS}${salt.hex()}${digest.hex()}"


def verify_pin(pin: str, stored: str) -> bool:
    """Constant-time check of a PIN against :func:`hash_pin` output; False for any bad format."""
    try:
        scheme, iterations, salt, expected = stored.split("$")
        if scheme != "pbkdf2_sha256":
            return False
        digest = hashlib.pbkdf2_hmac("sha256", pin.encode(), bytes.fromhex(salt), int(iterations))
    except ValueError:
        return False
    return hmac.compare_digest(digest.hex(), expected)


def normalise_rights(rights: Iterable[str]) -> frozenset[str]:
    """Validate many rights at once (CSV column, API list)."""
    return frozenset(validate_right(right) for right in rights if right.strip())


def make_user(
    extension: str,
    password: str,
    realm: str,
    *,
    display_name: str = "",
    department: str = "",
    class_of_service: str = "internal",
    rights: Iterable[str] = (),
    voicemail_pin: str | None = None,
    policy: PasswordPolicy = PasswordPolicy(),
) -> User:
    """Validate every field and build the record to store (HA1s, hashed PIN, no password).

    The one place the CLI, CSV import and the HTTP API turn input into a user, so they all
    apply the same rules. Raises :class:`InvalidUserError` for the first bad field.
    """
    validate_extension(extension)
    validate_realm(realm)
    policy.check(password, extension)
    credentials = make_credentials(extension, realm, password)
    return User(
        extension=extension,
        realm=realm,
        ha1_md5=credentials.ha1_md5,
        ha1_sha256=credentials.ha1_sha256,
        display_name=validate_label("name", display_name),
        department=validate_label("department", department),
        class_of_service=validate_class_of_service(class_of_service),
        rights=normalise_rights(rights),
        voicemail_pin_hash=hash_pin(validate_pin(voicemail_pin)) if voicemail_pin else None,
    )


def user_summary(user: User, realm: str) -> dict[str, Any]:
    """What the CLI and the API show of a user: never the HA1s or the PIN hash.

    A user whose HA1s were made for another realm is "needs password": it cannot log in until
    its password is set again.
    """
    state = "enabled" if user.enabled else "disabled"
    if user.realm != realm:
        state = "needs password"
    return {
        "extension": user.extension, "name": user.display_name, "department": user.department,
        "class_of_service": user.class_of_service, "rights": sorted(user.rights),
        "voicemail_pin": user.voicemail_pin_hash is not None, "state": state,
    }
