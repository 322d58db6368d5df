"""Dial plan: defaults that run, internal destinations, feature codes, outbound routes, number
classes of the Chinese plan, class of service, and configuration errors."""

from __future__ import annotations

import tomllib
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from softswitch.config import ConfigError
from softswitch.switch.dialplan import (
    ClassOfService,
    Conference,
    DialPlan,
    Extension,
    Feature,
    Flow,
    NumberClass,
    NumberRange,
    Paging,
    Queue,
    Refused,
    Trunk,
    classify,
    normalise,
)

CONFIG = """
[dialplan]
extensions = ["1000-1999", "2000-2099"]
queues = "7000-7009"
flows = { "8000" = "appointments", "8001" = "results" }
paging = { "621" = "all", "622" = "wards" }

[[dialplan.routes]]
prefix = "9"
trunk = "carrier"
strip = 1

[[dialplan.routes]]
prefix = "900"
trunk = "intl-carrier"
strip = 1
prepend = "17909"

[[dialplan.routes]]
prefix = "11"
trunk = "carrier"

[[dialplan.routes]]
prefix = "12"
trunk = "carrier"

[cos.staff]
long_distance = true
max_call_seconds = 300

[cos.ward]
internal = true
local = false
"""


@pytest.fixture(scope="module")
def plan() -> DialPlan:
    return DialPlan.from_config(tomllib.loads(CONFIG))


# -- defaults --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("dialled", "expected"),
    [
        ("1000", Extension("1000")),
        ("1999", Extension("1999")),
        ("8000", Flow("8000", "appointments")),
        ("9000", Conference("9000")),
        ("9099", Conference("9099")),
        ("621", Paging("621", "all")),
        ("*97", Feature("*97", "voicemail")),
        ("*8", Feature("*8", "pickup")),
    ],
)
def test_default_plan_runs(dialled: str, expected: object) -> None:
    assert DialPlan().route(dialled, "local") == expected


def test_default_plan_has_no_trunks_so_external_numbers_get_no_route() -> None:
    refused = DialPlan().route("62345678", "local")
    assert refused == Refused("no outbound route for 62345678", "no_route", 404)


def test_numbers_outside_the_ranges_are_unknown() -> None:
    for number in ("2000", "9100", "01000", "5555"):
        result = DialPlan().route(number, "local")
        assert isinstance(result, Refused) and result.status == 404, number


# -- internal destinations and features ------------------------------------------------------


def test_configured_internal_destinations(plan: DialPlan) -> None:
    assert plan.route("2050", "staff") == Extension("2050", 300)
    assert plan.route("7003", "staff") == Queue("7003", 300)
    assert plan.route("8001", "staff") == Flow("8001", "results", 300)
    assert plan.route("622", "staff") == Paging("622", "wards", 300)
    assert plan.route("9050", "staff") == Conference("9050", 300)  # default kept


def test_feature_code_longest_match_with_argument() -> None:
    plan = DialPlan(features={"*7": "seven", "*72": "forward_on"})
    assert plan.route("*721001", "local") == Feature("*72", "forward_on", "1001")
    assert plan.route("*71", "local") == Feature("*7", "seven", "1")
    assert plan.route("*5", "local") == Refused("unknown feature code *5", "feature_unknown", 404)


def test_cos_without_internal_refuses_internal_numbers() -> None:
    plan = DialPlan(cos={"lobby": ClassOfService("lobby", internal=False)})
    assert plan.route("1001", "lobby") == Refused("internal calls not allowed", "cos_internal")


# -- outbound --------------------------------------------------------------------------------


def test_longest_prefix_route_with_strip_and_prepend(plan: DialPlan) -> None:
    result = plan.route("90044201234567", "unrestricted")
    assert result == Trunk(
        "intl-carrier", "179090044201234567", "90044201234567", NumberClass.INTERNATIONAL
    )
    local = plan.route("962345678", "local")
    assert local == Trunk("carrier", "62345678", "962345678", NumberClass.LOCAL)


