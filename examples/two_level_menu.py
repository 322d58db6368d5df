"""A two-level menu: clinic or examination information, star goes back, 0 for an operator.

    .venv/bin/python examples/two_level_menu.py 12*21
"""

from __future__ import annotations

import asyncio
import sys

from softswitch.flows import Call, flow

BACK = "back"


async def clinic(call: Call) -> None:
    """Clinic hours and address until the caller goes back."""
    while True:
        choice = await call.menu("clinic_menu", {"1": "clinic_hours", "2": "clinic_address",
                                                 "*": BACK})
        if choice == BACK:
            return
        await call.play(choice)


async def exams(call: Call) -> None:
    """Examination notices until the caller goes back."""
    while True:
        choice = await call.menu("exam_menu", {"1": "exam_notice", "2": "exam_reports",
                                               "*": BACK})
        if choice == BACK:
            return
        await call.play(choice)


@flow("8002", name="info_menu")
async def two_level_menu(call: Call) -> None:
    """Hospital information: a main menu with two sub-menus."""
    await call.answer()
    await call.play("welcome")
    while True:
        choice = await call.menu("main_menu", {"1": clinic, "2": exams, "0": None})
        if choice is None:  # operator: transfer arrives with a later issue
            await call.play(["operator_unavailable", "goodbye"])
            return
        await choice(call)


if __name__ == "__main__":
    from softswitch.testing import run_flow

    keys = sys.argv[1] if len(sys.argv) > 1 else "12*21*0"
    result = asyncio.run(run_flow(two_level_menu, digits=keys, language="en"))
    print("prompts:", " ".join(result.prompts))
    print("ended by:", result.ended_by)
