"""Transaction timer values (RFC 3261 section 17 and table 4, RFC 6026 Timers L and M).

`TimerSettings` holds the knobs an operator may change (T1, T2, T4, ...). `Timers` holds the
derived durations for one kind of transport, named as in the RFC. Over reliable transports
(TCP, TLS, WS) the retransmission timers A, E and G are not used (None) and the wait states end
at once (D, I, J and K are 0), because the transport already delivers every message.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["TimerSettings", "Timers"]


@dataclass(frozen=True, slots=True)
class Timers:
    """Durations in seconds for the transactions of one transport kind; None = not used."""

    T1: float
    T2: float
    A: float | None  # INVITE request retransmit, initially T1
    B: float  # INVITE client timeout
    C: float  # INVITE client wait in Proceeding (our guard; RFC 3261 16.6 Timer C)
    D: float  # wait for response retransmissions in Completed (INVITE client)
    E: float | None  # non-INVITE request retransmit, initially T1
    F: float  # non-INVITE client timeout
    G: float | None  # INVITE final response retransmit, initially T1
    H: float  # wait for ACK receipt
    I: float
    J: float  # wait for non-INVITE request retransmissions
    K: float  # wait for non-INVITE response retransmissions
    L: float  # RFC 6026: INVITE server in Accepted
    M: float  # RFC 6026: INVITE client in Accepted
    trying: float  # 17.2.1: send 100 Trying when the TU has not answered an INVITE by then
    cancel_guard: float  # 9.1: give up on an INVITE this long after CANCEL without a final


@dataclass(frozen=True, slots=True)
class TimerSettings:
    """Base values: T1 (RTT estimate), T2 (max non-INVITE retransmit interval), T4 (max time a
    message stays in the network). `d` is Timer D for unreliable transports (at least 32 s);
    `c` bounds how long an INVITE client waits in Proceeding for a final response; `trying` is
    the 200 ms of 17.2.1."""

    t1: float = 0.5
    t2: float = 4.0
    t4: float = 5.0
    d: float = 32.0
    c: float = 180.0
    trying: float = 0.2

    def __post_init__(self) -> None:
        if not 0 < self.t1 <= self.t2:
            raise ValueError("timer settings need 0 < T1 <= T2")
        if self.t4 <= 0 or self.d < 0 or self.c <= 0 or self.trying < 0:
            raise ValueError("T4 and C must be positive, D and trying not negative")

    def derive(self, reliable: bool) -> Timers:
        """The timer table for a reliable (TCP/TLS/WS) or an unreliable (UDP) transport."""
        t1 = self.t1
        long = 64 * t1
        return Timers(
            T1=t1,
            T2=self.t2,
            A=None if reliable else t1,
            B=long,
            C=self.c,
            D=0.0 if reliable else self.d,
            E=None if reliable else t1,
            F=long,
            G=None if reliable else t1,
            H=long,
            I=0.0 if reliable else self.t4,
            J=0.0 if reliable else long,
            K=0.0 if reliable else self.t4,
            L=long,
            M=long,
            trying=self.trying,
            cancel_guard=long,
        )
