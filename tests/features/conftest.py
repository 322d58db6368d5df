"""The paging and intercom tests' phones: a PhoneBook on the module's own `switch` fixture."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from softswitch.app import Switch
from tests.features.paging_kit import PhoneBook


@pytest.fixture
def book(switch: Switch) -> Iterator[PhoneBook]:
    with PhoneBook(switch) as phones:
        yield phones
