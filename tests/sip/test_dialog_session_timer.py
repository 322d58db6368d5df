"""RFC 4028 session timers: negotiation on both sides, 422, and the deadlines in a dialog."""

from __future__ import annotations

import pytest

from softswitch.sip import RemoteProtocolError, Request, Response
from softswitch.sip.dialog import DialogEnded, DialogState, RefreshDue, SendRequest
from softswitch.sip.session_timer import (
    SessionIntervalTooSmall,
    SessionTimer,
    SessionTimerPolicy,
    SessionTimerTerms,
    interval_after_422,
    negotiate_as_uac,
    negotiate_as_uas,
    uac_request_headers,
    uas_response_headers,
)

from .dialog_helpers import as_response, confirmed_pair, invite

POLICY = SessionTimerPolicy(session_expires=1800, min_se=90)


def request_with(*headers: tuple[str, str]) -> Request:
    req = invite()
    for name, value in headers:
        req.headers.add(name, value)
    return req


def response_with(status: int, *headers: tuple[str, str]) -> Response:
    resp = Response(status)
    for name, value in headers:
        resp.headers.add(name, value)
    return resp


@pytest.mark.parametrize(
    ("headers", "interval", "refresher", "local"),
    [
        ((), 1800, "uas", True),
        ((("Supported", "timer"),), 1800, "uac", False),
        ((("Supported", "timer"), ("Session-Expires", "600")), 600, "uac", False),
        ((("Supported", "timer"), ("Session-Expires", "600;refresher=uas")), 600, "uas", True),
        ((("Session-Expires", "600;refresher=uac"),), 600, "uas", True),  # uac cannot, no timer
        ((("Supported", "timer"), ("x", "7200")), 1800, "uac", False),  # compact form, capped
        ((("k", "timer"), ("x", "7200"), ("Min-SE", "3600")), 3600, "uac", False),
    ],
)
def test_uas_negotiation(
    headers: tuple[tuple[str, str], ...], interval: int, refresher: str, local: bool
) -> None:
    terms = negotiate_as_uas(request_with(*headers), POLICY)
    assert (terms.interval, terms.refresher, terms.local_refresher) == (interval, refresher, local)


def test_uas_policy_refresher_is_used_when_the_uac_leaves_the_choice() -> None:
    policy = SessionTimerPolicy(refresher="uas")
    req = request_with(("Supported", "timer"), ("Session-Expires", "900"))
    terms = negotiate_as_uas(req, policy)
    assert terms.refresher == "uas" and terms.local_refresher


def test_too_small_interval_is_422_with_our_min_se() -> None:
    policy = SessionTimerPolicy(session_expires=1800, min_se=300)
    with pytest.raises(SessionIntervalTooSmall) as caught:
        negotiate_as_uas(request_with(("Session-Expires", "120")), policy)
    assert caught.value.status == 422
    assert caught.value.response_headers() == [("Min-SE", "300")]


def test_malformed_session_expires_is_400() -> None:
    for bad in ("soon", "600;refresher=both"):
        with pytest.raises(RemoteProtocolError) as caught:
            negotiate_as_uas(request_with(("Session-Expires", bad)), POLICY)
        assert caught.value.status == 400


def test_uas_response_headers_require_timer_only_if_supported() -> None:
    supported = request_with(("Supported", "timer"))
    terms = negotiate_as_uas(supported, POLICY)
    assert uas_response_headers(supported, terms) == [
        ("Session-Expires", "1800;refresher=uac"),
        ("Require", "timer"),
    ]
    plain = request_with()
    assert uas_response_headers(plain, negotiate_as_uas(plain, POLICY)) == [
        ("Session-Expires", "1800;refresher=uas")
    ]