def test_emergency_is_always_allowed_and_never_time_limited(plan: DialPlan) -> None:
    for number in ("110", "119", "120", "9120"):
        result = plan.route(number, "ward")
        assert isinstance(result, Trunk), number
        assert result.kind is NumberClass.EMERGENCY and result.max_seconds is None


@pytest.mark.parametrize(
    ("dialled", "cos", "allowed", "kind"),
    [
        ("962345678", "local", True, NumberClass.LOCAL),
        ("962345678", "ward", False, NumberClass.LOCAL),
        ("913812345678", "local", True, NumberClass.LOCAL),
        ("901065529988", "local", False, NumberClass.LONG_DISTANCE),
        ("901065529988", "staff", True, NumberClass.LONG_DISTANCE),
        ("9075512345678", "staff", True, NumberClass.LONG_DISTANCE),
        ("90044201234567", "staff", False, NumberClass.INTERNATIONAL),
        ("90044201234567", "unrestricted", True, NumberClass.INTERNATIONAL),
        ("91681234567", "staff", False, NumberClass.PREMIUM),
        ("9010168123456", "staff", False, NumberClass.PREMIUM),
        ("995588", "staff", False, NumberClass.PREMIUM),
        ("995588", "unrestricted", True, NumberClass.PREMIUM),
        ("910086", "local", True, NumberClass.LOCAL),
        ("912345", "local", True, NumberClass.LOCAL),
    ],
)
def test_class_of_service_per_number_class(
    plan: DialPlan, dialled: str, cos: str, allowed: bool, kind: NumberClass
) -> None:
    result = plan.route(dialled, cos)
    if allowed:
        assert isinstance(result, Trunk) and result.kind is kind
    else:
        assert result == Refused(
            f"{kind.value.replace('_', ' ')} calls not allowed for {cos}", f"cos_{kind.value}"
        )


def test_max_call_seconds_comes_from_the_class_of_service(plan: DialPlan) -> None:
    result = plan.route("962345678", "staff")
    assert isinstance(result, Trunk) and result.max_seconds == 300
    result = plan.route("962345678", ClassOfService("adhoc", max_call_seconds=60))
    assert isinstance(result, Trunk) and result.max_seconds == 60


def test_dial_strings_are_normalised(plan: DialPlan) -> None:
    assert normalise("+86 10 6552-9988") == "01065529988"
    assert normalise("+44 (20) 1234") == "0044201234"
    assert plan.route(" 1 0 0 1 ", "local") == Extension("1001")
    assert plan.route("", "local") == Refused("empty number", "number_incomplete", 484)
    refused = plan.route("10a1", "local")
    assert isinstance(refused, Refused) and refused.status == 404


def test_unknown_class_of_service_name_is_a_config_error(plan: DialPlan) -> None:
    with pytest.raises(ConfigError, match="unknown class of service"):
        plan.route("1001", "nobody")


# -- classification --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("number", "kind"),
    [
        ("110", NumberClass.EMERGENCY),
        ("119", NumberClass.EMERGENCY),
        ("120", NumberClass.EMERGENCY),
        ("122", NumberClass.EMERGENCY),
        ("114", NumberClass.LOCAL),
        ("10086", NumberClass.LOCAL),
        ("12345", NumberClass.LOCAL),
        ("4001234567", NumberClass.LOCAL),
        ("8001234567", NumberClass.LOCAL),
        ("62345678", NumberClass.LOCAL),
        ("6234567", NumberClass.LOCAL),
        ("13812345678", NumberClass.LOCAL),
        ("19912345678", NumberClass.LOCAL),
        ("01065529988", NumberClass.LONG_DISTANCE),
        ("02012345678", NumberClass.LONG_DISTANCE),
        ("075512345678", NumberClass.LONG_DISTANCE),
        ("013812345678", NumberClass.LONG_DISTANCE),
        ("0044201234567", NumberClass.INTERNATIONAL),
        ("1681234", NumberClass.PREMIUM),
        ("95588", NumberClass.PREMIUM),
        ("0755168123", NumberClass.PREMIUM),
        ("955881", NumberClass.UNKNOWN),
        ("12", NumberClass.UNKNOWN),
        ("00", NumberClass.UNKNOWN),
        ("0101", NumberClass.UNKNOWN),
        ("12345678901234", NumberClass.UNKNOWN),
        ("1#", NumberClass.UNKNOWN),
    ],
)
def test_chinese_number_classes(number: str, kind: NumberClass) -> None:
    assert classify(number) is kind


