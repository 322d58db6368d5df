"""UserRepository: the directory of extensions."""

from __future__ import annotations

import asyncio

import pytest

from softswitch.store import Database, DuplicateUserError, UnknownUserError, User

from .conftest import FakeClock


def user(extension: str = "2001", **kwargs: object) -> User:
    fields: dict[str, object] = {"realm": "softswitch", "ha1_md5": "m" * 32, "ha1_sha256": "s" * 64}
    fields.update(kwargs)
    return User(extension, **fields)  # type: ignore[arg-type]


async def test_add_then_get_returns_every_field_and_stamps_times(
    db: Database, clock: FakeClock
) -> None:
    added = await db.users.add(
        user(display_name="Ward 7", department="ICU", class_of_service="national",
             rights=frozenset({"paging", "barge"}), voicemail_pin_hash="pbkdf2$x", enabled=False)
    )
    got = await db.users.get("2001")
    assert got == added
    assert got is not None
    assert (got.display_name, got.department, got.class_of_service) == ("Ward 7", "ICU", "national")
    assert got.rights == {"paging", "barge"} and got.voicemail_pin_hash == "pbkdf2$x"
    assert not got.enabled and got.created_at == got.updated_at == clock.now
    assert got.ha1_md5 == "m" * 32 and got.ha1_sha256 == "s" * 64


async def test_repr_never_shows_ha1_or_pin(db: Database) -> None:
    text = repr(await db.users.add(user(voicemail_pin_hash="secret-pin-hash")))
    assert "m" * 32 not in text and "s" * 64 not in text and "secret-pin-hash" not in text


async def test_unknown_user_is_none(db: Database) -> None:
    assert await db.users.get("9999") is None


async def test_duplicate_extension_is_refused(db: Database) -> None:
    await db.users.add(user())
    with pytest.raises(DuplicateUserError) as info:
        await db.users.add(user(display_name="again"))
    assert info.value.extensions == ("2001",)
    assert (await db.users.get("2001")).display_name == ""  # type: ignore[union-attr]


async def test_add_many_is_all_or_nothing(db: Database) -> None:
    await db.users.add(user("2005"))
    batch = [user(f"20{i:02d}") for i in range(10)]
    with pytest.raises(DuplicateUserError, match="2005"):
        await db.users.add_many(batch)
    assert await db.users.count() == 1


async def test_add_many_refuses_repeats_within_the_batch(db: Database) -> None:
    with pytest.raises(DuplicateUserError, match="3001"):
        await db.users.add_many([user("3001"), user("3002"), user("3001")])
    assert await db.users.count() == 0


async def test_add_many_inserts_a_thousand_users_with_rights(db: Database) -> None:
    batch = [user(f"{4000 + i}", rights=frozenset({"paging"})) for i in range(1000)]
    await db.users.add_many(batch)
    assert await db.users.count() == 1000
    listed = await db.users.list()
    assert [u.extension for u in listed] == sorted(u.extension for u in batch)
    assert all(u.rights == {"paging"} for u in listed)


async def test_existing_reports_taken_extensions_beyond_the_variable_limit(db: Database) -> None:
    await db.users.add_many([user(f"{5000 + i}") for i in range(3)])
    wanted = [f"{5000 + i}" for i in range(1200)]
    assert await db.users.existing(wanted) == {"5000", "5001", "5002"}


async def test_grant_and_revoke_are_set_operations(db: Database, clock: FakeClock) -> None:
    await db.users.add(user())
    clock.now += 10
    assert await db.users.grant("2001", "paging")
    assert not await db.users.grant("2001", "paging")
    assert await db.users.grant("2001", "intercom")
    got = await db.users.get("2001")
    assert got is not None and got.rights == {"paging", "intercom"}
    assert got.updated_at == clock.now and got.created_at == clock.now - 10
    assert await db.users.revoke("2001", "paging")
    assert not await db.users.revoke("2001", "paging")
    assert (await db.users.get("2001")).rights == {"intercom"}  # type: ignore[union-attr]


async def test_changes_to_unknown_users_raise(db: Database) -> None:
    for change in (
        db.users.grant("9999", "paging"),
        db.users.revoke("9999", "paging"),
        db.users.set_enabled("9999", False),
        db.users.set_credentials("9999", realm="r", ha1_md5="a", ha1_sha256="b"),
        db.users.set_profile("9999", display_name="x"),
        db.users.set_voicemail_pin_hash("9999", None),
    ):
        with pytest.raises(UnknownUserError, match="9999"):
            await change


async def test_set_credentials_profile_enabled_and_pin(db: Database, clock: FakeClock) -> None:
    await db.users.add(user(display_name="Old", department="ER"))
    clock.now += 5
    await db.users.set_credentials("2001", realm="new", ha1_md5="1" * 32, ha1_sha256="2" * 64)
    await db.users.set_profile("2001", display_name="New")
    await db.users.set_enabled("2001", False)
    await db.users.set_voicemail_pin_hash("2001", "hash")
    got = await db.users.get("2001")
    assert got is not None
    assert (got.realm, got.ha1_md5, got.ha1_sha256) == ("new", "1" * 32, "2" * 64)
    assert (got.display_name, got.department) == ("New", "ER")
    assert not got.enabled and got.voicemail_pin_hash == "hash"
    assert got.updated_at == clock.now


async def test_remove_deletes_user_and_rights(db: Database) -> None:
    await db.users.add(user(rights=frozenset({"paging"})))
    assert await db.users.remove("2001")
    assert not await db.users.remove("2001")
    await db.users.add(user())
    assert (await db.users.get("2001")).rights == frozenset()  # type: ignore[union-attr]


async def test_a_failed_transaction_does_not_swallow_a_concurrent_write(db: Database) -> None:
    await db.users.add(user("2001"))
    results = await asyncio.gather(
        db.users.add_many([user("2002"), user("2001")]),
        db.users.add(user("2003")),
        db.users.grant("2001", "paging"),
        return_exceptions=True,
    )
    assert isinstance(results[0], DuplicateUserError)
    assert [u.extension for u in await db.users.list()] == ["2001", "2003"]
    assert (await db.users.get("2001")).rights == {"paging"}  # type: ignore[union-attr]
