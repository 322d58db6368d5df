"""G.722 wideband codec at 64 kbit/s (ITU-T G.722 mode 1): sub-band ADPCM, own implementation.

Structure (G.722 sections 3 and 4):
- A 24-tap QMF splits 16 kHz audio into a low band (0-4 kHz) and a high band (4-8 kHz), each
  at 8 kHz. The filters are linear and do not depend on the ADPCM state, so both QMFs run
  vectorised over a whole frame with numpy; only the adaptive loops are per-sample Python.
- The low band is coded with 6 bits per sample (its 4 most significant bits drive the
  predictor, so 48/56 kbit/s decoders can drop bits), the high band with 2 bits.
- Each band has a pole-zero predictor (2 poles, 6 zeros) with sign-sign adaptation and a
  log-domain step size (blocks LOGSCL/SCALEL, LOGSCH/SCALEH, and the shared block 4).

All arithmetic is the standard's 16-bit fixed point, so output is bit-exact with the ITU
algorithm. Encoder and decoder are stateful per stream direction: use one instance per
direction. RTP clock rate is 8000 although audio is 16 kHz (RFC 3551 section 4.5.2).

Speed: the per-sample loops cost about 2.4 ms of Python per 20 ms frame, too slow for more than
a few wideband calls. `G722` therefore runs on libg722 (the `G722` package, C, public domain)
when it is installed, which is a dependency, and falls back to this module on a platform
without its wheel. The two are bit-exact with each other (tests/media/test_codec_g722.py), so
the choice never changes a sample; this module stays the readable reference.
"""

from __future__ import annotations

from bisect import bisect_right
from typing import Any

import numpy as np

try:  # libg722: the same algorithm in C, about 70 times faster
    from G722 import G722 as _LibG722
except ImportError:  # pragma: no cover - only on platforms without the wheel
    _LibG722 = None

__all__ = ["G722", "G722Decoder", "G722Encoder"]

# QMF coefficients h0..h23 (G.722 Table 11/G.722), symmetric, sum 2**13
_QMF = np.array([3, -11, -11, 53, 12, -156, 32, 362, -210, -805, 951, 3876,
                 3876, 951, -805, -210, 362, 32, -156, 12, 53, -11, -11, 3], dtype=np.int64)
_H_EVEN = _QMF[0::2]
_H_ODD = _QMF[1::2]

# low band quantizer decision levels (Table 14/G.722), codes for negative/positive errors
_Q6 = (0, 35, 72, 110, 150, 190, 233, 276, 323, 370, 422, 473, 530, 587, 650, 714, 786,
       858, 940, 1023, 1121, 1219, 1339, 1458, 1612, 1765, 1980, 2195, 2557, 2919)
_Q6_SEARCH = _Q6[1:30]
_ILN = (0, 63, 62, 31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 19, 18, 17, 16, 15, 14,
        13, 12, 11, 10, 9, 8, 7, 6, 5, 4)
_ILP = (0, 61, 60, 59, 58, 57, 56, 55, 54, 53, 52, 51, 50, 49, 48, 47, 46, 45, 44, 43, 42,
        41, 40, 39, 38, 37, 36, 35, 34, 33, 32)
# inverse quantizers: 4-bit (predictor path) and 6-bit (output path) for the low band
_QM4 = (0, -20456, -12896, -8968, -6288, -4240, -2584, -1200,
        20456, 12896, 8968, 6288, 4240, 2584, 1200, 0)
_QM6 = (-136, -136, -136, -136, -24808, -21904, -19008, -16704, -14984, -13512, -12280,
        -11192, -10232, -9360, -8576, -7856, -7192, -6576, -6000, -5456, -4944, -4464, -4008,
        -3576, -3168, -2776, -2400, -2032, -1688, -1360, -1040, -728, 24808, 21904, 19008,
        16704, 14984, 13512, 12280, 11192, 10232, 9360, 8576, 7856, 7192, 6576, 6000, 5456,
        4944, 4464, 4008, 3576, 3168, 2776, 2400, 2032, 1688, 1360, 1040, 728, 432, 136,
        -432, -136)
