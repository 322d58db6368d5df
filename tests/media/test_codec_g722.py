"""G.722 against reference vectors, frame-split invariance, and audio quality."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from media.codecs import get_codec
from media.codecs.g722 import G722, G722Decoder, G722Encoder

# Reference output of an independent ITU-validated G.722 implementation (libg722, used
# once offline to make the file) for the deterministic signal below.
REFERENCE = Path(__file__).parent / "data" / "g722_reference.npz"


def signal() -> np.ndarray:
    n = np.arange(8000)
    # chirp-like sweep 100 Hz..7.5 kHz, a low tone, LCG noise bursts, full-scale square, silence
    state = 12345
    noise = np.empty(8000, np.int64)
    for i in range(8000):
        state = (state * 1103515245 + 12345) & 0x7FFFFFFF
        noise[i] = (state >> 15) - 32768
    sweep = np.round(9000 * np.sin(2 * np.pi * (100 * n + 0.45 * n * n) / 16000)).astype(np.int64)
    low = np.round(6000 * np.sin(2 * np.pi * 300 * n / 16000)).astype(np.int64)
    x = sweep + low
    x[2000:3000] = noise[2000:3000]
    x[3000:3800] = 0
    x[3800:5000] = np.where((n[3800:5000] // 20) % 2, 32767, -32768)
    x[5000:] += noise[5000:] // 8
    return np.clip(x, -32768, 32767).astype(np.int16)


@pytest.fixture(scope="module")
def reference() -> dict[str, np.ndarray]:
    with np.load(REFERENCE) as data:
        return {"code": data["code"].tobytes(), "decoded": data["decoded"]}


def test_encoder_is_bit_exact_with_reference(reference: dict) -> None:
    pcm = signal()
    enc = G722Encoder()
    code = b"".join(enc.encode(pcm[i : i + 320]) for i in range(0, pcm.size, 320))
    assert len(code) == 4000
    first_bad = next((i for i, (a, b) in enumerate(zip(code, reference["code"])) if a != b), None)
    assert first_bad is None, f"first differing code byte at {first_bad}"


def test_decoder_is_bit_exact_with_reference(reference: dict) -> None:
    dec = G722Decoder()
    code = reference["code"]
    out = np.concatenate([dec.decode(code[i : i + 160]) for i in range(0, len(code), 160)])
    assert out.dtype == np.int16
    bad = np.flatnonzero(out != reference["decoded"])
    assert bad.size == 0, f"first differing sample at {bad[:1]}"


def test_frame_boundaries_do_not_matter() -> None:
    pcm = signal()[:1600]
    whole = G722Encoder().encode(pcm)
    enc = G722Encoder()
    split = b"".join(enc.encode(pcm[i : i + 2 * k]) for i, k in ((0, 7), (14, 100), (214, 693)))
    assert split == whole


def test_sine_quality_after_codec_delay() -> None:
    codec = get_codec("G722")
    t = np.arange(16000) / 16000
    pcm = (12000 * np.sin(2 * np.pi * 1000 * t)).astype(np.int16)
    out = np.concatenate([codec.decode(codec.encode(pcm[i : i + 320]))
                          for i in range(0, pcm.size, 320)]).astype(float)
    delay = 22  # QMF analysis + synthesis: 23 taps each at 16 kHz, less one
    ref = pcm[: pcm.size - delay].astype(float)
    got = out[delay:]
    snr = 10 * np.log10(np.sum(ref[4000:] ** 2) / np.sum((ref[4000:] - got[4000:]) ** 2))
    assert snr > 25


def test_codec_face_and_per_stream_instances() -> None:
    a, b = get_codec("g722"), get_codec("G722")
    assert a is not b
    assert (a.name, a.clock_rate, a.sample_rate, a.static_payload_type) == ("G722", 8000, 16000, 9)
    assert len(a.encode(np.zeros(320, np.int16))) == 160
    assert a.decode(bytes(160)).shape == (320,)
    with pytest.raises(ValueError, match="pairs"):
        a.encode(np.zeros(3, np.int16))


@pytest.mark.parametrize("native", [True, False])
def test_both_backends_match_the_reference_frame_by_frame(
    native: bool, reference: dict[str, np.ndarray]
) -> None:
    """libg722 (the fast path) and the pure-Python reference give the same bytes and
    samples, so which one runs never changes the audio."""
    codec = G722(native=native)
    assert codec.native is native
    pcm = signal()
    code = b"".join(codec.encode(pcm[i : i + 320]) for i in range(0, pcm.size, 320))
    assert code == reference["code"]
    decoded = np.concatenate([codec.decode(code[i : i + 160]) for i in range(0, len(code), 160)])
    assert np.array_equal(decoded, reference["decoded"])


def test_native_decoder_survives_any_payload() -> None:
    codec = G722()
    rng = np.random.default_rng(7)
    for size in (0, 1, 159, 161, 1500):
        out = codec.decode(rng.integers(0, 256, size, dtype=np.uint8).tobytes())
        assert out.dtype == np.int16 and out.shape == (2 * size,)
