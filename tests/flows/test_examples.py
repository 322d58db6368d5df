"""The examples in examples/ run as documented, on the simulated caller."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from softswitch.flows import FlowRegistry
from softswitch.testing import run_flow

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


async def test_hello_world_greets_reads_the_date_and_hangs_up() -> None:
    result = await run_flow(load("hello_world").hello_world, language="en")
    assert result.prompts[0] == "hello_world" and result.prompts[-1] == "goodbye"
    assert result.prompts[2].startswith("month_")
    assert result.hangup_cause == "normal"


async def test_two_level_menu_goes_down_and_back_up() -> None:
    result = await run_flow(load("two_level_menu").two_level_menu, digits="12*0")
    assert result.prompts == ("welcome", "main_menu", "clinic_menu", "clinic_address",
                              "clinic_menu", "main_menu", "operator_unavailable", "goodbye")


async def test_survey_stores_answers_and_the_recording(tmp_path: Path) -> None:
    result = await run_flow(load("survey").survey, digits="38#", recordings=tmp_path)
    assert result.variables["satisfied"] == "no"
    assert result.variables["score"] == 8
    assert Path(result.variables["comment"]).parent == tmp_path
    assert result.prompts[-2:] == ("survey_thanks", "goodbye")


@pytest.mark.parametrize(("name", "flow", "number"), [
    ("hello_world", "hello", "8001"), ("two_level_menu", "info_menu", "8002"),
    ("survey", "survey", "8003"),
])
def test_examples_register_by_their_decorator(name: str, flow: str, number: str) -> None:
    registry = FlowRegistry()
    (info,) = registry.add_module(load(name))
    assert (info.name, info.number) == (flow, number)