def test_uac_side_headers_negotiation_and_422_retry() -> None:
    assert uac_request_headers(POLICY) == [
        ("Session-Expires", "1800"),
        ("Min-SE", "90"),
        ("Supported", "timer"),
    ]
    assert negotiate_as_uac(response_with(200)) is None
    terms = negotiate_as_uac(response_with(200, ("Session-Expires", "900;refresher=uac")))
    assert terms == SessionTimerTerms(900, "uac", True)
    terms = negotiate_as_uac(response_with(200, ("Session-Expires", "900;refresher=uas")))
    assert terms == SessionTimerTerms(900, "uas", False)
    assert negotiate_as_uac(response_with(200, ("Session-Expires", "900"))) == SessionTimerTerms(
        900, "uac", True
    )
    with pytest.raises(RemoteProtocolError):
        negotiate_as_uac(response_with(200, ("Session-Expires", "30")))
    policy = SessionTimerPolicy(session_expires=120)
    assert interval_after_422(response_with(422, ("Min-SE", "600")), policy) == 600
    with pytest.raises(RemoteProtocolError):
        interval_after_422(response_with(422), policy)


def test_policy_validation() -> None:
    with pytest.raises(ValueError):
        SessionTimerPolicy(min_se=60)
    with pytest.raises(ValueError):
        SessionTimerPolicy(session_expires=100, min_se=120)
    with pytest.raises(ValueError):
        SessionTimerTerms(30, "uac", True)


def test_refresher_deadlines_are_half_and_expiry_leaves_min_32_or_a_third() -> None:
    timer = SessionTimer(SessionTimerTerms(1800, "uas", True), 100.0)
    assert timer.refresh_at == 100.0 + 900 and timer.expire_at == 100.0 + 1800 - 32
    assert timer.next_deadline() == 1000.0
    assert not timer.refresh_due(999.0)
    assert timer.refresh_due(1000.0) and not timer.refresh_due(1001.0)  # once
    short = SessionTimer(SessionTimerTerms(90, "uac", False), 0.0)
    assert short.refresh_at is None and short.expire_at == 60.0
    short.refreshed(SessionTimerTerms(90, "uac", False), 50.0)
    assert short.expire_at == 110.0 and not short.expired(109.9) and short.expired(110.0)


def test_dialog_asks_for_refreshes_and_restarts_after_each() -> None:
    pair = confirmed_pair()
    terms = SessionTimerTerms(600, "uac", True)
    pair.alice.start_session_timer(terms, 0.0)
    assert pair.alice.next_deadline() == 300.0
    assert pair.alice.handle_timer(300.0) == [RefreshDue()]
    assert pair.alice.next_deadline() == 600 - 32
    pair.alice.start_session_timer(terms, 310.0)  # the refresh re-INVITE got its 2xx
    assert pair.alice.next_deadline() == 610.0
    assert pair.alice.state is DialogState.CONFIRMED


def test_dialog_without_refresh_expires_with_a_bye() -> None:
    pair = confirmed_pair()
    pair.bob.start_session_timer(SessionTimerTerms(90, "uac", False), 0.0)
    assert pair.bob.next_deadline() == 60.0
    assert pair.bob.handle_timer(59.0) == []
    out = pair.bob.handle_timer(60.0)
    assert [type(o) for o in out] == [SendRequest, DialogEnded]
    bye = out[0].request  # type: ignore[union-attr]
    assert bye.method == "BYE" and "session timer" in (bye.headers.get("reason") or "")
    assert pair.bob.terminated and pair.bob.end_reason == "session timer expired"
    assert pair.bob.next_deadline() is None


def test_session_timer_round_trip_between_two_dialogs() -> None:
    pair = confirmed_pair()
    req = invite()
    for name, value in uac_request_headers(POLICY, 900):
        req.headers.add(name, value)
    bob_terms = negotiate_as_uas(req, POLICY)
    ok = pair.bob.make_response(req, 200, headers=uas_response_headers(req, bob_terms))
    alice_terms = negotiate_as_uac(as_response(ok))
    assert alice_terms is not None
    assert alice_terms.interval == bob_terms.interval == 900
    assert alice_terms.local_refresher and not bob_terms.local_refresher
