"""Per-20 ms-frame cost of the media primitives: G.711/G.722 codecs, DTMF Goertzel,
resampling, the jitter buffer and RTP parsing.

Run: ``.venv/bin/python -m tests.bench.codec_micro``. Each figure is the median over
``REPEATS`` timeit runs of the per-call time in microseconds. The last line printed is
one JSON object with every figure, for docs/benchmarks.md.
"""

from __future__ import annotations

import json
import platform
import statistics
import timeit
from collections.abc import Callable

import numpy as np

from media.codecs import G722, Resampler, get_codec
from media.dtmf import InbandDtmfDetector, dtmf_tone
from media.jitter import JitterBuffer
from media.rtp import RtpPacket

REPEATS = 7


def median_us(fn: Callable[[], object], number: int) -> float:
    """Median per-call time in microseconds over REPEATS runs of ``number`` calls."""
    runs = timeit.repeat(fn, number=number, repeat=REPEATS)
    return round(statistics.median(runs) / number * 1e6, 2)


def speech_like(samples: int, rate: int) -> np.ndarray:
    t = np.arange(samples) / rate
    x = 6000 * np.sin(2 * np.pi * 220 * t) + 3000 * np.sin(2 * np.pi * 1100 * t)
    x += np.random.default_rng(0).normal(0, 500, samples)
    return np.clip(x, -32768, 32767).astype(np.int16)


def codec_figures() -> dict[str, float]:
    out: dict[str, float] = {}
    codecs = (("pcmu", get_codec("PCMU"), 2000), ("pcma", get_codec("PCMA"), 2000),
              ("g722", G722(), 2000), ("g722_python", G722(native=False), 50))
    for label, codec, number in codecs:
        pcm = speech_like(codec.sample_rate // 50, codec.sample_rate)
        payload = codec.encode(pcm)
        out[f"{label}_encode_us"] = median_us(lambda c=codec, p=pcm: c.encode(p), number)
        out[f"{label}_decode_us"] = median_us(lambda c=codec, b=payload: c.decode(b), number)
    return out


def dtmf_figures() -> dict[str, float]:
    det = InbandDtmfDetector()
    tone = dtmf_tone("5", 20)
    speech = speech_like(160, 8000)
    return {
        "dtmf_goertzel_classify_us": median_us(lambda: det.classify(speech), 2000),
        "dtmf_goertzel_tone_frame_us": median_us(lambda: det.process(tone, 0.0), 2000),
    }


def other_figures() -> dict[str, float]:
    up = Resampler(8000, 16000)
    down = Resampler(16000, 8000)
    narrow, wide = speech_like(160, 8000), speech_like(320, 16000)
    wire = RtpPacket(0, 1, 160, 7, bytes(160)).serialize()
    jb = JitterBuffer()
    state = {"seq": 0, "now": 0.0}

    def jitter_cycle() -> None:
        seq = state["seq"]
        jb.put(RtpPacket(0, seq & 0xFFFF, (seq * 160) & 0xFFFFFFFF, 7, b""), state["now"])
        jb.get(state["now"])
        state["seq"] = seq + 1
        state["now"] += 0.02

    return {
        "resample_8k_to_16k_us": median_us(lambda: up.process(narrow), 2000),
        "resample_16k_to_8k_us": median_us(lambda: down.process(wide), 2000),
        "rtp_parse_us": median_us(lambda: RtpPacket.parse(wire), 5000),
        "rtp_serialize_us": median_us(RtpPacket.parse(wire).serialize, 5000),
        "jitter_put_get_us": median_us(jitter_cycle, 2000),
    }


def main() -> None:
    figures = {**codec_figures(), **dtmf_figures(), **other_figures()}
    width = max(map(len, figures))
    print(f"media primitives, per 20 ms frame (median of {REPEATS} runs), "
          f"Python {platform.python_version()}, numpy {np.__version__}")
    for key, value in figures.items():
        print(f"  {key:<{width}}  {value:>9.2f} us")
    print(json.dumps({"benchmark": "codec_micro", "unit": "us_per_frame", **figures}))


if __name__ == "__main__":
    main()
