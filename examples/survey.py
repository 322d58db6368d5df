"""A satisfaction survey: a menu question, a 0-9 score read back, a recorded comment.

Answers go into ``call.variables`` (a real survey would store them); try it with::

    .venv/bin/python examples/survey.py 17#
"""

from __future__ import annotations

import asyncio
import sys

from softswitch.flows import Call, flow


@flow("8003", name="survey")
async def survey(call: Call) -> None:
    """Asks two questions and records a comment."""
    await call.answer()
    await call.play("survey_intro")
    call.variables["satisfied"] = await call.menu(
        "survey_q1", {"1": "yes", "2": "somewhat", "3": "no"})
    score = await call.collect(1, prompt="survey_q2", timeout=8)
    if score:
        call.variables["score"] = int(score)
        await call.play("you_entered")
        await call.say_number(int(score))
    await call.play("survey_comment")
    comment = await call.record(max_seconds=60, silence_timeout=3)
    call.variables["comment"] = str(comment.path)
    await call.play(["survey_thanks", "goodbye"])


if __name__ == "__main__":
    from softswitch.testing import run_flow

    keys = sys.argv[1] if len(sys.argv) > 1 else "17#"
    result = asyncio.run(run_flow(survey, digits=keys, language="en"))
    print("prompts:", " ".join(result.prompts))
    print("answers:", result.variables)
