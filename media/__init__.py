"""Media engine: RTP/RTCP, codecs, DTMF, mixing, prompts and recording. Knows nothing of SIP.

The SIP layer uses :class:`MediaEngine`: open a :class:`Leg` per call leg, configure the
peer's address and :class:`MediaFormat` from the SDP, then bridge, play, record and listen
for digits.
"""

from media.bridge import Bridge, Leg, MediaFormat
from media.clock import ClockDriver, ClockStats, TickClock
from media.codecs import Codec, UnknownCodecError, get_codec
from media.dtmf import DtmfDigit
from media.engine import DigitStream, EngineStats, MediaEngine, PlayResult, Recording
from media.mixer import Mixer, MixResult
from media.player import Player, PromptCache, PromptError
from media.recorder import Recorder, recover
from media.rtp import RtpPacket, RtpParseError
from media.stream import Direction, NoFreePortError, PortPool, RtpStream, StreamStats

__all__ = [
    "Bridge",
    "ClockDriver",
    "ClockStats",
    "Codec",
    "DigitStream",
    "Direction",
    "DtmfDigit",
    "EngineStats",
    "Leg",
    "MediaEngine",
    "MediaFormat",
    "MixResult",
    "Mixer",
    "NoFreePortError",
    "PlayResult",
    "Player",
    "PortPool",
    "PromptCache",
    "PromptError",
    "Recorder",
    "Recording",
    "RtpPacket",
    "RtpParseError",
    "RtpStream",
    "StreamStats",
    "TickClock",
    "UnknownCodecError",
    "get_codec",
    "recover",
]
