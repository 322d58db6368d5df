"""Directory rules and HA1 computation."""

from __future__ import annotations

import hashlib

import pytest

from softswitch.sip.digest import DigestAlgorithm
from softswitch.switch.directory import (
    InvalidUserError,
    PasswordPolicy,
    hash_pin,
    make_credentials,
    make_user,
    normalise_rights,
    validate_class_of_service,
    validate_extension,
    validate_label,
    validate_pin,
    validate_realm,
    validate_right,
    verify_pin,
)


@pytest.mark.parametrize("extension", ["10", "2001", "123456789012345"])
def test_valid_extensions(extension: str) -> None:
    assert validate_extension(extension) == extension


@pytest.mark.parametrize(
    "extension", ["", "1", "1234567890123456", "20a1", " 2001", "٢٠٠١", "+4412"]
)
def test_invalid_extensions_name_the_field(extension: str) -> None:
    with pytest.raises(InvalidUserError) as info:
        validate_extension(extension)
    assert info.value.field == "extension"


def test_credentials_are_ha1_of_extension_realm_password_for_both_algorithms() -> None:
    creds = make_credentials("2001", "hospital", "Ward7-night")
    assert creds.realm == "hospital"
    assert creds.ha1_md5 == hashlib.md5(b"2001:hospital:Ward7-night").hexdigest()
    assert creds.ha1_sha256 == hashlib.sha256(b"2001:hospital:Ward7-night").hexdigest()
    assert creds.ha1(DigestAlgorithm.MD5) == creds.ha1_md5
    assert creds.ha1(DigestAlgorithm.SHA256) == creds.ha1_sha256


def test_changing_the_realm_changes_every_ha1() -> None:
    one = make_credentials("2001", "a", "Ward7-night")
    other = make_credentials("2001", "b", "Ward7-night")
    assert one.ha1_md5 != other.ha1_md5 and one.ha1_sha256 != other.ha1_sha256


def test_credentials_never_hold_the_password() -> None:
    creds = make_credentials("2001", "hospital", "Ward7-night")
    assert "Ward7-night" not in repr(creds)


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("short1", "8 to 128"),
        ("x" * 129, "8 to 128"),
        ("aaaaaaaaaaaa", "different characters"),
        ("abab1212abab", "different characters"),
        ("pw-2001-secret", "extension"),
        ("tab\tinside-pw", "control"),
    ],
)
def test_weak_passwords_are_refused_with_a_reason(password: str, problem: str) -> None:
    with pytest.raises(InvalidUserError, match=problem):
        PasswordPolicy().check(password, "2001")


def test_policy_is_configurable() -> None:
    assert PasswordPolicy(min_length=4, min_distinct=2).check("a1a1", "2001") == "a1a1"


@pytest.mark.parametrize("realm", ["softswitch", "pbx.hospital.example", "ward_7-a"])
def test_valid_realms(realm: str) -> None:
    assert validate_realm(realm) == realm


@pytest.mark.parametrize("realm", ["", "with space", 'quo"te', "x" * 129])
def test_invalid_realms(realm: str) -> None:
    with pytest.raises(InvalidUserError, match="realm"):
        validate_realm(realm)


def test_labels_are_trimmed_and_limited() -> None:
    assert validate_label("name", "  Dr. Ümit Öz ") == "Dr. Ümit Öz"
    with pytest.raises(InvalidUserError, match="64"):
        validate_label("name", "x" * 65)
    with pytest.raises(InvalidUserError, match="control"):
        validate_label("department", "ICU\r\nVia: x")


def test_rights_are_known_names_case_insensitively() -> None:
    assert validate_right(" Paging ") == "paging"
    assert normalise_rights(["paging", "BARGE", "", "paging"]) == {"paging", "barge"}
    with pytest.raises(InvalidUserError, match="unknown right 'pagign'"):
        validate_right("pagign")


def test_class_of_service() -> None:
    assert validate_class_of_service("National") == "national"
    with pytest.raises(InvalidUserError, match="class_of_service"):
        validate_class_of_service("galactic")


@pytest.mark.parametrize("pin", ["123", "12a4", "1234567890123", ""])
def test_bad_pins(pin: str) -> None:
    with pytest.raises(InvalidUserError, match="voicemail_pin"):
        validate_pin(pin)


def test_pin_hash_is_salted_and_verifies() -> None:
    stored = hash_pin("4711")
    assert "4711" not in stored and stored.startswith("pbkdf2_sha256$")
    assert stored != hash_pin("4711")
    assert verify_pin("4711", stored)
    assert not verify_pin("4712", stored)


@pytest.mark.parametrize("stored", ["", "plain", "md5$1$00$00", "pbkdf2_sha256$x$zz$00"])
def test_pin_verification_fails_closed_on_garbage(stored: str) -> None:
    assert not verify_pin("4711", stored)


def test_make_user_validates_and_never_keeps_the_password() -> None:
    made = make_user(
        "2001", "Ward7-night", "hospital", display_name=" Night desk ", department="ICU",
        class_of_service="Local", rights=["Paging"], voicemail_pin="4711",
    )
    assert (made.extension, made.realm, made.display_name) == ("2001", "hospital", "Night desk")
    assert made.class_of_service == "local" and made.rights == {"paging"} and made.enabled
    assert made.ha1_md5 == make_credentials("2001", "hospital", "Ward7-night").ha1_md5
    assert made.voicemail_pin_hash is not None and verify_pin("4711", made.voicemail_pin_hash)
    assert "Ward7-night" not in repr(made) and "Ward7-night" not in str(vars_of(made))
    assert make_user("2002", "Ward7-night", "hospital").voicemail_pin_hash is None


def vars_of(record: object) -> list[object]:
    return [getattr(record, name) for name in record.__slots__]  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"extension": "x1"}, "extension"),
        ({"password": "short"}, "password"),
        ({"realm": "bad realm"}, "realm"),
        ({"display_name": "x" * 65}, "name"),
        ({"class_of_service": "galactic"}, "class_of_service"),
        ({"rights": ["flying"]}, "rights"),
        ({"voicemail_pin": "12"}, "voicemail_pin"),
    ],
)
def test_make_user_names_the_bad_field(kwargs: dict[str, object], field: str) -> None:
    args: dict[str, object] = {"extension": "2001", "password": "Ward7-night", "realm": "r"}
    args.update(kwargs)
    with pytest.raises(InvalidUserError) as info:
        make_user(**args)  # type: ignore[arg-type]
    assert info.value.field == field
