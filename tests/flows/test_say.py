"""Numbers, money, dates and times as prompt pieces (pure)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from softswitch.flows.say import (
    MAX_NUMBER,
    UnsupportedLanguageError,
    date_pieces,
    digit_pieces,
    money_pieces,
    number_pieces,
    time_pieces,
)

ZH = dict(zip("零一二三四五六七八九", [f"n{i}" for i in range(10)]))
ZH.update({"十": "n10", "百": "n100", "千": "n1000", "万": "n10000", "亿": "n100000000",
           "两": "n2_liang", "元": "yuan", "角": "jiao", "分": "fen"})


def zh(text: str) -> list[str]:
    return [ZH[ch] for ch in text]


@pytest.mark.parametrize(("n", "spoken"), [
    (0, "零"), (7, "七"), (10, "十"), (12, "十二"), (20, "二十"), (100, "一百"),
    (101, "一百零一"), (110, "一百一十"), (200, "两百"), (1001, "一千零一"),
    (1010, "一千零一十"), (2222, "两千两百二十二"), (10000, "一万"), (10500, "一万零五百"),
    (10010, "一万零一十"), (20000, "两万"), (100000, "十万"), (100012, "十万零一十二"),
    (123456789, "一亿两千三百四十五万六千七百八十九"), (100010000, "一亿零一万"),
    (200000000, "两亿"),
])
def test_chinese_numbers_follow_announcer_rules(n: int, spoken: str) -> None:
    assert number_pieces(n, "zh") == zh(spoken)


@pytest.mark.parametrize(("n", "pieces"), [
    (0, ["n0"]), (13, ["n13"]), (40, ["n40"]), (42, ["n40", "n2"]),
    (105, ["n1", "hundred", "n5"]),
    (1234, ["n1", "thousand", "n2", "hundred", "n30", "n4"]),
    (2_000_019, ["n2", "million", "n19"]),
])
def test_english_numbers(n: int, pieces: list[str]) -> None:
    assert number_pieces(n, "en") == pieces


def test_lone_two_before_a_measure_word_is_liang() -> None:
    assert number_pieces(2, "zh", measure=True) == ["n2_liang"]
    assert number_pieces(2, "zh") == ["n2"]


@given(st.integers(0, MAX_NUMBER))
def test_chinese_pieces_read_back_to_the_number(n: int) -> None:
    """Decoding the pieces with the usual rules gives the number back: nothing lost."""
    digit = {f"n{i}": i for i in range(10)} | {"n2_liang": 2}
    unit = {"n10": 10, "n100": 100, "n1000": 1000}
    total = section = pending = 0
    for piece in number_pieces(n, "zh"):
        if piece in digit:
            pending = digit[piece]
        elif piece in unit:
            section += (pending or 1) * unit[piece]
            pending = 0
        else:  # 万 or 亿 closes a group
            scale = 10_000 if piece == "n10000" else 100_000_000
            total += (section + pending) * scale
            section = pending = 0
    assert total + section + pending == n


def test_digits_read_one_as_yao_in_chinese_only() -> None:
    assert digit_pieces("110#", "zh") == ["n1_yao", "n1_yao", "n0", "hash"]
    assert digit_pieces("1*", "en") == ["n1", "star"]
    with pytest.raises(ValueError, match="cannot say"):
        digit_pieces("12a", "en")


@pytest.mark.parametrize(("amount", "spoken"), [
    ("12.50", "十二元五角"), ("12.05", "十二元零五分"), ("0.5", "五角"), ("0.05", "五分"),
    (2, "两元"), ("100.25", "一百元两角五分"), ("0", "零元"),
])
def test_chinese_money(amount: str | int, spoken: str) -> None:
    assert money_pieces(amount, "zh") == zh(spoken)


def test_english_money_and_rounding() -> None:
    assert money_pieces(Decimal("12.5"), "en") == ["n12", "yuan", "and", "n50", "fen"]
    assert money_pieces("0.055", "en") == ["n6", "fen"]  # half up to the fen
    with pytest.raises(TypeError):
        money_pieces(1.5, "en")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        money_pieces("-1", "zh")


def test_dates() -> None:
    day = dt.date(2024, 5, 3)  # a Friday
    assert date_pieces(day, "zh") == ["n5", "yue", "n3", "ri", "weekday_5"]
    assert date_pieces(day, "zh", year=True, weekday=False) == [
        "n2", "n0", "n2", "n4", "nian", "n5", "yue", "n3", "ri"]
    assert date_pieces(dt.date(2011, 12, 31), "en", year=True) == [
        "weekday_6", "month_12", "ord_31", "n20", "n11"]
    assert date_pieces(dt.date(2005, 1, 1), "en", year=True, weekday=False) == [
        "month_1", "ord_1", "n2", "thousand", "n5"]
    assert date_pieces(dt.date(1905, 1, 1), "en", year=True, weekday=False)[2:] == [
        "n19", "oh", "n5"]


def test_times() -> None:
    assert time_pieces(dt.time(15, 5), "zh") == ["afternoon", "n3", "dian", "n0", "n5", "minute"]
    assert time_pieces(dt.time(9, 0), "zh") == ["morning", "n9", "dian"]
    assert time_pieces(dt.time(2, 30), "zh") == [
        "morning", "n2_liang", "dian", "n3", "n10", "minute"]
    assert time_pieces(dt.time(0, 0), "en") == ["n12", "oclock", "am"]
    assert time_pieces(dt.time(13, 7), "en") == ["n1", "oh", "n7", "pm"]
    assert time_pieces(dt.time(20, 45), "zh")[0] == "evening"


def test_unknown_language_and_range_are_errors() -> None:
    with pytest.raises(UnsupportedLanguageError):
        number_pieces(1, "fr")
    with pytest.raises(ValueError):
        number_pieces(MAX_NUMBER + 1, "zh")
    with pytest.raises(TypeError):
        number_pieces(True, "zh")
