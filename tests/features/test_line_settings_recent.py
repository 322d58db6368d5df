"""The call path's copy of the line settings (`LineSettingsRepository.recent`): a change
through the repository is seen at once, one made by another process (the CLI writes the
database directly) within ``fresh_for`` seconds; fake clock, real database."""

from __future__ import annotations

from pathlib import Path

from softswitch.features.followme_store import LineSettings, LineSettingsRepository
from softswitch.store import open_database


async def test_recent_sees_own_writes_at_once_and_others_after_fresh_for(tmp_path: Path) -> None:
    db = await open_database(tmp_path)
    other = await open_database(tmp_path)  # the CLI's connection, another process's view
    now = [100.0]
    try:
        switch = LineSettingsRepository(db.connection, clock=lambda: now[0], fresh_for=2.0)
        cli = LineSettingsRepository(other.connection)
        assert (await switch.recent("1002")).call_waiting  # no row: the default, on
        await switch.put(LineSettings("1002", call_waiting=False))
        assert not (await switch.recent("1002")).call_waiting  # own write: at once

        await cli.put(LineSettings("1002", call_waiting=True))
        now[0] += 1.9
        assert not (await switch.recent("1002")).call_waiting  # the copy, not yet stale
        assert (await switch.get("1002")).call_waiting  # the API reads the table
        now[0] += 2.1
        await cli.put(LineSettings("1002", call_waiting=False, ring_seconds=30))
        now[0] += 2.1
        assert (await switch.recent("1002")) == LineSettings("1002", False, (), 30)
    finally:
        await other.close()
        await db.close()
