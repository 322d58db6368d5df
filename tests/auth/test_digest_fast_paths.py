"""The fast readers and writers of Digest headers agree with the reference ones."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from softswitch.sip.digest import (
    DigestAlgorithm,
    DigestAuthenticator,
    DigestChallenge,
    DigestParseError,
    _parse_auth_slowly,
    parse_auth_header,
)

SECRET = b"0123456789abcdef0123456789abcdef"


def outcome(parse, value: str) -> object:
    try:
        return parse(value)
    except DigestParseError as error:
        return ("error", str(error))


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet='Digest ab=,"\\\t\n\x01é', max_size=40))
def test_fast_parse_matches_the_reference_on_any_text(tail: str) -> None:
    value = "Digest " + tail
    assert outcome(parse_auth_header, value) == outcome(_parse_auth_slowly, value)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["username", "Realm", "nonce", "qop", "nc", "x"]),
            st.text(alphabet='ab1"\\, é', max_size=8),
            st.booleans(),
            st.sampled_from([",", ", ", " ,", ",,", " "]),
        ),
        max_size=6,
    )
)
def test_fast_parse_matches_the_reference_on_header_like_text(
    items: list[tuple[str, str, bool, str]]
) -> None:
    value = "Digest " + "".join(
        f'{name}="{text}"{sep}' if quoted else f"{name}={text}{sep}"
        for name, text, quoted, sep in items
    )
    assert outcome(parse_auth_header, value) == outcome(_parse_auth_slowly, value)


def test_common_answer_is_read_by_the_fast_path() -> None:
    value = 'Digest username="3000",realm="r",nonce="n",uri="sip:x",response="ab",qop=auth,nc=00000001'
    assert parse_auth_header(value) == ("Digest", {
        "username": "3000", "realm": "r", "nonce": "n", "uri": "sip:x", "response": "ab",
        "qop": "auth", "nc": "00000001",
    })


def test_challenge_headers_are_the_challenges_serialised() -> None:
    fixed = DigestAuthenticator(  # fixed entropy: the same `now` gives the same nonce
        "hospital", SECRET, algorithms=(DigestAlgorithm.SHA256, DigestAlgorithm.MD5),
        entropy=lambda n: b"\x01" * n,
    )
    for stale in (False, True, False):
        headers = fixed.challenge_headers(100.0, stale=stale)
        assert list(headers) == [c.to_header() for c in fixed.challenges(100.0, stale=stale)]
        parsed = [DigestChallenge.parse(h) for h in headers]
        assert [c.algorithm for c in parsed] == [DigestAlgorithm.SHA256, DigestAlgorithm.MD5]
        assert all(c.stale is stale and c.opaque == fixed.opaque for c in parsed)
    digest = DigestAuthenticator("hospital", SECRET)
    assert digest.challenge_headers(100.0)[0] != digest.challenge_headers(100.0)[0]
