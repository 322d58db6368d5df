"""Call detail records: one row per call, written when it starts, is answered and ends.

The row is inserted at the INVITE (disposition NULL = in progress), so a crash leaves a trace;
`close_interrupted` at startup closes such rows as `interrupted` with the time of the restart.
The call's legs (the caller's, and one per contact tried) are written in the same transaction
that closes the call: one commit per call end, and a call never has half its legs recorded.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from softswitch.store.cdr_stats import CallStats, GroupBy, call_stats
from softswitch.store.sqlite import SqliteConnection, Statements

__all__ = ["CallRecord", "CdrRepository", "Disposition", "HangupSide", "LegRecord"]


class Disposition(StrEnum):
    """How a call ended, as management reads it."""

    ANSWERED = "answered"
    BUSY = "busy"
    NO_ANSWER = "no answer"
    FAILED = "failed"
    CANCELLED = "cancelled"
    INTERRUPTED = "interrupted"  # the switch stopped (crash) while the call was up


class HangupSide(StrEnum):
    """Who ended the call: the caller (leg A), the callee (leg B) or the switch itself."""

    CALLER = "caller"
    CALLEE = "callee"
    SWITCH = "switch"


@dataclass(frozen=True, slots=True)
class CallRecord:
    """One call; times are unix seconds, `disposition` is None while the call is up.

    Duration runs from the INVITE to the end, billable seconds from the answer to the end.
    """

    call_id: str
    caller: str
    callee: str
    dialled: str
    route: str
    started_at: float
    answered_at: float | None = None
    ended_at: float | None = None
    disposition: Disposition | None = None
    cause: str = ""
    hangup_side: HangupSide | None = None
    recording: str | None = None
    cost_class: str | None = None  # the dial plan's number class (local, international...)

    @property
    def duration(self) -> float:
        return round(self.ended_at - self.started_at, 3) if self.ended_at is not None else 0.0

    @property
    def billable(self) -> int:
        """Whole seconds from answer to end, a started second counting as one."""
        if self.answered_at is None or self.ended_at is None:
            return 0
        seconds = max(0.0, self.ended_at - self.answered_at)
        whole = int(seconds)
        return whole + (1 if seconds - whole > 1e-6 else 0)


@dataclass(frozen=True, slots=True)
class LegRecord:
    """One SIP leg of a call: the caller's (side a, inbound) or one contact tried (side b,
    outbound; every fork of a ringing extension has its own row)."""

    leg_id: str
    call_id: str
    side: str
    direction: str
    sip_call_id: str
    peer: str
    address: str
    started_at: float
    answered_at: float | None
    ended_at: float
    disposition: Disposition
    cause: str = ""


_COLUMNS = (
    "call_id, caller, callee, dialled, route, started_at, answered_at, ended_at, disposition, "
    "cause, hangup_side, recording, cost_class"
)
_LEG_COLUMNS = (
    "leg_id, call_id, side, direction, sip_call_id, peer, address, started_at, answered_at, "
    "ended_at, disposition, cause"
)
_OPEN = (
    "INSERT INTO cdr (call_id, caller, callee, dialled, route, started_at, cost_class) "
    "VALUES (?, ?, ?, ?, ?, ?, ?)"
)
_ANSWERED = "UPDATE cdr SET answered_at = ? WHERE call_id = ? AND answered_at IS NULL"
_CLOSE = (
    "UPDATE cdr SET ended_at = ?, disposition = ?, cause = ?, hangup_side = ?, "
    "duration = ROUND(? - started_at, 3), billable = CASE WHEN answered_at IS NULL "
    "THEN 0 ELSE CAST(MAX(0, ? - answered_at) AS INTEGER) "
    "+ (MAX(0, ? - answered_at) - CAST(MAX(0, ? - answered_at) AS INTEGER) > 0.000001) "
    "END WHERE call_id = ? AND disposition IS NULL"
)
# A retransmitted close (or a leg id seen twice) must not fail the whole commit.
_INSERT_LEG = f"INSERT OR IGNORE INTO cdr_legs ({_LEG_COLUMNS}) VALUES ({', '.join('?' * 12)})"


# Every write of a call is plain statements: batched with the others of the group commit in
# one trip to the database thread.
def _open(record: CallRecord) -> Statements:
    values = (record.call_id, record.caller, record.callee, record.dialled, record.route,
              record.started_at, record.cost_class)
    return [(_OPEN, [values])]


def _answered(call_id: str, at: float) -> Statements:
    return [(_ANSWERED, [(at, call_id)])]


def _close(call_id: str, at: float, disposition: Disposition, cause: str,
           side: HangupSide | None, legs: Sequence[LegRecord]) -> Statements:
    close = (at, disposition.value, cause, side.value if side else None, at, at, at, at, call_id)
    rows = [(leg.leg_id, leg.call_id, leg.side, leg.direction, leg.sip_call_id, leg.peer,
             leg.address, leg.started_at, leg.answered_at, leg.ended_at,
             leg.disposition.value, leg.cause) for leg in legs]
    return [(_CLOSE, [close]), (_INSERT_LEG, rows)]


def _to_leg(row: sqlite3.Row) -> LegRecord:
    return LegRecord(*(row[name] for name in _LEG_COLUMNS.split(", ")[:10]),
                     disposition=Disposition(row["disposition"]), cause=row["cause"])


def _to_record(row: sqlite3.Row) -> CallRecord:
    return CallRecord(
        call_id=row["call_id"],
        caller=row["caller"],
        callee=row["callee"],
        dialled=row["dialled"],
        route=row["route"],
        started_at=row["started_at"],
        answered_at=row["answered_at"],
        ended_at=row["ended_at"],
        disposition=Disposition(row["disposition"]) if row["disposition"] else None,
        cause=row["cause"],
        hangup_side=HangupSide(row["hangup_side"]) if row["hangup_side"] else None,
        recording=row["recording"],
        cost_class=row["cost_class"],
    )


class CdrRepository:
    """Writes follow a call's life; reads filter by time, extension and disposition."""

    def __init__(self, db: SqliteConnection) -> None:
        self._db = db

    async def open(self, record: CallRecord) -> None:
        """The call started (its INVITE was accepted for routing)."""
        await self._db.write_statements(_open(record))

    def post_open(self, record: CallRecord) -> asyncio.Future[None]:
        """:meth:`open` without waiting (the future settles at the commit): the INVITE is
        not held up by the disk, and later writes posted for the call apply after it."""
        return self._db.post_statements(_open(record))

    async def answered(self, call_id: str, at: float) -> None:
        await self._db.write_statements(_answered(call_id, at))

    def post_answered(self, call_id: str, at: float) -> asyncio.Future[None]:
        """:meth:`answered` without waiting."""
        return self._db.post_statements(_answered(call_id, at))

    async def close(
        self,
        call_id: str,
        at: float,
        disposition: Disposition,
        cause: str,
        side: HangupSide | None,
        legs: Sequence[LegRecord] = (),
    ) -> None:
        """The call ended (with its legs' records); a second close changes nothing."""
        await self._db.write_statements(_close(call_id, at, disposition, cause, side, legs))

    def post_close(self, call_id: str, at: float, disposition: Disposition, cause: str,
                   side: HangupSide | None, legs: Sequence[LegRecord] = ()
                   ) -> asyncio.Future[None]:
        """:meth:`close` without waiting."""
        return self._db.post_statements(_close(call_id, at, disposition, cause, side, legs))

    async def stats(
        self,
        *,
        since: float | None = None,
        until: float | None = None,
        group_by: GroupBy = GroupBy.EXTENSION,
        include_internal: bool = False,
        top: int = 10,
    ) -> CallStats:
        """Outbound call statistics for management (see `cdr_stats`)."""
        return await call_stats(self._db, since=since, until=until, group_by=group_by,
                                include_internal=include_internal, top=top)

    async def legs(self, call_id: str) -> list[LegRecord]:
        """The legs of one call: the caller's first, then the contacts in the order tried."""
        rows = await self._db.fetch_all(
            f"SELECT {_LEG_COLUMNS} FROM cdr_legs WHERE call_id = ? ORDER BY side, id",
            (call_id,))
        return [_to_leg(row) for row in rows]

    async def close_interrupted(self, at: float) -> int:
        """Close every call left open by a crash as `interrupted`; returns how many."""
        return await self._db.write(lambda tx: tx.execute(
            "UPDATE cdr SET ended_at = ?, disposition = ?, cause = 'switch restarted', "
            "hangup_side = ?, duration = ROUND(? - started_at, 3), billable = 0 "
            "WHERE disposition IS NULL",
            (at, Disposition.INTERRUPTED.value, HangupSide.SWITCH.value, at),
        ))

    async def get(self, call_id: str) -> CallRecord | None:
        row = await self._db.fetch_one(f"SELECT {_COLUMNS} FROM cdr WHERE call_id = ?", (call_id,))
        return _to_record(row) if row is not None else None

    async def search(
        self,
        *,
        since: float | None = None,
        until: float | None = None,
        extension: str | None = None,
        disposition: Disposition | None = None,
        limit: int = 1000,
    ) -> list[CallRecord]:
        """Newest first; `extension` matches the caller or the callee."""
        clauses: list[str] = []
        params: list[object] = []
        if since is not None:
            clauses.append("started_at >= ?")
            params.append(since)
        if until is not None:
            clauses.append("started_at < ?")
            params.append(until)
        if extension is not None:
            clauses.append("(caller = ? OR callee = ?)")
            params += [extension, extension]
        if disposition is not None:
            clauses.append("disposition = ?")
            params.append(disposition.value)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        rows = await self._db.fetch_all(
            f"SELECT {_COLUMNS} FROM cdr {where} ORDER BY started_at DESC, id DESC LIMIT ?",
            (*params, limit),
        )
        return [_to_record(row) for row in rows]