# log step-size adaptation: code -> magnitude class -> increment
_RL42 = (0, 7, 6, 5, 4, 3, 2, 1, 7, 6, 5, 4, 3, 2, 1, 0)
_WL = (-60, -30, 58, 172, 334, 538, 1198, 3042)
_ILB = (2048, 2093, 2139, 2186, 2233, 2282, 2332, 2383, 2435, 2489, 2543, 2599, 2656, 2714,
        2774, 2834, 2896, 2960, 3025, 3091, 3158, 3228, 3298, 3371, 3444, 3520, 3597, 3676,
        3756, 3838, 3922, 4008)
# high band: 2-bit quantizer and its adaptation
_IHN = (0, 1, 0)
_IHP = (0, 3, 2)
_QM2 = (-7408, -1616, 7408, 1616)
_RH2 = (2, 1, 2, 1)
_WH = (0, -214, 798)


def _sat(x: int) -> int:
    return -32768 if x < -32768 else 32767 if x > 32767 else x


class _Band:
    """Adaptive predictor and step size of one sub-band (G.722 block 4 and scale factor).

    Built with its band's tables: the inverse quantizer used for prediction (4-bit QM4 for
    the low band, QM2 for the high band), the log step increment per code (WL via RL42,
    WH via RH2), the scale-factor ceiling and SCALEL/SCALEH's shift base.
    """

    __slots__ = ("s", "sz", "r1", "p1", "p2", "a1", "a2", "b", "d", "nb", "det",
                 "_inverse", "_increment", "_nb_max", "_shift")

    def __init__(self, det: int, inverse: tuple[int, ...], increment: tuple[int, ...],
                 nb_max: int, shift: int) -> None:
        self.s = self.sz = 0
        self.r1 = self.p1 = self.p2 = 0
        self.a1 = self.a2 = 0
        self.b = (0, 0, 0, 0, 0, 0)  # zero-predictor coefficients b1..b6
        self.d = (0, 0, 0, 0, 0, 0)  # past quantized differences d(j-1)..d(j-6)
        self.nb = 0
        self.det = det
        self._inverse = inverse
        self._increment = increment
        self._nb_max = nb_max
        self._shift = shift

    def adapt(self, code: int) -> int:
        """Inverse quantizer, LOG-SCALE, SCALE and block 4 for one code; returns d."""
        d = (self.det * self._inverse[code]) >> 15
        nb = ((self.nb * 32512) >> 15) + self._increment[code]
        nb = 0 if nb < 0 else self._nb_max if nb > self._nb_max else nb
        self.nb = nb
        wd1 = _ILB[(nb >> 6) & 31]
        wd2 = self._shift - (nb >> 11)
        self.det = (wd1 << -wd2 if wd2 < 0 else wd1 >> wd2) << 2
        self.update(d)
        return d

    def update(self, d: int) -> None:
        """Block 4: reconstruct, adapt poles and zeros, predict the next sample.

        Saturations the standard writes but that the value ranges make impossible (the
        zero-coefficient update, doubling |d| <= 7249, the pole-1 update) are left out:
        this loop is the codec's hot path, and the result stays bit-exact.
        """
        r0 = self.s + d
        r0 = -32768 if r0 < -32768 else 32767 if r0 > 32767 else r0
        p0 = self.sz + d
        p0 = -32768 if p0 < -32768 else 32767 if p0 > 32767 else p0
        neg0, neg1 = p0 < 0, self.p1 < 0
        a1, a2 = self.a1, self.a2
        # UPPOL2
        wd1 = a1 << 2
        wd1 = -32768 if wd1 < -32768 else 32767 if wd1 > 32767 else wd1
        wd2 = -wd1 if neg0 == neg1 else wd1
        if wd2 > 32767:
            wd2 = 32767
        wd3 = (wd2 >> 7) + (128 if neg0 == (self.p2 < 0) else -128) + ((a2 * 32512) >> 15)
        ap2 = -12288 if wd3 < -12288 else 12288 if wd3 > 12288 else wd3
        # UPPOL1
        ap1 = (192 if neg0 == neg1 else -192) + ((a1 * 32640) >> 15)
        limit = 15360 - ap2
        ap1 = limit if ap1 > limit else -limit if ap1 < -limit else ap1
        # UPZERO (unrolled: six taps)
        b0, b1, b2, b3, b4, b5 = self.b
        q0, q1, q2, q3, q4, q5 = self.d
        b0 = (b0 * 32640) >> 15
        b1 = (b1 * 32640) >> 15
        b2 = (b2 * 32640) >> 15
        b3 = (b3 * 32640) >> 15
        b4 = (b4 * 32640) >> 15
        b5 = (b5 * 32640) >> 15
        if d:
            negd = d < 0
            b0 += 128 if (q0 < 0) == negd else -128
            b1 += 128 if (q1 < 0) == negd else -128
            b2 += 128 if (q2 < 0) == negd else -128
            b3 += 128 if (q3 < 0) == negd else -128
            b4 += 128 if (q4 < 0) == negd else -128
            b5 += 128 if (q5 < 0) == negd else -128
        # DELAYA
        self.b = (b0, b1, b2, b3, b4, b5)
        self.d = (d, q0, q1, q2, q3, q4)
        r2, self.r1 = self.r1, r0
        self.p2, self.p1 = self.p1, p0
        self.a1, self.a2 = ap1, ap2
        # FILTEP, FILTEZ, PREDIC
        w1 = r0 + r0
        w1 = -32768 if w1 < -32768 else 32767 if w1 > 32767 else w1
        w2 = r2 + r2
        w2 = -32768 if w2 < -32768 else 32767 if w2 > 32767 else w2
        sp = ((ap1 * w1) >> 15) + ((ap2 * w2) >> 15)
        sp = -32768 if sp < -32768 else 32767 if sp > 32767 else sp
        sz = (((b0 * 2 * d) >> 15) + ((b1 * 2 * q0) >> 15) + ((b2 * 2 * q1) >> 15)
              + ((b3 * 2 * q2) >> 15) + ((b4 * 2 * q3) >> 15) + ((b5 * 2 * q4) >> 15))
        sz = -32768 if sz < -32768 else 32767 if sz > 32767 else sz
        self.sz = sz
        s_ = sp + sz
        self.s = -32768 if s_ < -32768 else 32767 if s_ > 32767 else s_


