"""Digest authentication: header syntax, known-answer vectors, nonces, replay, no enumeration."""

from __future__ import annotations

import gc
import itertools
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from softswitch.sip.digest import (
    AuthOutcome,
    DigestAlgorithm,
    DigestAuthenticator,
    DigestChallenge,
    DigestCredentials,
    DigestParseError,
    NonceCountTracker,
    NonceSigner,
    NonceStatus,
    compute_ha1,
    compute_response,
    parse_auth_header,
)

SECRET = b"0123456789abcdef0123456789abcdef"
REALM = "hospital.example"
T0 = 1_700_000_000.0


def counter_entropy() -> Callable[[int], bytes]:
    """Deterministic, never-repeating salt so two nonces differ as real ones do."""
    counter = itertools.count()
    return lambda n: next(counter).to_bytes(n, "big")


def make_auth(**kwargs: Any) -> DigestAuthenticator:
    return DigestAuthenticator(REALM, SECRET, entropy=counter_entropy(), **kwargs)


def answer(
    challenge: DigestChallenge,
    password: str = "s3cret-pass",
    user: str = "2001",
    nc: int = 1,
    cnonce: str | None = "abc123",
    method: str = "REGISTER",
) -> DigestCredentials:
    ha1 = compute_ha1(user, challenge.realm, password, challenge.algorithm)
    return DigestCredentials.answer(
        challenge, username=user, ha1=ha1, method=method, uri="sip:hospital.example",
        cnonce=cnonce, nc=nc,
    )


def stored_ha1(algorithm: DigestAlgorithm, password: str = "s3cret-pass") -> str:
    return compute_ha1("2001", REALM, password, algorithm)


# --- known-answer vectors --------------------------------------------------------------------

RFC7616_NONCE = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v"
RFC7616_CNONCE = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"


@pytest.mark.parametrize(
    ("algorithm", "expected"),
    [
        (DigestAlgorithm.MD5, "8ca523f5e9506fed4657c9700eebdbec"),
        (
            DigestAlgorithm.SHA256,
            "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1",
        ),
    ],
)
def test_rfc7616_section_3_9_1_example(algorithm: DigestAlgorithm, expected: str) -> None:
    ha1 = compute_ha1("Mufasa", "http-auth@example.org", "Circle of Life", algorithm)
    response = compute_response(
        algorithm, ha1, method="GET", uri="/dir/index.html", nonce=RFC7616_NONCE,
        qop="auth", nc=1, cnonce=RFC7616_CNONCE,
    )
    assert response == expected


def test_rfc2617_section_3_5_example() -> None:
    ha1 = compute_ha1("Mufasa", "testrealm@host.com", "Circle Of Life", DigestAlgorithm.MD5)
    response = compute_response(
        DigestAlgorithm.MD5, ha1, method="GET", uri="/dir/index.html",
        nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", qop="auth", nc=1, cnonce="0a4f113b",
    )
    assert response == "6629fae49393a05397450978507c4ef1"


def test_response_without_qop_is_rfc2069_form() -> None:
    ha1 = compute_ha1("u", "r", "p", DigestAlgorithm.MD5)
    ha2 = DigestAlgorithm.MD5.hash("INVITE:sip:x")
    got = compute_response(DigestAlgorithm.MD5, ha1, method="INVITE", uri="sip:x", nonce="n")
    assert got == DigestAlgorithm.MD5.hash(f"{ha1}:n:{ha2}")


def test_qop_without_nc_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="nc and cnonce"):
        compute_response(DigestAlgorithm.MD5, "x", method="A", uri="b", nonce="n", qop="auth")


# --- header syntax ---------------------------------------------------------------------------


def test_parse_handles_quotes_escapes_case_and_empty_list_elements() -> None:
    scheme, params = parse_auth_header(
        'Digest  Realm="a \\"quoted\\", realm" ,, nonce=abc , algorithm=sha-256,qop="auth,auth-int"'
    )
    assert scheme == "Digest"
    assert params == {
        "realm": 'a "quoted", realm',
        "nonce": "abc",
        "algorithm": "sha-256",
        "qop": "auth,auth-int",
    }


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "scheme"),
        ('Digest realm="x', "unterminated"),
        ('Digest realm="a\r\nb"', "control"),
        ("Digest realm", "no value"),
        ("Digest realm=", "no value"),
        ('Digest realm="a" nonce="b"', "expected ','"),
        ('Digest realm="a", realm="b"', "repeated"),
        ("Digest " + ",".join(f"p{i}=1" for i in range(40)), "too many"),
        ("Digest realm=" + "x" * 5000, "too long"),
        ('Basic realm="x"', "scheme"),
    ],
)
def test_parse_rejects_malformed_values(value: str, message: str) -> None:
    with pytest.raises(DigestParseError, match=message):
        DigestChallenge.parse(value)


