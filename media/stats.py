"""Per-stream RTP statistics for RTCP reports and monitoring (RFC 3550 appendix A).

Pure: each call takes the arrival time as ``now`` (seconds, any monotonic origin), so tests
drive it with a fake clock.
"""

from __future__ import annotations

from dataclasses import dataclass

from media.rtcp import ReportBlock, SenderReport

__all__ = ["ReceiverSnapshot", "ReceiverStats", "SenderStats", "round_trip_time"]

MAX_DROPOUT = 3000  # RFC 3550 A.1: larger forward jumps need confirmation
MAX_MISORDER = 100  # within this far back a packet is late, not a restart
SEQ_MOD = 1 << 16


@dataclass(frozen=True, slots=True)
class ReceiverSnapshot:
    """What monitoring shows about one received stream."""

    ssrc: int
    packets_received: int
    packets_expected: int
    cumulative_lost: int
    highest_sequence: int
    jitter_seconds: float


class ReceiverStats:
    """Loss and interarrival jitter of one source, as RFC 3550 A.1, A.3 and A.8 compute them.

    Unlike A.1 there is no probation: the first packet starts the stream, because our
    peers are signalled and latched before media flows. A jump of more than MAX_DROPOUT
    is believed only when the next packet follows it (the peer restarted its sequence).
    """

    __slots__ = (
        "_bad_seq",
        "_base_seq",
        "_cycles",
        "_expected_prior",
        "_jitter",
        "_last_sr",
        "_last_sr_at",
        "_max_seq",
        "_received",
        "_received_prior",
        "_started",
        "_transit",
        "clock_rate",
        "ssrc",
    )

    def __init__(self, ssrc: int, clock_rate: int) -> None:
        self.ssrc = ssrc
        self.clock_rate = clock_rate
        self._started = False
        self._base_seq = 0
        self._max_seq = 0
        self._cycles = 0
        self._bad_seq = SEQ_MOD + 1  # "no bad sequence seen"
        self._received = 0
        self._expected_prior = 0
        self._received_prior = 0
        self._transit: float | None = None
        self._jitter = 0.0  # timestamp units
        self._last_sr = 0
        self._last_sr_at: float | None = None

    def on_packet(self, seq: int, timestamp: int, now: float) -> bool:
        """Account one arriving packet; False when it was judged invalid and not counted.

        Runs for every packet of every stream, relayed ones included, so the in-order case
        is tested first and the A.8 jitter update is inlined (same arithmetic, same result).
        """
        max_seq = self._max_seq
        udelta = (seq - max_seq) & 0xFFFF
        if udelta < MAX_DROPOUT and self._started:
            if seq < max_seq:
                self._cycles += SEQ_MOD
            self._max_seq = seq
        elif not self._started:
            self._restart(seq)
        elif udelta <= SEQ_MOD - MAX_MISORDER:
            if seq != self._bad_seq:
                self._bad_seq = (seq + 1) & 0xFFFF
                return False
            self._restart(seq)  # two in a row: the sender really jumped
        # else: a duplicate or a late packet; counted, max unchanged
        self._received += 1
        # RFC 3550 A.8: J += (|D| - J) / 16 with D the change in relative transit time
        transit = now * self.clock_rate - timestamp
        last = self._transit
        self._transit = transit
        if last is not None:
            # fold 32-bit timestamp wraparound back into a small difference; the shift up
            # and back is kept even when no fold is needed so results match bit for bit
            d = transit - last + 2147483648.0
            if not 0.0 <= d < 4294967296.0:
                d %= 4294967296.0
            d -= 2147483648.0
            self._jitter += ((d if d >= 0.0 else -d) - self._jitter) / 16
        return True

    def on_sender_report(self, report: SenderReport, now: float) -> None:
        """Remember the SR so our next block carries LSR and DLSR for the sender's RTT."""
        self._last_sr = (report.ntp_timestamp >> 16) & 0xFFFFFFFF
        self._last_sr_at = now

    @property
    def extended_highest_sequence(self) -> int:
        return self._cycles + self._max_seq

    @property
    def expected(self) -> int:
        return self.extended_highest_sequence - self._base_seq + 1 if self._started else 0

    @property
    def cumulative_lost(self) -> int:
        """Expected minus received, clamped to the 24-bit signed field."""
        return max(-0x800000, min(0x7FFFFF, self.expected - self._received))

    @property
    def jitter(self) -> int:
        """Interarrival jitter in timestamp units, as a report block carries it."""
        return int(self._jitter)

    def report_block(self, now: float) -> ReportBlock:
        """A report block; fraction lost covers the interval since the previous call (A.3)."""
        expected = self.expected
        expected_interval = expected - self._expected_prior
        received_interval = self._received - self._received_prior
        self._expected_prior = expected
        self._received_prior = self._received
        lost_interval = expected_interval - received_interval
        fraction = 0
        if expected_interval > 0 and lost_interval > 0:
            fraction = (lost_interval << 8) // expected_interval
        dlsr = 0
        if self._last_sr_at is not None:
            dlsr = int((now - self._last_sr_at) * 65536) & 0xFFFFFFFF
        return ReportBlock(
            ssrc=self.ssrc,
            fraction_lost=min(fraction, 255),
            cumulative_lost=self.cumulative_lost,
            highest_sequence=self.extended_highest_sequence & 0xFFFFFFFF,
            jitter=self.jitter,
            last_sr=self._last_sr,
            delay_since_last_sr=dlsr,
        )

    def snapshot(self) -> ReceiverSnapshot:
        return ReceiverSnapshot(
            ssrc=self.ssrc,
            packets_received=self._received,
            packets_expected=self.expected,
            cumulative_lost=self.cumulative_lost,
            highest_sequence=self.extended_highest_sequence,
            jitter_seconds=self._jitter / self.clock_rate,
        )

    def _restart(self, seq: int) -> None:
        self._started = True
        self._base_seq = seq
        self._max_seq = seq
        self._bad_seq = SEQ_MOD + 1
        self._cycles = 0
        self._received = 0
        self._expected_prior = 0
        self._received_prior = 0


class SenderStats:
    """Counts what we send, for the sender-info part of an SR (RFC 3550 section 6.4.1)."""

    def __init__(self, ssrc: int) -> None:
        self.ssrc = ssrc
        self.packet_count = 0
        self.octet_count = 0

    def on_sent(self, payload_length: int) -> None:
        """Count one sent packet; octets are payload only, without headers or padding."""
        self.packet_count += 1
        self.octet_count += payload_length

    def sender_report(
        self, ntp_timestamp: int, rtp_timestamp: int, reports: tuple[ReportBlock, ...] = ()
    ) -> SenderReport:
        """An SR stamped with the caller's wall clock and the matching RTP timestamp."""
        return SenderReport(
            self.ssrc, ntp_timestamp, rtp_timestamp, self.packet_count, self.octet_count, reports
        )


def round_trip_time(block: ReportBlock, ntp_now: int) -> float | None:
    """RTT in seconds from a block echoing our SR (RFC 3550 section 6.4.1), None if no SR."""
    if block.last_sr == 0:
        return None
    middle = (ntp_now >> 16) & 0xFFFFFFFF
    rtt = (middle - block.last_sr - block.delay_since_last_sr) & 0xFFFFFFFF
    return rtt / 65536
