"""BindingRepository: registrar bindings."""

from __future__ import annotations

import asyncio
import sqlite3
from dataclasses import replace

import pytest

from softswitch.store import Binding, Database, binding_key

NOW = 1_700_000_000.0


def binding(contact: str = "sip:2001@10.0.0.5:5060", **kwargs: object) -> Binding:
    fields: dict[str, object] = {
        "aor": "2001", "contact": contact, "expires_at": NOW + 3600, "call_id": "c1", "cseq": 1,
        "source_host": "198.51.100.7", "source_port": 41000, "transport": "udp", "last_seen": NOW,
    }
    fields.update(kwargs)
    return Binding(**fields)  # type: ignore[arg-type]


async def test_every_field_round_trips(db: Database) -> None:
    full = binding(
        q=0.7, connection_id="tcp-17", user_agent="Yealink T46U", transport="tcp",
        path=("<sip:edge1.example;lr>", "<sip:edge2.example;lr>"),
        instance_id="<urn:uuid:00000000-0000-1000-8000-000A95A0E128>", reg_id=1, reachable=False,
    )
    await db.bindings.update("2001", [full])
    assert await db.bindings.for_aor("2001", NOW) == [full]


async def test_refresh_keeps_one_row_per_contact(db: Database) -> None:
    await db.bindings.update("2001", [binding()])
    refreshed = binding(cseq=2, expires_at=NOW + 7200, source_port=41001)
    await db.bindings.update("2001", [refreshed])
    assert await db.bindings.for_aor("2001", NOW) == [refreshed]


def test_binding_key_follows_rfc5626_and_rfc5627() -> None:
    assert binding_key("sip:a@h") == "contact:sip:a@h"
    assert binding_key("sip:a@h", "<urn:uuid:1>") == "instance:<urn:uuid:1>"
    assert binding_key("sip:a@h", "<urn:uuid:1>", 2) == "instance:<urn:uuid:1>;reg-id=2"


async def test_same_instance_and_reg_id_replace_the_flow_even_from_a_new_contact(
    db: Database,
) -> None:
    first = binding("sip:2001@10.0.0.5:5060", instance_id="<urn:uuid:1>", reg_id=1)
    second_flow = binding("sip:2001@10.0.0.5:5070", instance_id="<urn:uuid:1>", reg_id=2)
    moved = binding("sip:2001@192.0.2.9:5060", instance_id="<urn:uuid:1>", reg_id=1)
    await db.bindings.update("2001", [first, second_flow])
    await db.bindings.update("2001", [moved])
    contacts = {b.contact for b in await db.bindings.for_aor("2001", NOW)}
    assert contacts == {"sip:2001@192.0.2.9:5060", "sip:2001@10.0.0.5:5070"}


async def test_several_contacts_ordered_by_q(db: Database) -> None:
    low, default, high = (
        binding("sip:a@h", q=0.1), binding("sip:b@h"), binding("sip:c@h", q=1.0, last_seen=NOW + 1)
    )
    await db.bindings.update("2001", [low, default, high])
    assert [b.contact for b in await db.bindings.for_aor("2001", NOW)] == [
        "sip:c@h", "sip:b@h", "sip:a@h",
    ]


async def test_expired_bindings_are_invisible_then_purged(db: Database) -> None:
    await db.bindings.update("2001", [binding("sip:a@h", expires_at=NOW + 10), binding("sip:b@h")])
    assert len(await db.bindings.for_aor("2001", NOW + 9)) == 2
    assert [b.contact for b in await db.bindings.for_aor("2001", NOW + 10)] == ["sip:b@h"]
    assert [b.contact for b in await db.bindings.active(NOW + 10)] == ["sip:b@h"]
    assert await db.bindings.purge_expired(NOW + 10) == 1
    assert await db.bindings.purge_expired(NOW + 10) == 0


async def test_update_removes_and_adds_in_one_step(db: Database) -> None:
    old = binding("sip:a@h")
    await db.bindings.update("2001", [old])
    await db.bindings.update("2001", [binding("sip:b@h")], removals=[old.key])
    assert [b.contact for b in await db.bindings.for_aor("2001", NOW)] == ["sip:b@h"]


async def test_update_rejects_bindings_of_another_aor_and_changes_nothing(db: Database) -> None:
    with pytest.raises(ValueError, match="AOR"):
        await db.bindings.update("2001", [binding(), binding(aor="2002")])
    assert await db.bindings.active(NOW) == []


async def test_remove_all_only_touches_that_aor(db: Database) -> None:
    await db.bindings.update("2001", [binding("sip:a@h"), binding("sip:b@h")])
    await db.bindings.update("2002", [binding("sip:c@h", aor="2002")])
    assert await db.bindings.remove_all("2001") == 2
    assert [b.aor for b in await db.bindings.active(NOW)] == ["2002"]


async def test_mark_seen_records_qualify_results(db: Database) -> None:
    b = binding()
    await db.bindings.update("2001", [b])
    assert await db.bindings.mark_seen("2001", b.key, now=NOW + 30, reachable=False)
    got = (await db.bindings.for_aor("2001", NOW))[0]
    assert not got.reachable and got.last_seen == NOW  # an unanswered qualify is no sighting
    assert await db.bindings.mark_seen("2001", b.key, now=NOW + 60, reachable=True)
    assert (await db.bindings.for_aor("2001", NOW))[0] == replace(b, last_seen=NOW + 60)
    assert not await db.bindings.mark_seen("2001", "contact:gone", now=NOW, reachable=True)


def test_expires_in_never_goes_negative() -> None:
    assert binding(expires_at=NOW + 59.9).expires_in(NOW) == 59
    assert binding(expires_at=NOW - 5).expires_in(NOW) == 0


async def test_the_call_path_lookup_reads_committed_bindings_beside_a_commit(
    db: Database,
) -> None:
    """`committed_for_aor` (the INVITE's contact lookup) goes through the read-only
    connection: it answers while the writer holds its lock (a group commit in progress),
    sees every acknowledged write, and not the one still in flight."""
    await db.bindings.update("2001", [binding()])
    entered, release = asyncio.Event(), asyncio.Event()

    async def slow(tx: object) -> None:
        await tx.execute("DELETE FROM bindings WHERE aor = ?", ("2001",))  # type: ignore[attr-defined]
        entered.set()
        await release.wait()  # the writer's lock stays held, as across a commit's fsync

    writer = asyncio.ensure_future(db.connection.write(slow))
    await asyncio.wait_for(entered.wait(), 10)
    try:
        seen = await asyncio.wait_for(db.bindings.committed_for_aor("2001", NOW), 10)
        assert seen == [binding()]  # the acknowledged one; the DELETE is not committed yet
        assert not writer.done()
    finally:
        release.set()
        await asyncio.wait_for(writer, 10)
    assert await db.bindings.committed_for_aor("2001", NOW) == []


async def test_the_read_only_connection_cannot_write(db: Database) -> None:
    reader = db.bindings._reader
    assert reader is not None
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        await reader.fetch_all("DELETE FROM bindings")
