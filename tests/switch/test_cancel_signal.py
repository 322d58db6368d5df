"""An INVITE's CANCEL signal: an asyncio.Event whose `when_set` futures need no task."""

from __future__ import annotations

import asyncio

from softswitch.switch.cancel_signal import CancelSignal


async def test_when_set_resolves_on_set_and_at_once_after_it() -> None:
    signal = CancelSignal()
    before, dropped = signal.when_set(), signal.when_set()
    waiter = asyncio.ensure_future(signal.wait())  # still an ordinary event
    dropped.cancel()  # a waiter that stopped waiting (the 2xx came first)
    await asyncio.sleep(0)
    assert not before.done() and not waiter.done()
    signal.set()
    await asyncio.wait_for(waiter, 1.0)
    assert before.done() and before.result() is None
    assert dropped.cancelled()
    after = signal.when_set()
    assert after.done() and signal.is_set()
