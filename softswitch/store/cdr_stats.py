"""Outbound call statistics for management: who calls out, how much, and to what kind of number.

Read from the call records alone (closed calls; calls in progress are not counted yet), joined
with the directory for the caller's department. "Outbound" means the call left through a trunk
(its cost class is one of the dial plan's external number classes); `include_internal` adds
calls between extensions. Minutes are billed as a carrier does: each answered call's billable
seconds rounded up to a whole minute, then summed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from softswitch.store.sqlite import SqliteConnection

__all__ = ["CallStats", "GroupBy", "GroupStats", "LongCall", "call_stats"]

EXTERNAL_CLASSES = ("emergency", "local", "long_distance", "international", "premium")


class GroupBy(StrEnum):
    EXTENSION = "extension"
    DEPARTMENT = "department"


@dataclass(slots=True)
class GroupStats:
    """One extension's (or department's) calls: totals, and the same split by cost class."""

    key: str
    calls: int = 0
    answered: int = 0
    billable_seconds: int = 0
    minutes: int = 0
    by_class: dict[str, dict[str, int]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"key": self.key, "calls": self.calls, "answered": self.answered,
                "billable_seconds": self.billable_seconds, "minutes": self.minutes,
                "by_class": self.by_class}


@dataclass(frozen=True, slots=True)
class LongCall:
    call_id: str
    caller: str
    department: str
    dialled: str
    cost_class: str
    started_at: float
    billable_seconds: int

    def as_dict(self) -> dict[str, Any]:
        return {"call_id": self.call_id, "caller": self.caller, "department": self.department,
                "dialled": self.dialled, "cost_class": self.cost_class,
                "started_at": self.started_at, "billable_seconds": self.billable_seconds}


@dataclass(frozen=True, slots=True)
class CallStats:
    since: float | None
    until: float | None
    group_by: GroupBy
    groups: list[GroupStats]
    total: GroupStats
    longest: list[LongCall]

    def as_dict(self) -> dict[str, Any]:
        return {"since": self.since, "until": self.until, "group_by": self.group_by.value,
                "groups": [g.as_dict() for g in self.groups], "total": self.total.as_dict(),
                "longest": [c.as_dict() for c in self.longest]}


def _where(since: float | None, until: float | None,
           include_internal: bool) -> tuple[str, list[object]]:
    classes = (*EXTERNAL_CLASSES, "internal") if include_internal else EXTERNAL_CLASSES
    clauses = ["c.disposition IS NOT NULL",
               f"c.cost_class IN ({', '.join('?' * len(classes))})"]
    params: list[object] = list(classes)
    if since is not None:
        clauses.append("c.started_at >= ?")
        params.append(since)
    if until is not None:
        clauses.append("c.started_at < ?")
        params.append(until)
    return " AND ".join(clauses), params


async def call_stats(
    db: SqliteConnection,
    *,
    since: float | None = None,
    until: float | None = None,
    group_by: GroupBy = GroupBy.EXTENSION,
    include_internal: bool = False,
    top: int = 10,
) -> CallStats:
    """Counts, answered calls, billable minutes per group and cost class; the `top` longest."""
    where, params = _where(since, until, include_internal)
    key = "c.caller" if group_by is GroupBy.EXTENSION else "COALESCE(u.department, '')"
    rows = await db.fetch_all(
        f"SELECT {key} AS grp, c.cost_class AS class, COUNT(*) AS calls, "
        "SUM(c.disposition = 'answered') AS answered, "
        "SUM(COALESCE(c.billable, 0)) AS seconds, "
        "SUM((COALESCE(c.billable, 0) + 59) / 60) AS minutes "
        f"FROM cdr c LEFT JOIN users u ON u.extension = c.caller WHERE {where} "
        "GROUP BY grp, class ORDER BY grp, class", params)
    groups: dict[str, GroupStats] = {}
    total = GroupStats("total")
    for row in rows:
        group = groups.setdefault(row["grp"], GroupStats(row["grp"]))
        for stats in (group, total):
            stats.calls += row["calls"]
            stats.answered += row["answered"]
            stats.billable_seconds += row["seconds"]
            stats.minutes += row["minutes"]
            split = stats.by_class.setdefault(row["class"], {"calls": 0, "minutes": 0})
            split["calls"] += row["calls"]
            split["minutes"] += row["minutes"]
    longest = await db.fetch_all(
        "SELECT c.call_id, c.caller, COALESCE(u.department, '') AS department, c.dialled, "
        "c.cost_class, c.started_at, c.billable FROM cdr c "
        f"LEFT JOIN users u ON u.extension = c.caller WHERE {where} AND c.billable > 0 "
        "ORDER BY c.billable DESC, c.started_at LIMIT ?", (*params, max(0, top)))
    ordered = sorted(groups.values(), key=lambda g: (-g.minutes, -g.calls, g.key))
    return CallStats(since, until, group_by, ordered, total, [
        LongCall(r["call_id"], r["caller"], r["department"], r["dialled"], r["cost_class"],
                 r["started_at"], r["billable"]) for r in longest])
