"""Call detail records: one row per call, written when it starts, is answered and ends.

The row is inserted at the INVITE (disposition NULL = in progress), so a crash leaves a trace;
`close_interrupted` at startup closes such rows as `interrupted` with the time of the restart.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from enum import StrEnum

from softswitch.store.sqlite import SqliteConnection, Transaction

__all__ = ["CallRecord", "CdrRepository", "Disposition", "HangupSide"]


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


_COLUMNS = (
    "call_id, caller, callee, dialled, route, started_at, answered_at, ended_at, disposition, "
    "cause, hangup_side, recording"
)


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
    )


class CdrRepository:
    """Writes follow a call's life; reads filter by time, extension and disposition."""

    def __init__(self, db: SqliteConnection) -> None:
        self._db = db

    async def open(self, record: CallRecord) -> None:
        """The call started (its INVITE was accepted for routing)."""
        values = (
            record.call_id, record.caller, record.callee, record.dialled, record.route,
            record.started_at,
        )

        async def op(tx: Transaction) -> None:
            await tx.execute(
                "INSERT INTO cdr (call_id, caller, callee, dialled, route, started_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                values,
            )

        await self._db.write(op)

    async def answered(self, call_id: str, at: float) -> None:
        await self._db.write(lambda tx: tx.execute(
            "UPDATE cdr SET answered_at = ? WHERE call_id = ? AND answered_at IS NULL",
            (at, call_id),
        ))

    async def close(
        self,
        call_id: str,
        at: float,
        disposition: Disposition,
        cause: str,
        side: HangupSide | None,
    ) -> None:
        """The call ended; a second close of the same call changes nothing."""
        await self._db.write(lambda tx: tx.execute(
            "UPDATE cdr SET ended_at = ?, disposition = ?, cause = ?, hangup_side = ?, "
            "duration = ROUND(? - started_at, 3), billable = CASE WHEN answered_at IS NULL "
            "THEN 0 ELSE CAST(MAX(0, ? - answered_at) AS INTEGER) "
            "+ (MAX(0, ? - answered_at) - CAST(MAX(0, ? - answered_at) AS INTEGER) > 0.000001) "
            "END WHERE call_id = ? AND disposition IS NULL",
            (at, disposition.value, cause, side.value if side else None, at, at, at, at, call_id),
        ))

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
