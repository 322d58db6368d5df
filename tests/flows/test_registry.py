"""Finding flows: @flow marks, [flows] configuration, entry points, `softswitch flows`."""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

import pytest
from typer.testing import CliRunner

from softswitch.cli import app
from softswitch.flows import Call, FlowNotFound, FlowRegistrationError, FlowRegistry, flow
from softswitch.flows import registry as registry_module
from softswitch.flows.registry import lookup
from tests.flows import sample_flows

SAMPLES = "tests.flows.sample_flows"


def test_decorator_marks_without_registering_anywhere() -> None:
    registry = FlowRegistry()
    assert len(registry) == 0
    infos = registry.add_module(sample_flows)
    assert sorted((i.name, i.number) for i in infos) == [("farewell", None), ("greeting", "8100")]
    assert registry["greeting"] is sample_flows.greet
    assert registry.info()[1].summary == "Says hello."
    assert registry.info()[1].target == f"{SAMPLES}:greet"


def test_decorator_refuses_plain_functions() -> None:
    with pytest.raises(TypeError, match="async def"):
        flow("1")(lambda call: None)  # type: ignore[arg-type, return-value]


def test_config_section_loads_modules_and_named_functions() -> None:
    registry = FlowRegistry.from_config(
        {"modules": [SAMPLES], "hello_again": f"{SAMPLES}:greet"}, entry_points=False)
    assert sorted(registry) == ["farewell", "greeting", "hello_again"]
    assert registry["hello_again"] is sample_flows.greet


@pytest.mark.parametrize(("section", "message"), [
    ({"modules": "x"}, "list of module names"),
    ({"x": "no_colon"}, "module:function"),
    ({"x": "no.such.module:f"}, "cannot load"),
    ({"x": f"{SAMPLES}:missing"}, "cannot load"),
    ({"modules": [SAMPLES], "greeting": f"{SAMPLES}:farewell"}, "already registered"),
    ({"x": f"{SAMPLES}:__doc__"}, "not an async def"),
])
def test_bad_config_entries_are_config_errors(section: dict[str, object], message: str) -> None:
    with pytest.raises(FlowRegistrationError, match=message):
        FlowRegistry.from_config(section, entry_points=False)


def test_entry_points_register_modules_and_functions(monkeypatch: pytest.MonkeyPatch) -> None:
    points = [
        metadata.EntryPoint("hospital", SAMPLES, "softswitch.flows"),
        metadata.EntryPoint("goodbye2", f"{SAMPLES}:farewell", "softswitch.flows"),
    ]

    def entry_points(*, group: str) -> list[metadata.EntryPoint]:
        return [p for p in points if p.group == group]

    monkeypatch.setattr(registry_module.metadata, "entry_points", entry_points)
    registry = FlowRegistry.from_config(None)
    assert sorted(registry) == ["farewell", "goodbye2", "greeting"]
    assert registry.info()[1].source.startswith("entry point goodbye2")


def test_lookup_names_the_known_flows() -> None:
    async def one(call: Call) -> None:
        pass

    with pytest.raises(FlowNotFound, match=r"no flow 'two'; known: \['one'\]"):
        lookup({"one": one}, "two")


def test_cli_lists_flows_and_flags_missing_numbers(tmp_path: Path) -> None:
    config = tmp_path / "switch.toml"
    config.write_text(f'[flows]\nmodules = ["{SAMPLES}"]\n'
                      '[dialplan]\nflows = { "8000" = "appointments", "8100" = "greeting", '
                      '"8200" = "nowhere" }\n')
    runner = CliRunner()
    listed = runner.invoke(app, ["flows", "--config", str(config)])
    assert listed.exit_code == 0, listed.output
    lines = listed.output.splitlines()
    assert lines[0].split()[:3] == ["NAME", "NUMBERS", "SOURCE"]
    assert any(line.split()[:2] == ["greeting", "8100"] for line in lines)
    assert any(line.split()[:3] == ["appointments", "8000", "builtin"] for line in lines)
    assert any(line.split()[:3] == ["nowhere", "8200", "MISSING"] for line in lines)
    checked = runner.invoke(app, ["flows", "--config", str(config), "--check"])
    assert checked.exit_code == 1


def test_cli_reports_a_bad_flows_section(tmp_path: Path) -> None:
    config = tmp_path / "switch.toml"
    config.write_text('[flows]\nbroken = "nowhere:flow"\n')
    result = CliRunner().invoke(app, ["flows", "--config", str(config)])
    assert result.exit_code == 2
    assert "cannot load" in result.output
