"""The committed prompt sets: every piece the say rules use exists, every file has its text."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import soundfile as sf

from softswitch.flows import DEFAULT_PROMPTS, PromptLibrary, PromptNotFound
from softswitch.flows.prompts import parse_prompt_text
from softswitch.flows.say import date_pieces, digit_pieces, money_pieces, number_pieces, time_pieces

GENERAL = ["welcome", "invalid", "timeout", "goodbye", "sorry_error", "enter_card", "enter_pin"]


def pieces_used(lang: str) -> set[str]:
    used: set[str] = set(digit_pieces("0123456789*#", lang))
    for n in [*range(120), 200, 1000, 2000, 10_000, 20_000, 10**8, 2 * 10**8, 10**9, 10**6]:
        used.update(number_pieces(n, lang))
    used.update(money_pieces("2.25", lang) + money_pieces("0.05", lang))
    day = dt.date(2024, 1, 1)
    for offset in range(366):
        used.update(date_pieces(day + dt.timedelta(days=offset), lang, year=True))
    for hour in range(24):
        used.update(time_pieces(dt.time(hour, 5), lang) + time_pieces(dt.time(hour, 0), lang))
    return used


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_piece_and_general_prompt_exists_in_its_own_language(lang: str) -> None:
    present = {p.stem for p in (DEFAULT_PROMPTS / lang).glob("*.wav")}
    assert not (pieces_used(lang) | set(GENERAL)) - present


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_text_file_and_audio_files_match(lang: str) -> None:
    texts = parse_prompt_text((DEFAULT_PROMPTS / f"{lang}.txt").read_text(encoding="utf-8"))
    present = {p.stem for p in (DEFAULT_PROMPTS / lang).glob("*.wav")}
    assert set(texts) == present


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_audio_is_8khz_mono_16bit_and_short_enough(lang: str) -> None:
    for path in (DEFAULT_PROMPTS / lang).glob("*.wav"):
        info = sf.info(str(path))
        assert (info.samplerate, info.channels, info.subtype) == (8000, 1, "PCM_16"), path
        assert 0.1 < info.duration < 15, path


def test_library_prefers_hospital_recordings_then_falls_back_to_chinese(tmp_path: Path) -> None:
    (tmp_path / "en").mkdir()
    own = tmp_path / "en" / "welcome.wav"
    sf.write(str(own), [0.0] * 800, 8000, subtype="PCM_16")
    library = PromptLibrary([tmp_path, DEFAULT_PROMPTS])
    assert library.path("welcome", "en") == own
    assert library.path("goodbye", "en") == DEFAULT_PROMPTS / "en" / "goodbye.wav"
    assert library.path("n2_liang", "en") == DEFAULT_PROMPTS / "zh" / "n2_liang.wav"
    with pytest.raises(PromptNotFound, match="no prompt 'nothing' for en/zh"):
        library.path("nothing", "en")
    with pytest.raises(PromptNotFound, match="invalid prompt name"):
        library.path("../zh/welcome", "en")


def test_files_resolves_every_name_as_path_does(tmp_path: Path) -> None:
    """The start-up snapshot the B2BUA's announcements use gives the file `path` gives:
    the hospital's own recording first, .wav before .flac, then the fallback language."""
    (tmp_path / "en").mkdir()
    own = tmp_path / "en" / "welcome.wav"
    sf.write(str(own), [0.0] * 800, 8000, subtype="PCM_16")
    sf.write(str(tmp_path / "en" / "goodbye.flac"), [0.0] * 800, 8000, subtype="PCM_16")
    (tmp_path / "en" / ".hidden.wav").write_bytes(b"")
    library = PromptLibrary([tmp_path, DEFAULT_PROMPTS])
    files = library.files("en")
    assert files["welcome"] == own
    assert files["goodbye"] == tmp_path / "en" / "goodbye.flac"  # own root beats ours
    assert ".hidden" not in files
    names = {p.stem for p in (DEFAULT_PROMPTS / "zh").glob("*.wav")}
    names |= {p.stem for p in (DEFAULT_PROMPTS / "en").glob("*.wav")}
    assert names <= files.keys()
    for name in sorted(names):
        assert files[name] == library.path(name, "en"), name
    assert "nothing" not in files


def test_prompt_text_lines_are_checked() -> None:
    assert parse_prompt_text("# c\n\nhi\tHello\n") == {"hi": "Hello"}
    with pytest.raises(ValueError, match="line 1"):
        parse_prompt_text("no tab here\n")
