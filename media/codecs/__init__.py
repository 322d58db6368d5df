"""Audio codecs behind one tiny interface: ``encode(int16 pcm) -> bytes``, ``decode(bytes)``.

``get_codec(name)`` is the factory. Stateless codecs (PCMU, PCMA) are shared singletons;
stateful ones (G.722's ADPCM predictors, L16 carries its rate) get a new instance on every
call, so each RTP stream direction must hold its own. ``Transcoder`` bridges two codecs,
resampling with ``Resampler`` when their rates differ.
"""

from __future__ import annotations

from media.codecs.base import Codec, UnknownCodecError
from media.codecs.g711 import PCMA, PCMU
from media.codecs.g722 import G722
from media.codecs.l16 import L16
from media.codecs.resample import Resampler
from media.codecs.transcode import Transcoder

__all__ = [
    "G722",
    "L16",
    "PCMA",
    "PCMU",
    "Codec",
    "Resampler",
    "Transcoder",
    "UnknownCodecError",
    "codec_names",
    "get_codec",
]

_PCMU = PCMU()
_PCMA = PCMA()


def get_codec(name: str) -> Codec:
    """Codec by SDP encoding name, case-insensitive; ``"L16/16000"`` picks an L16 rate.

    PCMU/PCMA return a shared stateless instance; G722 and L16 return a new instance per
    call (G.722 keeps ADPCM state per stream direction).
    """
    base, _, rate = name.strip().partition("/")
    key = base.upper()
    if key == "PCMU":
        return _PCMU
    if key == "PCMA":
        return _PCMA
    if key == "L16":
        return L16(int(rate) if rate else 8000)
    if key == "G722":
        return G722()
    raise UnknownCodecError(f"unknown codec {name!r}; known: {', '.join(codec_names())}")


def codec_names() -> tuple[str, ...]:
    """Encoding names ``get_codec`` understands."""
    return ("PCMU", "PCMA", "L16", "G722")
