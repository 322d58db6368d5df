"""`AorLocks`: one holder per AOR, waiters served in order, cancellation never loses a turn."""

from __future__ import annotations

import asyncio

import pytest

from softswitch.switch.registrar import AorLocks


async def test_try_hold_takes_a_free_aor_only() -> None:
    locks = AorLocks()
    assert locks.try_hold("1001")
    assert not locks.try_hold("1001")
    assert locks.try_hold("1002")
    locks.release("1001")
    assert locks.try_hold("1001")


async def test_waiters_are_served_in_order_and_the_entry_goes_with_the_last() -> None:
    locks = AorLocks()
    assert locks.try_hold("1001")
    order: list[int] = []

    async def wait(n: int) -> None:
        await locks.hold("1001")
        order.append(n)
        await asyncio.sleep(0)
        locks.release("1001")

    tasks = [asyncio.create_task(wait(n)) for n in range(3)]
    await asyncio.sleep(0)
    assert order == []
    locks.release("1001")
    await asyncio.wait_for(asyncio.gather(*tasks), 2)
    assert order == [0, 1, 2]
    assert len(locks) == 0


async def test_a_waiter_cancelled_as_it_gets_the_aor_passes_it_on() -> None:
    locks = AorLocks()
    assert locks.try_hold("1001")
    first = asyncio.create_task(locks.hold("1001"))
    second = asyncio.create_task(locks.hold("1001"))
    await asyncio.sleep(0)
    locks.release("1001")  # hands the AOR to `first`...
    first.cancel()  # ...which is cancelled before it runs
    with pytest.raises(asyncio.CancelledError):
        await first
    await asyncio.wait_for(second, 2)  # the turn went on to `second`
    assert not locks.try_hold("1001")
    locks.release("1001")
    assert len(locks) == 0