def test_challenge_round_trips_with_quoting() -> None:
    challenge = DigestChallenge(
        realm='we "quote" \\ this', nonce="n/+=", algorithm=DigestAlgorithm.SHA256,
        qop=("auth",), opaque="op", stale=True,
    )
    header = challenge.to_header()
    assert 'algorithm=SHA-256' in header and "stale=true" in header and 'qop="auth"' in header
    assert DigestChallenge.parse(header) == challenge


def test_challenge_defaults_to_md5_without_algorithm() -> None:
    parsed = DigestChallenge.parse('Digest realm="r", nonce="n"')
    assert parsed.algorithm is DigestAlgorithm.MD5 and parsed.qop == () and not parsed.stale


def test_credentials_round_trip_and_nc_is_eight_hex_digits() -> None:
    creds = DigestCredentials(
        username="2001", realm="r", nonce="n", uri="sip:r", response="ab" * 16,
        algorithm=DigestAlgorithm.MD5, qop="auth", nc=0x1A, cnonce="c", opaque="o",
    )
    header = creds.to_header()
    assert "nc=0000001a" in header and "qop=auth" in header
    assert DigestCredentials.parse(header) == creds


def test_credentials_accept_quoted_qop_from_sloppy_phones() -> None:
    creds = DigestCredentials.parse(
        'Digest username="1", realm="r", nonce="n", uri="sip:r", response="x", qop="auth", '
        'nc=00000002, cnonce="c"'
    )
    assert creds.qop == "auth" and creds.nc == 2


@pytest.mark.parametrize(
    "extra", ['nc=xyz', "nc=123456789", "algorithm=SHA-512-256"],
)
def test_credentials_reject_bad_nc_and_unknown_algorithm(extra: str) -> None:
    with pytest.raises(DigestParseError):
        DigestCredentials.parse(
            f'Digest username="1", realm="r", nonce="n", uri="u", response="x", {extra}'
        )


def test_credentials_missing_response_is_an_error() -> None:
    with pytest.raises(DigestParseError, match="response"):
        DigestCredentials.parse('Digest username="1", realm="r", nonce="n", uri="u"')


def test_serialising_a_control_character_is_refused() -> None:
    with pytest.raises(ValueError, match="control"):
        DigestChallenge(realm="a\r\nVia: evil", nonce="n").to_header()


_text = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=40)


@given(realm=_text, nonce=_text, opaque=st.none() | _text, stale=st.booleans())
def test_any_printable_challenge_round_trips(
    realm: str, nonce: str, opaque: str | None, stale: bool
) -> None:
    challenge = DigestChallenge(realm=realm, nonce=nonce, opaque=opaque, stale=stale)
    assert DigestChallenge.parse(challenge.to_header()) == challenge


@given(st.text(max_size=200))
def test_parser_never_raises_anything_but_parse_error(value: str) -> None:
    try:
        DigestCredentials.parse(value)
    except DigestParseError:
        pass


# --- nonces ----------------------------------------------------------------------------------


def test_nonce_is_valid_then_stale_after_lifetime() -> None:
    signer = NonceSigner(SECRET, REALM, lifetime=30, entropy=counter_entropy())
    nonce = signer.issue(T0)
    assert signer.inspect(nonce, T0 + 30) == (NonceStatus.VALID, T0)
    assert signer.inspect(nonce, T0 + 30.5)[0] is NonceStatus.STALE


def test_nonces_differ_within_the_same_millisecond() -> None:
    signer = NonceSigner(SECRET, REALM, entropy=counter_entropy())
    assert signer.issue(T0) != signer.issue(T0)


@pytest.mark.parametrize(
    "mangle",
    [
        lambda n: n[:-2] + ("AA" if n[-2:] != "AA" else "BB"),
        lambda n: n[:10],
        lambda n: "!!not base64!!",
        lambda n: "é" * 43,
    ],
)
def test_forged_or_mangled_nonce_is_invalid(mangle: object) -> None:
    signer = NonceSigner(SECRET, REALM, entropy=counter_entropy())
    nonce = signer.issue(T0)
    assert signer.inspect(mangle(nonce), T0)[0] is NonceStatus.INVALID  # type: ignore[operator]


