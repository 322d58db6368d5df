"""G.711 against a scalar reference written from the standard's decision tables."""

from __future__ import annotations

import numpy as np
import pytest

from media.codecs import UnknownCodecError, get_codec
from media.codecs.g711 import PCMA, PCMU


def _ref_ulaw(sample: int) -> int:
    """G.711 mu-law on the 14-bit input (16-bit >> 2): segment bounds 31,95,223,...,8159."""
    mag = (~sample if sample < 0 else sample) >> 2
    bounds = [31, 95, 223, 479, 991, 2015, 4063, 8159]  # G.711 Table 2a segment ends
    steps = [2, 4, 8, 16, 32, 64, 128, 256]
    mag = min(mag, 8158)
    for seg, end in enumerate(bounds):
        if mag < end:
            start = end - 16 * steps[seg] if seg else -1  # segment 0 starts at -1 (first step 1)
            if seg == 0:
                interval = 0 if mag < 1 else 1 + (mag - 1) // 2
            else:
                interval = (mag - start) // steps[seg]
            code = (seg << 4) | min(interval, 15)
            break
    code ^= 0x7F  # transmitted bits are inverted
    return code | 0x80 if sample >= 0 else code


def _ref_alaw(sample: int) -> int:
    """G.711 A-law on the 12-bit magnitude: segment 0/1 step 1, then doubling (Table 1a)."""
    mag = (~sample if sample < 0 else sample) >> 4
    if mag < 32:
        seg, interval = (0, mag) if mag < 16 else (1, mag - 16)
    else:
        seg = mag.bit_length() - 4
        interval = (mag >> (seg - 1)) - 16
    code = (seg << 4) | interval
    if sample >= 0:
        code |= 0x80
    return code ^ 0x55


def test_pcmu_matches_reference_for_every_16_bit_sample() -> None:
    samples = np.arange(-32768, 32768, dtype=np.int32)
    ref = np.array([_ref_ulaw(int(s)) for s in samples], dtype=np.uint8)
    assert PCMU().encode(samples.astype(np.int16)) == ref.tobytes()


def test_pcma_matches_reference_for_every_16_bit_sample() -> None:
    samples = np.arange(-32768, 32768, dtype=np.int32)
    ref = np.array([_ref_alaw(int(s)) for s in samples], dtype=np.uint8)
    assert PCMA().encode(samples.astype(np.int16)) == ref.tobytes()


@pytest.mark.parametrize(
    ("codec", "sample", "code"),
    [("PCMU", 0, 0xFF), ("PCMU", -1, 0x7F), ("PCMU", 32767, 0x80), ("PCMU", -32768, 0x00),
     ("PCMA", 0, 0xD5), ("PCMA", -1, 0x55), ("PCMA", 32767, 0xAA), ("PCMA", -32768, 0x2A)],
)
def test_known_encoded_values(codec: str, sample: int, code: int) -> None:
    assert get_codec(codec).encode(np.array([sample], np.int16)) == bytes([code])


@pytest.mark.parametrize(
    ("codec", "code", "sample"),
    [("PCMU", 0xFF, 0), ("PCMU", 0x7F, 0), ("PCMU", 0x80, 32124), ("PCMU", 0x00, -32124),
     ("PCMU", 0xFE, 8), ("PCMA", 0xD5, 8), ("PCMA", 0x55, -8), ("PCMA", 0xAA, 32256),
     ("PCMA", 0x2A, -32256)],
)
def test_known_decoded_values(codec: str, code: int, sample: int) -> None:
    assert int(get_codec(codec).decode(bytes([code]))[0]) == sample


@pytest.mark.parametrize("name", ["PCMU", "PCMA"])
def test_decode_then_encode_is_identity_on_every_code(name: str) -> None:
    codec = get_codec(name)
    codes = bytes(range(256))
    again = codec.encode(codec.decode(codes))
    if name == "PCMU":  # 0x7F (-0) decodes to 0, which encodes as +0 (0xFF)
        assert again == codes.replace(b"\x7f", b"\xff")
    else:
        assert again == codes


@pytest.mark.parametrize("name", ["PCMU", "PCMA"])
def test_sine_survives_with_g711_snr(name: str) -> None:
    t = np.arange(160) / 8000
    pcm = (10000 * np.sin(2 * np.pi * 1004 * t)).astype(np.int16)
    codec = get_codec(name)
    out = codec.decode(codec.encode(pcm))
    assert out.dtype == np.int16 and out.shape == (160,)
    noise = pcm.astype(float) - out
    assert 10 * np.log10(np.sum(pcm.astype(float) ** 2) / np.sum(noise**2)) > 35


def test_get_codec_is_case_insensitive_and_shares_stateless_instances() -> None:
    assert get_codec("pcmu") is get_codec("PCMU")
    assert get_codec("Pcma").name == "PCMA"
    assert get_codec("pcma").static_payload_type == 8


def test_l16_is_big_endian_and_rate_selectable() -> None:
    codec = get_codec("L16/16000")
    assert codec.sample_rate == 16000 and codec.clock_rate == 16000
    assert codec.encode(np.array([1, -2], np.int16)) == b"\x00\x01\xff\xfe"
    assert codec.decode(b"\x00\x01\xff\xfe").tolist() == [1, -2]
    assert get_codec("L16") is not get_codec("L16")
    with pytest.raises(ValueError, match="whole samples"):
        codec.decode(b"\x00")


def test_unknown_codec_raises_lookup_error() -> None:
    with pytest.raises(UnknownCodecError, match="GSM"):
        get_codec("GSM")
