"""DTMF: RFC 4733 telephone-events and in-band (Goertzel) detection, both yielding
:class:`DtmfDigit` events with timestamps, each press reported once."""

from media.dtmf.events import DIGITS, DtmfDigit
from media.dtmf.inband import InbandDtmfDetector, dtmf_tone, goertzel_power
from media.dtmf.rfc4733 import (
    ScheduledEvent,
    TelephoneEvent,
    TelephoneEventParseError,
    TelephoneEventReceiver,
    TelephoneEventSender,
)

__all__ = [
    "DIGITS",
    "DtmfDigit",
    "InbandDtmfDetector",
    "ScheduledEvent",
    "TelephoneEvent",
    "TelephoneEventParseError",
    "TelephoneEventReceiver",
    "TelephoneEventSender",
    "dtmf_tone",
    "goertzel_power",
]