def test_nonce_from_other_secret_or_realm_or_future_is_invalid() -> None:
    nonce = NonceSigner(SECRET, REALM).issue(T0)
    assert NonceSigner(b"x" * 32, REALM).inspect(nonce, T0)[0] is NonceStatus.INVALID
    assert NonceSigner(SECRET, "other").inspect(nonce, T0)[0] is NonceStatus.INVALID
    assert NonceSigner(SECRET, REALM).inspect(nonce, T0 - 60)[0] is NonceStatus.INVALID


def test_short_secret_is_refused() -> None:
    with pytest.raises(ValueError, match="16 bytes"):
        NonceSigner(b"short", REALM)


# --- nonce-count tracking --------------------------------------------------------------------


def test_tracker_accepts_each_count_once_even_out_of_order() -> None:
    tracker = NonceCountTracker(window=8)
    assert [tracker.accept("n", T0, nc) for nc in (1, 3, 2, 3, 2, 1)] == [
        True, True, True, False, False, False,
    ]
    assert not tracker.accept("n", T0, 0)


def test_tracker_refuses_counts_older_than_the_window() -> None:
    tracker = NonceCountTracker(window=4)
    assert tracker.accept("n", T0, 10)
    assert tracker.accept("n", T0, 7)
    assert not tracker.accept("n", T0, 6)
    assert tracker.accept("n", T0, 100)
    assert not tracker.accept("n", T0, 10)


def test_tracker_is_bounded_and_refuses_forgotten_nonces() -> None:
    tracker = NonceCountTracker(capacity=2)
    assert tracker.accept("a", T0, 1)
    assert tracker.accept("b", T0 + 1, 1)
    assert tracker.accept("c", T0 + 2, 1)  # evicts "a"
    assert len(tracker) == 2
    assert not tracker.accept("a", T0, 5)  # forgotten: a replay can never slip through
    assert tracker.accept("d", T0 + 3, 1)  # newer nonces still work


def test_tracked_nonces_leave_the_cyclic_collectors_lists() -> None:
    """Ten thousand live at once: as tracked objects every collection would walk them."""
    tracker = NonceCountTracker()
    gc.collect()
    before = len(gc.get_objects())
    for n in range(2000):
        assert tracker.accept(f"nonce-{n}", T0, 1)
        assert tracker.accept(f"nonce-{n}", T0, 2)
    gc.collect()
    assert len(gc.get_objects()) - before < 500  # not one per nonce
    assert not tracker.accept("nonce-7", T0, 2)  # the state is still there


# --- the authenticator -----------------------------------------------------------------------


def test_challenges_offer_sha256_first_then_md5_with_qop_and_opaque() -> None:
    challenges = make_auth().challenges(T0)
    assert [c.algorithm for c in challenges] == [DigestAlgorithm.SHA256, DigestAlgorithm.MD5]
    for challenge in challenges:
        assert challenge.realm == REALM and challenge.qop == ("auth",)
        assert challenge.opaque and not challenge.stale
    assert challenges[0].nonce == challenges[1].nonce  # one signed nonce serves both
    assert all(c.stale for c in make_auth().challenges(T0, stale=True))


@pytest.mark.parametrize("algorithm", list(DigestAlgorithm))
@pytest.mark.parametrize("cnonce", ["c0ffee", None])
def test_correct_answer_is_accepted(algorithm: DigestAlgorithm, cnonce: str | None) -> None:
    auth = make_auth()
    challenge = next(c for c in auth.challenges(T0) if c.algorithm is algorithm)
    creds = DigestCredentials.parse(answer(challenge, cnonce=cnonce).to_header())
    result = auth.verify(creds, "REGISTER", stored_ha1(algorithm), T0 + 1)
    assert result.outcome is AuthOutcome.ACCEPTED and result.accepted


def test_wrong_password_and_unknown_user_fail_identically() -> None:
    auth = make_auth()
    challenge = auth.challenges(T0)[0]
    wrong = auth.verify(answer(challenge, "guess"), "REGISTER", stored_ha1(challenge.algorithm), T0)
    ghost = answer(challenge, "guess", user="9999")
    unknown = auth.verify(ghost, "REGISTER", auth.dummy_ha1("9999", challenge.algorithm), T0)
    assert wrong == unknown
    assert wrong.outcome is AuthOutcome.REJECTED and not wrong.accepted


