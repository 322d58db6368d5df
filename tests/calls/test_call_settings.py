"""The [calls] section: defaults, values, and one-line errors for bad ones."""

from __future__ import annotations

import pytest

from softswitch.config import ConfigError
from softswitch.switch.call_settings import CallSettings, call_settings_from


def test_absent_section_gives_the_defaults() -> None:
    settings = call_settings_from({})
    assert settings == CallSettings()
    assert settings.rtp_timeout == 60.0
    assert settings.session_timer is not None and settings.session_timer.session_expires == 1800


def test_values_are_read() -> None:
    settings = call_settings_from({"calls": {
        "no_answer_timeout": 12, "rtp_timeout": 0.5, "session_expires": 600, "min_se": 120,
        "codecs": ["PCMA"]}})
    assert settings.no_answer_timeout == 12.0 and settings.rtp_timeout == 0.5
    assert settings.session_timer is not None
    assert (settings.session_timer.session_expires, settings.session_timer.min_se) == (600, 120)
    assert settings.capabilities.codecs == ("PCMA",)


def test_zero_turns_rtp_timeout_and_session_timers_off() -> None:
    settings = call_settings_from({"calls": {"rtp_timeout": 0, "session_expires": 0}})
    assert settings.rtp_timeout == 0 and settings.session_timer is None


@pytest.mark.parametrize(("calls", "message"), [
    ({"rtp_timeout": -1}, "rtp_timeout"),
    ({"rtp_timeout": "soon"}, "rtp_timeout"),
    ({"no_answer_timeout": 0}, "no_answer_timeout"),
    ({"session_expires": 60}, "session timer"),
    ({"min_se": 30}, "session timer"),
    ({"codecs": ["OPUS"]}, "codecs"),
    ({"codecs": "PCMU"}, "codecs"),
    ({"ring_time": 3}, "ring_time"),
])
def test_bad_values_are_config_errors(calls: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        call_settings_from({"calls": calls})
