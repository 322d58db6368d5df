"""Hello world: answer, greet, say today's date, hang up.

Run it against a simulated caller (no phone needed)::

    .venv/bin/python examples/hello_world.py

or serve it on a number: put ``examples`` on PYTHONPATH and add to the configuration::

    [flows]
    modules = ["hello_world"]
    [dialplan]
    flows = { "8001" = "hello" }
"""

from __future__ import annotations

import asyncio
import datetime as dt

from softswitch.flows import Call, flow


@flow("8001", name="hello")
async def hello_world(call: Call) -> None:
    """Greets the caller and reads today's date."""
    await call.answer()
    await call.play("hello_world")
    await call.say_date(dt.date.today())
    await call.play("goodbye")
    await call.hangup()


if __name__ == "__main__":
    from softswitch.testing import run_flow

    result = asyncio.run(run_flow(hello_world, language="en"))
    print("prompts:", " ".join(result.prompts))
    print("ended by:", result.ended_by, f"after {result.duration:.1f} s")
