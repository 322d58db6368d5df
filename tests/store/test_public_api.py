"""The public surfaces list exactly what they export (httpx-style check)."""

from __future__ import annotations

import importlib

import pytest


@pytest.mark.parametrize(
    "module",
    [
        "softswitch.store",
        "softswitch.store.migrations",
        "softswitch.store.sqlite",
        "softswitch.sip.digest",
        "softswitch.switch.abuse",
        "softswitch.switch.directory",
    ],
)
def test_all_names_exist_and_are_sorted(module: str) -> None:
    loaded = importlib.import_module(module)
    assert all(hasattr(loaded, name) for name in loaded.__all__)
    assert list(loaded.__all__) == sorted(loaded.__all__, key=lambda n: (not n.isupper(), n))


def test_store_exports_every_repository() -> None:
    import softswitch.store as store

    for name in ("open_database", "Database", "UserRepository", "BindingRepository",
                 "SecurityEventRepository", "SettingsRepository"):
        assert name in store.__all__
