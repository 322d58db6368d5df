from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def switch_data(tmp_path: Path) -> Path:
    return tmp_path / "data"
