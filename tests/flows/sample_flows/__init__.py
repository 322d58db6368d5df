"""Flows the registry tests load by module name, as a hospital package would provide them."""

from softswitch.flows import Call, flow


@flow("8100", name="greeting")
async def greet(call: Call) -> None:
    """Says hello."""
    await call.answer()
    await call.play("welcome")


@flow()
async def farewell(call: Call) -> None:
    await call.answer()
    await call.play("goodbye")


async def not_marked(call: Call) -> None:
    """Not a @flow: a module scan leaves it out."""
