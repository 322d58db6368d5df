"""`[pickup] groups` (README "Transfer and pickup"): parsed into frozensets, anything else refused."""

from __future__ import annotations

import pytest

from softswitch.config import ConfigError
from softswitch.features.pickup import pickup_groups_from


def test_configured_groups_are_read_as_sets_of_extensions() -> None:
    assert pickup_groups_from({"pickup": {"groups": {"ward3": ["1101", "1102", "1103"]}}}) == {
        "ward3": frozenset({"1101", "1102", "1103"})}
    assert pickup_groups_from({}) == {}


@pytest.mark.parametrize("pickup", [
    {"group": {"ward3": ["1101"]}},          # misspelt key
    {"groups": ["1101"]},                    # not a table
    {"groups": {"ward3": "1101"}},           # not a list
    {"groups": {"ward3": [1101]}},           # numbers, not strings
    {"groups": {"ward3": ["nurse"]}},        # not an extension
    "ward3",
])
def test_anything_else_is_a_config_error(pickup: object) -> None:
    with pytest.raises(ConfigError):
        pickup_groups_from({"pickup": pickup})
