"""Garbage-collector settings for a long-running switch.

Why: after start-up the process holds a few hundred thousand long-lived objects (FastAPI,
pydantic, the dial plan, SQLite, numpy) that CPython's cyclic collector would otherwise scan
again and again; every call allocates thousands of short-lived objects (parsed messages,
transactions, SDP), so with the default thresholds the collector runs every few hundred
allocations and its older-generation passes walk that whole start-up heap. Freezing the
start-up heap (``gc.freeze``: moved to a generation never scanned) and collecting the young
generation less often cut the collector's share of a call set-up (about 5 % of the event
loop's CPU in the call_setup benchmark, docs/benchmarks.md) with little memory held
longer: reference counting still frees almost everything at once.
"""

from __future__ import annotations

import gc

__all__ = ["settle_heap"]

YOUNG_THRESHOLD = 20_000  # allocations between young-generation passes (CPython's: 700)


def settle_heap() -> None:
    """Call once when start-up is done: collect, then freeze what is left (it lives as long
    as the process) and collect the young generation less often."""
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)
