"""What the booking line says about data: names, days, half-days, sessions, tickets.

Departments, exams and experts are data the staff change daily, so their names are spoken
through run-time TTS (cached) with recorded pieces as the fallback; days, half-days, money
and ticket numbers are always recorded pieces. Every function returns a list of prompt items
that a menu can replay, rather than playing it, because a menu prompt must be repeatable.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from softswitch.flows import Prompt, say
from softswitch.flows.tts import TextToSpeech

__all__ = ["BookingSpeech", "key_piece"]

RELATIVE_DAYS = ("today", "tomorrow", "day_after_tomorrow")


def key_piece(key: str) -> str:
    """The recorded piece for a menu key ("press *one*"; 1 is 一, not the phone-number 幺)."""
    return {"*": "star", "#": "hash"}.get(key, f"n{key}")


def _has_cjk(text: str) -> bool:
    return any("\u3400" <= ch <= "\u9fff" for ch in text)


class BookingSpeech:
    """Prompt items for one call's language; names go through ``tts`` when it is given."""

    def __init__(self, tts: TextToSpeech | None, language: str) -> None:
        self.tts = tts
        self.language = language

    async def text(self, text: str, fallback: Sequence[Prompt] = ()) -> list[Prompt]:
        """``text`` spoken (a Chinese name keeps its Chinese reading in English calls)."""
        if self.tts is None or not text.strip():
            return list(fallback)
        language = "zh" if _has_cjk(text) else self.language
        return await self.tts.prompt(text, language, fallback)

    async def named(self, name_zh: str, name_en: str, fallback: Sequence[Prompt]) -> list[Prompt]:
        """A department or exam by its name in the call's language."""
        return await self.text(name_en if self.language == "en" and name_en else name_zh,
                               fallback)

    def day(self, day: dt.date, today: dt.date) -> list[Prompt]:
        """"tomorrow, November 27th, Friday": relative for the first three days, then the date."""
        offset = (day - today).days
        relative: list[Prompt] = [RELATIVE_DAYS[offset]] if 0 <= offset < len(RELATIVE_DAYS) else []
        return relative + list(say.date_pieces(day, self.language))

    def money(self, amount: object) -> list[Prompt]:
        return list(say.money_pieces(amount, self.language))  # type: ignore[arg-type]

    def number(self, n: int) -> list[Prompt]:
        return list(say.number_pieces(n, self.language))

    async def ticket(self, ticket: str) -> list[Prompt]:
        """A ticket ("E2-1127-004") key by key: digits from recorded pieces, letters through
        TTS in English (as Chinese IVRs read them too), skipped without TTS; dashes silent."""
        items: list[Prompt] = []
        for ch in ticket:
            if ch.isascii() and ch.isdigit():
                items += say.digit_pieces(ch, self.language)
            elif ch.isascii() and ch.isalpha() and self.tts is not None:
                items += await self.tts.prompt(ch.upper(), "en")
        return items

    def choice(self, label: Sequence[Prompt], key: str) -> list[Prompt]:
        """"<label>, press <key>" as one menu line."""
        return [*label, "press_key", key_piece(key)]
