"""Numbers, amounts, dates and times as lists of recorded prompt pieces, in Chinese and English.

IVRs speak variable values by concatenating short recordings ("n1", "n100", "yuan"...), so a
hospital can re-record any piece without a TTS engine. These functions are pure: they only
decide which pieces to play; :class:`~softswitch.flows.call.Call` plays them. Every piece
named here exists as ``prompts/<lang>/<piece>.wav`` (checked by a test).

Chinese rules (Mandarin, as an announcer reads them):

- groups of four digits with 万 (n10000) and 亿 (n100000000); zeros inside a number are read
  once (1001 一千零一, 10010 一万零一十), trailing zeros are silent;
- a number starting with 10-19 drops the leading 一 (12 十二, 100012 十万零一十二);
- 两 (n2_liang) replaces 二 before 百, 千, 万 and 亿, and for a lone 2 before a measure word;
- phone numbers and codes read 1 as 幺 (n1_yao), as Chinese telephony does.
"""

from __future__ import annotations

import datetime as _dt
from decimal import ROUND_HALF_UP, Decimal

__all__ = [
    "LANGUAGES",
    "UnsupportedLanguageError",
    "date_pieces",
    "digit_pieces",
    "money_pieces",
    "number_pieces",
    "time_pieces",
]

LANGUAGES = ("zh", "en")
MAX_NUMBER = 10**12 - 1

_EN_UNITS = ((10**9, "billion"), (10**6, "million"), (1000, "thousand"))
_EN_KEYS = {"*": "star", "#": "hash"}


class UnsupportedLanguageError(ValueError):
    """A language with no piece rules (only ``zh`` and ``en`` exist)."""


def _check_language(lang: str) -> None:
    if lang not in LANGUAGES:
        raise UnsupportedLanguageError(f"no spoken-number rules for {lang!r}; use {LANGUAGES}")


def _check_number(n: int) -> None:
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"expected an int, not {type(n).__name__}")
    if not 0 <= n <= MAX_NUMBER:
        raise ValueError(f"{n} is outside 0..{MAX_NUMBER}")


# -- digits -----------------------------------------------------------------------------------


def digit_pieces(digits: str, lang: str) -> list[str]:
    """Read a string of keys one by one (a phone number, a ticket code)."""
    _check_language(lang)
    pieces = []
    for ch in digits:
        if ch in _EN_KEYS:
            pieces.append(_EN_KEYS[ch])
        elif ch.isascii() and ch.isdigit():
            pieces.append("n1_yao" if ch == "1" and lang == "zh" else f"n{ch}")
        else:
            raise ValueError(f"cannot say {ch!r} as a digit (in {digits!r})")
    return pieces


# -- whole numbers ----------------------------------------------------------------------------


def number_pieces(n: int, lang: str, *, measure: bool = False) -> list[str]:
    """Pieces for ``n`` (0 .. 10**12-1). ``measure``: a measure word follows (两元, not 二元)."""
    _check_language(lang)
    _check_number(n)
    if lang == "en":
        return _en_number(n)
    if measure and n == 2:
        return ["n2_liang"]
    return _zh_number(n)


def _zh_below_10000(n: int, *, leading: bool) -> list[str]:
    """One four-digit group; ``leading`` is true for the number's first group."""
    out: list[str] = []
    zero_pending = False
    for power, unit in ((1000, "n1000"), (100, "n100"), (10, "n10"), (1, "")):
        d = n // power % 10
        if d == 0:
            if out:
                zero_pending = True
            continue
        if zero_pending:
            out.append("n0")
            zero_pending = False
        if power == 10 and d == 1 and not out and leading:
            out.append("n10")  # 十二, not 一十二, at the start of a number
            continue
        if d == 2 and power >= 100:
            out.append("n2_liang")
        else:
            out.append(f"n{d}")
        if unit:
            out.append(unit)
    return out


