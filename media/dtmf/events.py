"""The digit event every DTMF source (RFC 4733, in-band, SIP INFO) hands to the layer above."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DIGITS", "DtmfDigit"]

DIGITS = "0123456789*#ABCD"  # index = RFC 4733 event code 0..15


@dataclass(frozen=True, slots=True)
class DtmfDigit:
    """One key press, reported exactly once, when it ends.

    ``timestamp`` is the caller's clock (``now``) when the press was first seen;
    ``source`` is ``"rfc4733"``, ``"inband"`` or ``"info"``.
    """

    digit: str
    timestamp: float
    duration_ms: int
    source: str

    def __post_init__(self) -> None:
        if len(self.digit) != 1 or self.digit not in DIGITS:
            raise ValueError(f"not a DTMF digit: {self.digit!r}")
        if self.duration_ms < 0:
            raise ValueError(f"negative duration {self.duration_ms}")
