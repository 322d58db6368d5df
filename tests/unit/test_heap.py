"""settle_heap: the start-up heap frozen, the young generation collected less often."""

from __future__ import annotations

import gc

from softswitch.heap import YOUNG_THRESHOLD, settle_heap


def test_settle_heap_freezes_start_up_objects_and_raises_the_young_threshold() -> None:
    before = gc.get_threshold()
    kept = [object() for _ in range(10)]  # something alive to freeze
    kept.append(kept)  # a container the collector tracks
    try:
        settle_heap()
        assert gc.get_freeze_count() >= 1
        assert gc.get_threshold() == (YOUNG_THRESHOLD, *before[1:])
        assert gc.isenabled()  # cycles made later are still collected
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
