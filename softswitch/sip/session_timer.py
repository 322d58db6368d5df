"""RFC 4028 session timers: negotiate the interval and the refresher, then keep two deadlines.

A call whose far end died without a BYE (power cut, NAT timeout) would hold a media leg and
a CDR open forever. Session timers make one side (the refresher) repeat a re-INVITE or UPDATE
every half interval; if neither side has refreshed when the interval is nearly over, the
session is torn down with a BYE. Negotiation rules, by RFC 4028 section:

- 4/5: `Session-Expires: <seconds>[;refresher=uac|uas]` and `Min-SE: <seconds>` (at least 90).
- 8/9: a UAS refuses an interval below its Min-SE with 422 carrying its Min-SE; it may shorten
  the interval, never below the request's Min-SE; without `Supported: timer` from the UAC the
  refresher must be the UAS; with it and no refresher chosen, we let the UAC refresh.
- 7.2: a UAC whose 2xx carries Session-Expires refreshes when it says `refresher=uac`; a 422
  makes it retry with an interval of at least the Min-SE the 422 carried.
- 10: the refresher refreshes at half the interval; the other side sends BYE when
  `interval - min(32, interval / 3)` passes without a refresh.

Pure bookkeeping: times come in as `now`.

The 90 s floor is the RFC's; `SessionTimerPolicy.floor` (and the `floor` arguments) lower it
only so tests can watch a dead call being torn down in seconds instead of minutes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from softswitch.sip.errors import RemoteProtocolError
from softswitch.sip.grammar import is_digits, parse_params
from softswitch.sip.message import Request, Response

__all__ = [
    "MIN_SE_FLOOR",
    "SessionIntervalTooSmall",
    "SessionTimer",
    "SessionTimerPolicy",
    "SessionTimerTerms",
    "interval_after_422",
    "negotiate_as_uac",
    "negotiate_as_uas",
    "uac_request_headers",
    "uas_response_headers",
]

MIN_SE_FLOOR = 90  # RFC 4028 section 4: no Min-SE may be lower
Refresher = Literal["uac", "uas"]


class SessionIntervalTooSmall(RemoteProtocolError):
    """Answer 422 with `Min-SE: min_se` (RFC 4028 section 8)."""

    def __init__(self, requested: int, min_se: int) -> None:
        super().__init__(f"Session-Expires {requested} is below our Min-SE {min_se}", 422)
        self.min_se = min_se

    def response_headers(self) -> list[tuple[str, str]]:
        return [("Min-SE", str(self.min_se))]


@dataclass(frozen=True, slots=True)
class SessionTimerPolicy:
    """Our side's wishes: the interval we ask for or cap at, our Min-SE, who should refresh
    when we get to choose (None: whoever the RFC's defaults pick); `floor` is the RFC's 90 s
    except in tests."""

    session_expires: int = 1800
    min_se: int = MIN_SE_FLOOR
    refresher: Refresher | None = None
    floor: int = MIN_SE_FLOOR

    def __post_init__(self) -> None:
        if self.floor < 1:
            raise ValueError("the session timer floor must be at least 1 second")
        if self.min_se < self.floor:
            raise ValueError(f"Min-SE must be at least {self.floor} seconds (RFC 4028)")
        if self.session_expires < self.min_se:
            raise ValueError("Session-Expires must not be below Min-SE")


@dataclass(frozen=True, slots=True)
class SessionTimerTerms:
    """What was agreed: the interval and whether we are the refresher."""

    interval: int
    refresher: Refresher
    local_refresher: bool
    floor: int = field(default=MIN_SE_FLOOR, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.interval < self.floor:
            raise ValueError(f"session interval {self.interval} is below {self.floor}")


def _delta_seconds(value: str, header: str) -> tuple[int, dict[str, str | None]]:
    number, _, params = value.partition(";")
    number = number.strip()
    if not is_digits(number) or len(number) > 10:
        raise RemoteProtocolError(f"Invalid {header} {value!r}")
    return int(number), parse_params(params)


def _refresher(params: dict[str, str | None]) -> Refresher | None:
    value = (params.get("refresher") or "").lower()
    if value in ("uac", "uas"):
        return value  # type: ignore[return-value]
    if value:
        raise RemoteProtocolError(f"Invalid refresher {value!r}")
    return None


def _supports_timer(message: Request | Response) -> bool:
    tokens = message.headers.get_list("supported") + message.headers.get_list("require")
    return any(t.strip().lower() == "timer" for t in tokens)


def negotiate_as_uas(request: Request, policy: SessionTimerPolicy) -> SessionTimerTerms:
    """Decide the terms for an INVITE or UPDATE we answer; raises SessionIntervalTooSmall.

    Without Session-Expires in the request we still run a timer (RFC 4028 section 9 lets the
    UAS insert one); we refresh unless the UAC said it supports timers.
    """
    supported = _supports_timer(request)
    min_se_text = request.headers.get("min-se")
    request_min = _delta_seconds(min_se_text, "Min-SE")[0] if min_se_text else policy.floor
    se_text = request.headers.get("session-expires")
    chosen: Refresher | None = None
    if se_text is None:
        interval = max(policy.session_expires, request_min)
    else:
        requested, params = _delta_seconds(se_text, "Session-Expires")
        if requested < policy.min_se:
            raise SessionIntervalTooSmall(requested, max(policy.min_se, request_min))
        interval = max(min(requested, policy.session_expires), request_min, policy.min_se)
        interval = min(interval, requested)
        chosen = _refresher(params)
    if chosen is None:
        chosen = (policy.refresher or "uac") if supported else "uas"
    if chosen == "uac" and not supported:
        chosen = "uas"
    return SessionTimerTerms(interval, chosen, local_refresher=chosen == "uas",
                             floor=policy.floor)


def uas_response_headers(request: Request, terms: SessionTimerTerms) -> list[tuple[str, str]]:
    """Headers for our 2xx: Session-Expires, and Require: timer when the UAC supports it."""
    headers = [("Session-Expires", f"{terms.interval};refresher={terms.refresher}")]
    if _supports_timer(request):
        headers.append(("Require", "timer"))
    return headers


def uac_request_headers(
    policy: SessionTimerPolicy, interval: int | None = None
) -> list[tuple[str, str]]:
    """Headers for an INVITE (or refresh) we send; `interval` overrides after a 422."""
    return [
        ("Session-Expires", str(interval if interval is not None else policy.session_expires)),
        ("Min-SE", str(policy.min_se)),
        ("Supported", "timer"),
    ]


def negotiate_as_uac(response: Response, floor: int = MIN_SE_FLOOR) -> SessionTimerTerms | None:
    """Terms from the 2xx to our INVITE/UPDATE; None when the UAS runs no session timer."""
    se_text = response.headers.get("session-expires")
    if se_text is None:
        return None
    interval, params = _delta_seconds(se_text, "Session-Expires")
    if interval < floor:
        raise RemoteProtocolError(f"Session-Expires {interval} is below {floor}")
    refresher = _refresher(params) or "uac"
    return SessionTimerTerms(interval, refresher, local_refresher=refresher == "uac", floor=floor)


def interval_after_422(response: Response, policy: SessionTimerPolicy) -> int:
    """The Session-Expires to retry with after a 422: at least the Min-SE it carried."""
    text = response.headers.get("min-se")
    if response.status != 422 or text is None:
        raise RemoteProtocolError("a 422 without Min-SE cannot be retried")
    return max(_delta_seconds(text, "Min-SE")[0], policy.session_expires)


class SessionTimer:
    """The two deadlines of a running session timer; `refreshed` restarts them."""

    def __init__(self, terms: SessionTimerTerms, now: float) -> None:
        self.terms = terms
        self.refresh_at: float | None = None
        self.expire_at = now
        self.refreshed(terms, now)

    def refreshed(self, terms: SessionTimerTerms, now: float) -> None:
        """A refresh (re-INVITE/UPDATE 2xx, either direction) succeeded at `now`."""
        self.terms = terms
        interval = terms.interval
        self.refresh_at = now + interval / 2 if terms.local_refresher else None
        self.expire_at = now + interval - min(32.0, interval / 3)

    def next_deadline(self) -> float:
        return self.expire_at if self.refresh_at is None else min(self.refresh_at, self.expire_at)

    def refresh_due(self, now: float) -> bool:
        """True once when the refresh time has come (then the TU sends the refresh)."""
        if self.refresh_at is not None and now >= self.refresh_at:
            self.refresh_at = None
            return True
        return False

    def expired(self, now: float) -> bool:
        return now >= self.expire_at
