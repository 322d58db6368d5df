"""`/api/cdr` (call detail records, JSON or CSV; `/stats` for management, `/{call_id}/legs`
per leg) and `/api/calls` (calls in progress)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any, Literal

from fastapi import APIRouter, HTTPException, Query, Response

from softswitch.store.cdr import CallRecord, CdrRepository, Disposition, LegRecord
from softswitch.store.cdr_stats import GroupBy

__all__ = [
    "CDR_FIELDS", "calls_router", "cdr_router", "leg_summary", "record_summary", "records_csv",
]

CDR_FIELDS = (
    "call_id", "caller", "callee", "dialled", "route", "started_at", "answered_at", "ended_at",
    "duration", "billable", "disposition", "cause", "hangup_side", "recording", "cost_class",
)


def record_summary(record: CallRecord) -> dict[str, Any]:
    """One record as JSON (shared with `softswitch cdr --json`)."""
    return {
        "call_id": record.call_id,
        "caller": record.caller,
        "callee": record.callee,
        "dialled": record.dialled,
        "route": record.route,
        "started_at": record.started_at,
        "answered_at": record.answered_at,
        "ended_at": record.ended_at,
        "duration": record.duration,
        "billable": record.billable,
        "disposition": record.disposition.value if record.disposition else None,
        "cause": record.cause,
        "hangup_side": record.hangup_side.value if record.hangup_side else None,
        "recording": record.recording,
        "cost_class": record.cost_class,
    }


def leg_summary(leg: LegRecord) -> dict[str, Any]:
    """One leg of a call as JSON."""
    return {
        "leg_id": leg.leg_id,
        "call_id": leg.call_id,
        "side": leg.side,
        "direction": leg.direction,
        "sip_call_id": leg.sip_call_id,
        "peer": leg.peer,
        "address": leg.address,
        "started_at": leg.started_at,
        "answered_at": leg.answered_at,
        "ended_at": leg.ended_at,
        "disposition": leg.disposition.value,
        "cause": leg.cause,
    }


def records_csv(records: list[CallRecord]) -> str:
    """Records as CSV with a header line, for spreadsheets and billing imports."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CDR_FIELDS, lineterminator="\n")
    writer.writeheader()
    for record in records:
        writer.writerow(record_summary(record))
    return out.getvalue()


def parse_disposition(text: str | None) -> Disposition | None:
    """`no_answer`, `no-answer` and `no answer` all name the same disposition."""
    if text is None:
        return None
    try:
        return Disposition(text.replace("_", " ").replace("-", " ").lower())
    except ValueError:
        names = ", ".join(d.value for d in Disposition)
        raise ValueError(f"unknown disposition {text!r} (one of: {names})") from None


def cdr_router(cdr: CdrRepository) -> APIRouter:
    """GET /cdr[?since=&until=&extension=&disposition=&limit=&format=json|csv]."""
    router = APIRouter(prefix="/cdr", tags=["cdr"])

    @router.get("", response_model=None)
    async def list_cdr(
        since: float | None = None,
        until: float | None = None,
        extension: str | None = None,
        disposition: str | None = None,
        limit: int = 1000,
        format: Literal["json", "csv"] = "json",  # noqa: A002 - the query parameter's name
    ) -> list[dict[str, Any]] | Response:
        try:
            wanted = parse_disposition(disposition)
        except ValueError as exc:
            raise HTTPException(422, str(exc)) from None
        records = await cdr.search(since=since, until=until, extension=extension,
                                   disposition=wanted, limit=max(1, min(limit, 100_000)))
        if format == "csv":
            return Response(records_csv(records), media_type="text/csv")
        return [record_summary(record) for record in records]

    @router.get("/stats")
    async def stats(
        since: float | None = None,
        until: float | None = None,
        group_by: GroupBy = GroupBy.EXTENSION,
        include_internal: bool = False,
        top: int = Query(10, ge=0, le=1000),
    ) -> dict[str, Any]:
        """Outbound calls per extension or department: count, billable minutes by cost class,
        and the longest calls."""
        if since is not None and until is not None and until <= since:
            raise HTTPException(422, "until must be after since")
        result = await cdr.stats(since=since, until=until, group_by=group_by,
                                 include_internal=include_internal, top=top)
        return result.as_dict()

    @router.get("/{call_id}/legs")
    async def legs(call_id: str) -> list[dict[str, Any]]:
        """The call's legs: the caller's, then every contact tried, with their outcomes."""
        if await cdr.get(call_id) is None:
            raise HTTPException(404, f"no call record {call_id!r}")
        return [leg_summary(leg) for leg in await cdr.legs(call_id)]

    return router


def calls_router(live: Callable[[], list[dict[str, Any]]]) -> APIRouter:
    """GET /calls: the calls in progress."""
    router = APIRouter(prefix="/calls", tags=["calls"])

    @router.get("")
    async def list_calls() -> list[dict[str, Any]]:
        return live()

    return router
