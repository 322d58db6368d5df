"""`[booking_phone]` in the configuration: defaults when absent, a clear error when wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from softswitch.config import ConfigError, load_config
from softswitch.hospital.booking.phone import PhoneSettings, phone_settings_from


def test_absent_section_gives_the_defaults() -> None:
    assert phone_settings_from({}) == PhoneSettings()
    assert PhoneSettings().language is None and PhoneSettings().tries == 3


def test_the_section_is_read_from_the_configuration_file(tmp_path: Path) -> None:
    path = tmp_path / "switch.toml"
    path.write_text('[booking_phone]\nlanguage = "en"\ndays = 5\ntimeout = 12\ntries = 4\n')
    settings = phone_settings_from(load_config(path).features)
    assert (settings.language, settings.days, settings.timeout, settings.tries) == (
        "en", 5, 12.0, 4)


@pytest.mark.parametrize(("section", "message"), [
    ({"language": "fr"}, "language must be one of zh, en"),
    ({"days": 0}, "days must be a whole number from 1 to 9"),
    ({"days": 10}, "days must be a whole number from 1 to 9"),
    ({"tries": "3"}, "tries must be a whole number"),
    ({"timeout": 0.5}, "timeout must be 1 to 60 seconds"),
    ({"timeout": True}, "timeout must be 1 to 60 seconds"),
    ({"voice": "x"}, "unknown setting 'voice'"),
])
def test_bad_settings_are_refused_with_the_reason(section: dict[str, object],
                                                  message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        phone_settings_from({"booking_phone": section})
    with pytest.raises(ConfigError, match="must be a table"):
        phone_settings_from({"booking_phone": "en"})
