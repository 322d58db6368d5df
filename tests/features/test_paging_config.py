"""`[paging]` and `[intercom]` settings: defaults that run, groups, auto-answer rules per user
agent, and one-line errors for mistakes (the switch refuses to start with them)."""

from __future__ import annotations

import pytest

from softswitch.config import ConfigError
from softswitch.features.paging_config import (
    PagingGroup,
    auto_answer_headers,
    intercom_settings_from,
    paging_settings_from,
)


def test_defaults_page_everyone_with_every_auto_answer_header() -> None:
    settings = paging_settings_from({}, ["all"])
    assert settings.groups == {"all": PagingGroup("all")}
    assert settings.skip_busy and settings.beep
    assert auto_answer_headers(settings, "anything") == [
        ("Call-Info", "<sip:HOST>;answer-after=0"), ("Alert-Info", "info=alert-autoanswer"),
        ("Alert-Info", "Ring Answer")]
    assert intercom_settings_from({}).right == "intercom"


def test_groups_multicast_and_rules_per_user_agent() -> None:
    settings = paging_settings_from({"paging": {
        "skip_busy": False, "answer_wait": 0.5,
        "groups": {"ward3": {"members": ["1201", "1202"], "multicast": "239.255.3.1:5004"},
                   "speakers": {"multicast": "239.255.3.2:6000"}},
        "auto_answer": {"Yealink": ["call-info"], "Polycom": ["ring-answer"],
                        "default": ["alert-info"]},
    }}, ["ward3", "all"])
    assert settings.groups["ward3"] == PagingGroup("ward3", ("1201", "1202"),
                                                   ("239.255.3.1", 5004))
    assert settings.groups["speakers"].members == ()
    assert not settings.skip_busy and settings.answer_wait == 0.5
    assert auto_answer_headers(settings, "yealink SIP-T46S 66.86") == [
        ("Call-Info", "<sip:HOST>;answer-after=0")]
    assert auto_answer_headers(settings, "PolycomVVX-VVX_411") == [("Alert-Info", "Ring Answer")]
    assert auto_answer_headers(settings, "baresip") == [("Alert-Info", "info=alert-autoanswer")]


@pytest.mark.parametrize(("raw", "dialled", "message"), [
    ({"paging": {"colour": 1}}, [], "unknown setting 'colour'"),
    ({"paging": {"answer_wait": -1}}, [], "answer_wait must be"),
    ({"paging": {"skip_busy": "yes"}}, [], "skip_busy must be true or false"),
    ({}, ["ward9"], "paging group 'ward9' is not in [paging.groups]"),
    ({"paging": {"groups": {"w": {"members": ["12a"]}}}}, [], "members must be a list"),
    ({"paging": {"groups": {"w": {}}}}, [], "needs members or a multicast address"),
    ({"paging": {"groups": {"w": {"multicast": "10.0.0.1:5004"}}}}, [], "not a multicast"),
    ({"paging": {"groups": {"w": {"multicast": "239.1.1.1:5005"}}}}, [], "port must be even"),
    ({"paging": {"groups": {"w": {"multicast": "nowhere"}}}}, [], "ADDRESS:PORT"),
    ({"paging": {"groups": {"all": {"members": ["1001"]}}}}, [], "group 'all' is every"),
    ({"paging": {"auto_answer": {"Snom": ["beep"]}}}, [], "must be a list of: call-info"),
    ({"paging": []}, [], "[paging] must be a table"),
])
def test_mistakes_are_one_line_config_errors(raw: dict, dialled: list[str],
                                             message: str) -> None:
    with pytest.raises(ConfigError) as error:
        paging_settings_from(raw, dialled)
    assert message in str(error.value)


def test_intercom_right_must_be_a_known_right_or_empty() -> None:
    assert intercom_settings_from({"intercom": {"right": ""}}).right == ""
    assert intercom_settings_from({"intercom": {"right": "paging"}}).right == "paging"
    with pytest.raises(ConfigError, match="unknown right"):
        intercom_settings_from({"intercom": {"right": "nurse"}})
    with pytest.raises(ConfigError, match="unknown setting"):
        intercom_settings_from({"intercom": {"rights": "paging"}})
