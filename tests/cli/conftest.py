"""Run `softswitch users ...` in-process with typer's CliRunner, on a temporary data directory."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from softswitch.cli import app
from softswitch.store import User, open_database

Invoke = Callable[..., Result]


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "var"


@pytest.fixture
def users_cli(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Invoke:
    """``users_cli("add", "2001", ...)`` with ``--data`` pointing at the test directory."""
    monkeypatch.delenv("SOFTSWITCH_REALM", raising=False)
    monkeypatch.setenv("SOFTSWITCH_DATA", str(data_dir))
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None, env: dict[str, str] | None = None) -> Result:
        return runner.invoke(app, ["users", *args], input=input, env=env)

    return invoke


@pytest.fixture
def stored(data_dir: Path) -> Callable[[str], User | None]:
    """Read one user straight from the store, as the switch would."""

    def read(extension: str) -> User | None:
        async def get() -> User | None:
            async with await open_database(data_dir) as db:
                return await db.users.get(extension)

        return asyncio.run(get())

    return read