def _zh_number(n: int) -> list[str]:
    if n == 0:
        return ["n0"]
    groups = [(n // 10**8, "n100000000"), (n // 10**4 % 10**4, "n10000"), (n % 10**4, "")]
    out: list[str] = []
    zero_pending = False
    for value, unit in groups:
        if value == 0:
            if out:
                zero_pending = True
            continue
        if out and (zero_pending or value < 1000):
            out.append("n0")  # 一万零五百: a gap before this group is read once
        zero_pending = False
        part = _zh_below_10000(value, leading=not out)
        if part == ["n2"] and unit:
            part = ["n2_liang"]  # 两万, 两亿
        out += part
        if unit:
            out.append(unit)
    return out


def _en_below_1000(n: int) -> list[str]:
    out: list[str] = []
    if n >= 100:
        out += [f"n{n // 100}", "hundred"]
        n %= 100
    if n >= 20:
        out.append(f"n{n // 10 * 10}")
        n %= 10
        if n:
            out.append(f"n{n}")
    elif n:
        out.append(f"n{n}")
    return out


def _en_number(n: int) -> list[str]:
    if n == 0:
        return ["n0"]
    out: list[str] = []
    for size, word in _EN_UNITS:
        if n >= size:
            out += _en_below_1000(n // size) + [word]
            n %= size
    return out + _en_below_1000(n)


# -- money ------------------------------------------------------------------------------------


def money_pieces(amount: Decimal | int | str, lang: str) -> list[str]:
    """An amount in yuan (rounded to the fen): 12.50 -> 十二元五角 / twelve yuan fifty fen."""
    _check_language(lang)
    if isinstance(amount, float):
        raise TypeError("pass money as Decimal, int or str, never float")
    value = Decimal(amount).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    if value < 0:
        raise ValueError(f"cannot say a negative amount {value}")
    total_fen = int(value * 100)
    yuan, fen = divmod(total_fen, 100)
    if lang == "en":
        out = [] if yuan == 0 and fen else _en_number(yuan) + ["yuan"]
        if fen:
            out += (["and"] if out else []) + _en_number(fen) + ["fen"]
        return out
    jiao, fen = divmod(fen, 10)
    out = [] if yuan == 0 and (jiao or fen) else number_pieces(yuan, "zh", measure=True) + ["yuan"]
    if jiao:
        out += number_pieces(jiao, "zh", measure=True) + ["jiao"]
    if fen:
        if out and not jiao:
            out.append("n0")  # 十二元零五分
        out += number_pieces(fen, "zh", measure=True) + ["fen"]
    return out


# -- dates and times --------------------------------------------------------------------------


def date_pieces(day: _dt.date, lang: str, *, year: bool = False, weekday: bool = True) -> list[str]:
    """A calendar date: 5月3日 星期五 / Friday May third (the year when asked)."""
    _check_language(lang)
    week = [f"weekday_{day.isoweekday()}"] if weekday else []
    if lang == "zh":
        out = digit_pieces(str(day.year), "zh") + ["nian"] if year else []
        out = [p if p != "n1_yao" else "n1" for p in out]  # years read 1 as 一
        out += _zh_number(day.month) + ["yue"] + _zh_number(day.day) + ["ri"]
        return out + week
    out = week + [f"month_{day.month}", f"ord_{day.day}"]
    if year:
        out += _en_year(day.year)
    return out


def _en_year(y: int) -> list[str]:
    if 2000 <= y <= 2009 or y % 1000 == 0:
        return _en_number(y)
    high, low = divmod(y, 100)
    if low == 0:
        return _en_number(high) + ["hundred"]
    return _en_number(high) + (["oh"] if low < 10 else []) + _en_number(low)


def time_pieces(at: _dt.time, lang: str) -> list[str]:
    """A clock time on the 12-hour dial with its part of day: 下午3点15分 / three fifteen p m."""
    _check_language(lang)
    hour12 = at.hour % 12 or 12
    if lang == "zh":
        part = "morning" if at.hour < 12 else "afternoon" if at.hour < 18 else "evening"
        out = [part] + number_pieces(hour12, "zh", measure=True) + ["dian"]
        if at.minute:
            out += (["n0"] if at.minute < 10 else []) + _zh_number(at.minute) + ["minute"]
        return out
    out = _en_number(hour12)
    if at.minute == 0:
        out.append("oclock")
    else:
        out += (["oh"] if at.minute < 10 else []) + _en_number(at.minute)
    return out + ["am" if at.hour < 12 else "pm"]