def _low_band() -> _Band:
    return _Band(32, _QM4, tuple(_WL[_RL42[c]] for c in range(16)), 18432, 8)


def _high_band() -> _Band:
    return _Band(8, _QM2, tuple(_WH[_RH2[c]] for c in range(4)), 22528, 10)


class G722Encoder:
    """16 kHz int16 -> one G.722 byte per two samples (mode 1, 64 kbit/s)."""

    def __init__(self) -> None:
        self._history = np.zeros(22, np.int64)  # last 22 input samples for the QMF
        self._low = _low_band()
        self._high = _high_band()

    def encode(self, pcm: np.ndarray) -> bytes:
        x = np.asarray(pcm, dtype=np.int16)
        if x.size % 2:
            raise ValueError(f"G.722 encodes sample pairs; got {x.size} samples")
        buf = np.concatenate([self._history, x.astype(np.int64)])
        self._history = buf[-22:]
        pairs = x.size // 2
        # xA: even taps on the newest sample of each pair and back; xB: odd taps
        xa = np.zeros(pairs, np.int64)
        xb = np.zeros(pairs, np.int64)
        newest = np.arange(pairs) * 2 + 23  # index of x(j) in buf
        for i in range(12):
            xa += _H_EVEN[i] * buf[newest - 2 * i]
            xb += _H_ODD[i] * buf[newest - 2 * i - 1]
        xl = ((xa + xb) >> 14).tolist()
        xh = ((xa - xb) >> 14).tolist()
        low, high = self._low, self._high
        out = bytearray(pairs)
        for n in range(pairs):
            # low band: 6-bit quantizer, 4-bit embedded code drives the predictor
            el = _sat(xl[n] - low.s)
            wd = el if el >= 0 else -(el + 1)
            mil = 1 + bisect_right(_Q6_SEARCH, (((wd + 1) << 12) - 1) // low.det)
            ilow = _ILN[mil] if el < 0 else _ILP[mil]
            low.adapt(ilow >> 2)
            # high band: 2-bit quantizer
            eh = _sat(xh[n] - high.s)
            wd = eh if eh >= 0 else -(eh + 1)
            mih = 2 if wd >= (564 * high.det) >> 12 else 1
            ihigh = _IHN[mih] if eh < 0 else _IHP[mih]
            high.adapt(ihigh)
            out[n] = (ihigh << 6) | ilow
        return bytes(out)


class G722Decoder:
    """G.722 bytes (mode 1) -> 16 kHz int16, two samples per byte."""

    def __init__(self) -> None:
        self._history = np.zeros((2, 11), np.int64)  # past xd and xs for the receive QMF
        self._low = _low_band()
        self._high = _high_band()

    def decode(self, payload: bytes) -> np.ndarray:
        low, high = self._low, self._high
        rl = [0] * len(payload)
        rh = [0] * len(payload)
        for n, code in enumerate(payload):
            ilr = code & 0x3F
            ih = code >> 6
            r = low.s + ((low.det * _QM6[ilr]) >> 15)
            rl[n] = -16384 if r < -16384 else 16383 if r > 16383 else r
            low.adapt(ilr >> 2)
            r = high.s + high.adapt(ih)  # s before the update: read it first
            rh[n] = -16384 if r < -16384 else 16383 if r > 16383 else r
        return self._synthesize(np.array(rl, np.int64), np.array(rh, np.int64))

    def _synthesize(self, rl: np.ndarray, rh: np.ndarray) -> np.ndarray:
        """Receive QMF: interleave filtered difference and sum signals into 16 kHz."""
        xd = np.concatenate([self._history[0], rl - rh])
        xs = np.concatenate([self._history[1], rl + rh])
        self._history = np.stack([xd[-11:], xs[-11:]])
        n = rl.size
        even = np.zeros(n, np.int64)
        odd = np.zeros(n, np.int64)
        for i in range(12):
            even += _H_EVEN[i] * xd[11 - i : 11 - i + n]
            odd += _H_ODD[i] * xs[11 - i : 11 - i + n]
        out = np.empty(2 * n, np.int64)
        out[0::2] = even >> 11
        out[1::2] = odd >> 11
        return np.clip(out, -32768, 32767).astype(np.int16)


class G722:
    """The :class:`~media.codecs.Codec` face of G.722: one encoder and one decoder state."""

    name = "G722"
    clock_rate = 8000
    sample_rate = 16000
    static_payload_type: int | None = 9

    def __init__(self, *, native: bool = True) -> None:
        """``native=False`` forces the pure-Python coder (tests compare the two)."""
        self._lib: Any = _LibG722(16000, 64000) if native and _LibG722 is not None else None
        self._encoder = G722Encoder()
        self._decoder = G722Decoder()

    @property
    def native(self) -> bool:
        """True when libg722 does the work."""
        return self._lib is not None

    def encode(self, pcm: np.ndarray) -> bytes:
        if self._lib is None:
            return self._encoder.encode(pcm)
        x = np.ascontiguousarray(pcm, dtype=np.int16)
        if x.size % 2:
            raise ValueError(f"G.722 encodes sample pairs; got {x.size} samples")
        return bytes(self._lib.encode(x))

    def decode(self, payload: bytes) -> np.ndarray:
        if self._lib is None:
            return self._decoder.decode(payload)
        return np.frombuffer(self._lib.decode(bytes(payload)), dtype=np.int16)

    def __repr__(self) -> str:
        return f"G722(native={self.native})"
