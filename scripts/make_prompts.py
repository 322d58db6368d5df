#!/usr/bin/env python3
"""Render prompts/<lang>.txt into prompts/<lang>/<name>.wav with espeak-ng (8 kHz mono 16-bit).

The WAVs are committed, so a fresh machine needs no TTS to run or test the switch; this
script is for adding or changing prompts. By default only missing files are rendered (a
hospital's real recordings dropped into prompts/ are never overwritten); --all re-renders
everything. Leading and trailing silence is trimmed so concatenated number pieces flow.

    .venv/bin/python scripts/make_prompts.py [--all] [--lang zh] [NAME ...]
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

import soundfile as sf

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from softswitch.flows.prompts import parse_prompt_text
from softswitch.flows.tts import RATE, VOICES, render


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="only these prompts")
    parser.add_argument("--lang", action="append", choices=sorted(VOICES), help="languages")
    parser.add_argument("--all", action="store_true", help="re-render existing files too")
    args = parser.parse_args()
    if shutil.which("espeak-ng") is None:
        print("espeak-ng is not installed (Debian: apt-get install espeak-ng)", file=sys.stderr)
        return 1
    count = 0
    for lang in args.lang or sorted(VOICES):
        texts = parse_prompt_text((ROOT / "prompts" / f"{lang}.txt").read_text(encoding="utf-8"))
        out_dir = ROOT / "prompts" / lang
        out_dir.mkdir(parents=True, exist_ok=True)
        for name, text in texts.items():
            target = out_dir / f"{name}.wav"
            if (args.names and name not in args.names) or (target.exists() and not args.all):
                continue
            sf.write(str(target), render(text, lang), RATE, subtype="PCM_16")
            count += 1
    print(f"rendered {count} prompt(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
