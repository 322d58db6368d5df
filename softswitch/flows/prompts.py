"""Prompt names to audio files: ``prompts/<language>/<name>.wav``, with a fallback language.

Flows name prompts ("welcome", "n5", "yuan"); the library turns a name into the file for the
call's language, so a hospital replaces a prompt by dropping a real recording with the same
name into its own prompt directory (listed before ours in ``roots``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from softswitch.flows.errors import PromptNotFound

__all__ = ["DEFAULT_PROMPTS", "PromptLibrary", "parse_prompt_text"]

DEFAULT_PROMPTS = Path(__file__).resolve().parents[2] / "prompts"
_SUFFIXES = (".wav", ".flac")


class PromptLibrary:
    """Looks prompts up in ``roots`` in order; ``fallback`` is tried after the call's language."""

    def __init__(self, roots: Sequence[Path] = (DEFAULT_PROMPTS,), fallback: str = "zh") -> None:
        self.roots = tuple(Path(r) for r in roots)
        self.fallback = fallback

    def path(self, name: str, language: str) -> Path:
        """The file for ``name``; raises PromptNotFound naming where it looked."""
        if not name or "/" in name or "\\" in name or name.startswith("."):
            raise PromptNotFound(f"invalid prompt name {name!r}")
        languages = [language] if language == self.fallback else [language, self.fallback]
        for lang in languages:
            for root in self.roots:
                for suffix in _SUFFIXES:
                    candidate = root / lang / f"{name}{suffix}"
                    if candidate.is_file():
                        return candidate
        where = ", ".join(str(r) for r in self.roots)
        raise PromptNotFound(f"no prompt {name!r} for {'/'.join(languages)} under {where}")

    def files(self, language: str) -> dict[str, Path]:
        """Every prompt name to the file `path` would give for ``language``, read from the
        disk once: code on the event loop looks names up here instead (blocking file
        system calls there would stall every call's media)."""
        languages = [language] if language == self.fallback else [language, self.fallback]
        found: dict[str, Path] = {}
        for lang in reversed(languages):  # lowest priority first: later finds replace it
            for root in reversed(self.roots):
                for suffix in reversed(_SUFFIXES):
                    folder = root / lang
                    if not folder.is_dir():
                        continue
                    for candidate in folder.glob(f"*{suffix}"):
                        if candidate.is_file() and not candidate.name.startswith("."):
                            found[candidate.stem] = candidate
        return found

    def text(self, language: str) -> dict[str, str]:
        """The ``name<TAB>text`` lines of ``<root>/<language>.txt`` (later roots first)."""
        texts: dict[str, str] = {}
        for root in reversed(self.roots):
            source = root / f"{language}.txt"
            if source.is_file():
                texts.update(parse_prompt_text(source.read_text(encoding="utf-8")))
        return texts


def parse_prompt_text(content: str) -> dict[str, str]:
    """``name<TAB>text`` per line; blank lines and ``#`` comments skipped."""
    texts: dict[str, str] = {}
    for number, line in enumerate(content.splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        name, sep, text = line.partition("\t")
        if not sep or not name or not text.strip():
            raise ValueError(f"line {number}: expected name<TAB>text, got {line!r}")
        texts[name] = text.strip()
    return texts