def test_mobile_can_count_as_long_distance() -> None:
    assert classify("13812345678", mobile_is_long_distance=True) is NumberClass.LONG_DISTANCE


def test_premium_patterns_are_configurable() -> None:
    assert classify("95588", premium=()) is NumberClass.LOCAL
    assert classify("4001234567", premium=("400",)) is NumberClass.PREMIUM


@settings(max_examples=30)
@given(st.from_regex(r"00[1-9][0-9]{4,12}", fullmatch=True))
def test_every_00_number_is_international(number: str) -> None:
    assert classify(number) is NumberClass.INTERNATIONAL


# -- configuration errors --------------------------------------------------------------------


def config(text: str) -> dict[str, Any]:
    return tomllib.loads(text)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[dialplan]\nextension = ["1000-1999"]', "unknown setting 'extension'"),
        ('[dialplan]\nextensions = ["1999-1000"]', "same-length bounds, low first"),
        ('[dialplan]\nextensions = ["100-1999"]', "same-length bounds"),
        ('[dialplan]\nextensions = ["abc"]', "not a number or a range"),
        ("[dialplan]\nextensions = 5", "must be a list"),
        ('[dialplan]\nconferences = ["1500-1600"]', "extensions 1000-1999 overlaps conferences"),
        ('[dialplan]\nflows = { "1234" = "x" }', "overlaps flows 1234"),
        ('[dialplan]\nflows = { "abc" = "x" }', "must be a number"),
        ('[dialplan]\nflows = { "8001" = "" }', "needs a name"),
        ('[dialplan]\nfeatures = { "97" = "vm" }', "a code like *97"),
        ('[dialplan]\nemergency = ["11a"]', "invalid entry"),
        ('[dialplan]\nemergency = ["1100"]', "emergency number 1100 is also an internal"),
        ('[dialplan]\npremium = ["x95"]', "invalid entry"),
        ('[dialplan]\nmobile_is_long_distance = "yes"', "true or false"),
        ('[[dialplan.routes]]\nprefix = "9"', "trunk"),
        ('[[dialplan.routes]]\nprefix = 9\ntrunk = "t"', "prefix must be"),
        ('[[dialplan.routes]]\ntrunk = "t"\nstrip = -1', "strip must be"),
        ('[[dialplan.routes]]\ntrunk = "t"\nprepend = "+"', "prepend must be"),
        ('[[dialplan.routes]]\ntrunk = "t"\nweight = 1', "unknown setting 'weight'"),
        ('dialplan = "x"', "[dialplan] must be a table"),
        ("[cos.staff]\nlocal = 1", "[cos.staff]: local must be true or false"),
        ("[cos.staff]\nmax_call_seconds = 0", "positive whole number"),
        ("[cos.staff]\nroaming = true", "unknown setting 'roaming'"),
        ('cos = { staff = "all" }', "[cos.staff] must be a table"),
    ],
)
def test_bad_configuration_raises_config_error_naming_the_key(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        DialPlan.from_config(config(text))
    assert message in str(caught.value)


def test_empty_configuration_gives_the_defaults() -> None:
    assert DialPlan.from_config({}) == DialPlan()


def test_configured_cos_adds_to_the_defaults(plan: DialPlan) -> None:
    assert set(plan.cos) >= {"internal", "local", "national", "unrestricted", "staff", "ward"}
    assert plan.cos["staff"] == ClassOfService("staff", long_distance=True, max_call_seconds=300)


def test_number_range_membership_needs_the_same_length() -> None:
    r = NumberRange.parse("1000-1999", "x")
    assert "1500" in r and "01500" not in r and "999" not in r and "2000" not in r
    assert str(r) == "1000-1999" and str(NumberRange.parse("621", "x")) == "621"
