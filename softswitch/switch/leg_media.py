"""A call leg's media figures as `/api/calls` and `softswitch calls --media` show them.

What a VoIP engineer checks first on a live call: which switch port the leg uses, which
address the phone's RTP really comes from (the latched source, RFC 4961; before latching the
address signalling gave), packets and bytes each way, and the receive quality: loss and
interarrival jitter as we measure them (RFC 3550 A.3, A.8) and as the phone reports them
back in its RTCP receiver report block (RFC 3550 6.4.1), plus the datagrams dropped as
malformed or from strangers (RTP bleed attempts).
"""

from __future__ import annotations

from typing import Any

from media import StreamStats

__all__ = ["RTP_HEADER_BYTES", "leg_media"]

RTP_HEADER_BYTES = 12  # every packet we send has the fixed header only (no CSRC, no extension)


def leg_media(stats: StreamStats) -> dict[str, Any]:
    """One leg's figures; byte counts are whole RTP packets (header and payload) both ways."""
    rx = stats.receiver
    report = stats.remote_report
    expected = rx.packets_expected if rx else 0
    lost = max(0, rx.cumulative_lost) if rx else 0
    return {
        "local_address": stats.local[0],
        "local_port": stats.local[1],
        "remote_address": stats.remote[0] if stats.remote else None,
        "remote_port": stats.remote[1] if stats.remote else None,
        "latched": stats.latched,
        "packets_in": stats.packets_received,
        "bytes_in": stats.octets_received,
        # RtpSender counts payload octets (what an SR carries); add the fixed headers back
        "packets_out": stats.packets_sent,
        "bytes_out": stats.octets_sent + RTP_HEADER_BYTES * stats.packets_sent,
        "lost": lost,
        "loss": round(lost / expected, 5) if expected else 0.0,
        "jitter_ms": round(rx.jitter_seconds * 1000, 2) if rx else None,
        "malformed": stats.malformed,
        "foreign": stats.foreign,
        "rtcp_received": stats.rtcp_received,
        # what the phone says it receives from us (None until its first RTCP report)
        "remote_lost": report.cumulative_lost if report else None,
        "remote_loss": round(report.fraction_lost / 256, 4) if report else None,
        "remote_jitter_ms": (round(report.jitter * 1000 / stats.clock_rate, 2)
                             if report else None),
    }