def test_dummy_ha1_is_stable_per_user_and_sized_for_the_algorithm() -> None:
    auth = make_auth()
    assert auth.dummy_ha1("9", DigestAlgorithm.MD5) == auth.dummy_ha1("9", DigestAlgorithm.MD5)
    assert auth.dummy_ha1("9", DigestAlgorithm.MD5) != auth.dummy_ha1("8", DigestAlgorithm.MD5)
    assert len(auth.dummy_ha1("9", DigestAlgorithm.SHA256)) == 64


def test_expired_nonce_with_right_password_is_stale_but_wrong_password_is_rejected() -> None:
    auth = make_auth(nonce_lifetime=60)
    challenge = auth.challenges(T0)[1]
    ha1 = stored_ha1(challenge.algorithm)
    assert auth.verify(answer(challenge), "REGISTER", ha1, T0 + 61).outcome is AuthOutcome.STALE
    late_wrong = auth.verify(answer(challenge, "nope"), "REGISTER", ha1, T0 + 61)
    assert late_wrong.outcome is AuthOutcome.REJECTED


def test_replayed_nonce_count_is_stale_and_next_count_is_accepted() -> None:
    auth = make_auth()
    challenge = auth.challenges(T0)[0]
    ha1 = stored_ha1(challenge.algorithm)
    first = answer(challenge, nc=1)
    assert auth.verify(first, "REGISTER", ha1, T0).accepted
    replay = auth.verify(first, "REGISTER", ha1, T0 + 1)
    assert replay.outcome is AuthOutcome.STALE and "replay" in replay.reason
    assert auth.verify(answer(challenge, nc=2), "REGISTER", ha1, T0 + 2).accepted


def test_forged_answers_do_not_burn_a_phones_nonce_counts() -> None:
    auth = make_auth()
    challenge = auth.challenges(T0)[0]
    ha1 = stored_ha1(challenge.algorithm)
    assert not auth.verify(answer(challenge, "bad", nc=5), "REGISTER", ha1, T0).accepted
    assert auth.verify(answer(challenge, nc=5), "REGISTER", ha1, T0).accepted


def test_method_is_covered_by_the_response() -> None:
    auth = make_auth()
    challenge = auth.challenges(T0)[0]
    creds = answer(challenge, method="REGISTER")
    assert not auth.verify(creds, "INVITE", stored_ha1(challenge.algorithm), T0).accepted


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"realm": "evil"}, "realm"),
        ({"opaque": "tampered"}, "opaque"),
        ({"nonce": "AAAA"}, "nonce"),
        ({"qop": "auth-int"}, "qop"),
        ({"cnonce": None}, "qop"),
        ({"response": "é" * 64}, "response"),
    ],
)
def test_tampered_fields_are_rejected(change: dict[str, object], reason: str) -> None:
    from dataclasses import replace

    auth = make_auth()
    challenge = auth.challenges(T0)[0]
    creds = replace(answer(challenge), **change)  # type: ignore[arg-type]
    result = auth.verify(creds, "REGISTER", stored_ha1(challenge.algorithm), T0)
    assert result.outcome is AuthOutcome.REJECTED and reason in result.reason


def test_algorithm_not_offered_is_rejected() -> None:
    auth = make_auth(algorithms=(DigestAlgorithm.SHA256,))
    md5 = DigestChallenge(realm=REALM, nonce=auth.challenges(T0)[0].nonce, opaque=auth.opaque)
    result = auth.verify(answer(md5), "REGISTER", stored_ha1(DigestAlgorithm.MD5), T0)
    assert result.outcome is AuthOutcome.REJECTED and "algorithm" in result.reason


def test_missing_opaque_is_tolerated() -> None:
    from dataclasses import replace

    auth = make_auth()
    challenge = replace(auth.challenges(T0)[0], opaque=None)
    assert auth.verify(answer(challenge), "REGISTER", stored_ha1(challenge.algorithm), T0).accepted


def test_nonces_verify_on_another_node_with_the_same_secret() -> None:
    challenge = make_auth().challenges(T0)[0]
    other_node = make_auth()
    assert other_node.verify(
        answer(challenge), "REGISTER", stored_ha1(challenge.algorithm), T0 + 5
    ).accepted
