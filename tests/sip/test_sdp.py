"""SDP parsing and serialisation: phone quirks accepted, broken lines refused with 400."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from softswitch.sip.errors import RemoteProtocolError
from softswitch.sip.sdp import (
    Attribute,
    Connection,
    Direction,
    MediaDescription,
    Origin,
    RtpMap,
    SdpError,
    SdpNotAcceptable,
    SessionDescription,
    parse_sdp,
)

from .sdp_samples import LINPHONE, POLYCOM, RFC2543_HOLD, SAMPLES, YEALINK


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_phone_samples_round_trip_through_serialize(name: str) -> None:
    parsed = parse_sdp(SAMPLES[name])
    again = parse_sdp(parsed.serialize())
    assert again == parsed
    assert parsed.serialize() == again.serialize()


def test_serialize_writes_crlf_lines_in_rfc_order() -> None:
    text = parse_sdp(YEALINK).serialize().decode()
    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", "")
    letters = [line[0] for line in text.split("\r\n") if line]
    assert letters[:5] == ["v", "o", "s", "c", "t"]
    assert letters.index("m") > letters.index("t")


def test_lf_only_lines_and_trailing_blanks_are_accepted() -> None:
    sdp = parse_sdp(YEALINK)
    assert sdp.name == "SDP data"
    audio = sdp.media[0]
    assert audio.ptime == 20
    assert audio.payload_types == (0, 8, 9, 18, 101)


def test_origin_and_connection_are_read() -> None:
    sdp = parse_sdp(LINPHONE)
    assert sdp.origin == Origin("alice", "3011", 3855, "IN", "IP4", "10.0.0.7")
    assert sdp.connection == Connection("10.0.0.7")
    assert sdp.name == "Talk"
    assert [m.media for m in sdp.media] == ["audio", "video"]


def test_static_payload_type_without_rtpmap_uses_rfc3551_table() -> None:
    audio = parse_sdp(LINPHONE).media[0]
    assert audio.rtpmap(0) == RtpMap(0, "PCMU", 8000)
    assert audio.rtpmap(18) == RtpMap(18, "G729", 8000)
    assert audio.rtpmap(100) == RtpMap(100, "telephone-event", 8000)
    assert audio.rtpmap(96) == RtpMap(96, "opus", 48000, 2)
    assert audio.rtpmap(55) is None


def test_fmtp_rtcp_and_properties() -> None:
    audio = parse_sdp(LINPHONE).media[0]
    assert audio.fmtp(96) == "useinbandfec=1"
    assert audio.fmtp(18) == "annexb=yes"
    assert audio.fmtp(0) is None
    assert audio.rtcp == (7079, None)
    assert not audio.rtcp_mux
    assert audio.values("rtcp-fb") == ["* trr-int 1000", "* ccm tmmbr"]


def test_rtcp_attribute_with_address() -> None:
    sdp = parse_sdp(
        b"v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n"
        b"a=rtcp:4005 IN IP4 10.9.9.9\r\n"
    )
    assert sdp.media[0].rtcp == (4005, Connection("10.9.9.9"))


def test_direction_falls_back_to_session_level_then_sendrecv() -> None:
    polycom = parse_sdp(POLYCOM)
    assert polycom.media[0].direction is None
    assert polycom.direction_of(polycom.media[0]) is Direction.SENDRECV
    held = parse_sdp(POLYCOM.replace(b"a=sendrecv", b"a=inactive"))
    assert held.direction_of(held.media[0]) is Direction.INACTIVE
    plain = parse_sdp(RFC2543_HOLD)
    assert plain.direction_of(plain.media[0]) is Direction.SENDRECV
    media_level = parse_sdp(RFC2543_HOLD + b"a=recvonly\r\n")
    assert media_level.media[0].direction is Direction.RECVONLY


def test_null_connection_is_rfc2543_hold() -> None:
    sdp = parse_sdp(RFC2543_HOLD)
    conn = sdp.connection_of(sdp.media[0])
    assert conn is not None and conn.is_null
    assert not Connection("10.0.0.1").is_null


def test_media_level_connection_overrides_session() -> None:
    sdp = parse_sdp(
        b"v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nc=IN IP4 1.1.1.1\r\nt=0 0\r\n"
        b"m=audio 4000 RTP/AVP 0\r\nc=IN IP6 2001:db8::5\r\n"
    )
    assert sdp.connection_of(sdp.media[0]) == Connection("2001:db8::5", "IP6")


def test_missing_t_empty_s_lowercase_nettype_and_blank_lines_are_tolerated() -> None:
    sdp = parse_sdp(
        b"v=0\r\n\r\no=- 1 1 in ip4 h\r\ns=\r\nc=in ip4 10.0.0.1\r\nm=audio 4000 RTP/AVP 0\r\n"
    )
    assert sdp.times == ((0, 0),)
    assert sdp.name == "-"
    assert sdp.connection == Connection("10.0.0.1", "IP4", "IN")
    assert sdp.origin.addrtype == "IP4"


def test_fractional_ptime_is_read_as_its_integer_part() -> None:
    sdp = parse_sdp(b"v=0\no=- 1 1 IN IP4 h\ns=-\nt=0 0\nm=audio 1 RTP/AVP 0\na=ptime:30.0\n")
    assert sdp.media[0].ptime == 30


def test_unknown_lines_are_kept_and_written_back() -> None:
    body = (
        b"v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\ni=info\r\nu=http://x\r\ne=a@b\r\n"
        b"t=0 0\r\nr=7d 1h 0 25h\r\nx=vendor\r\nm=audio 4000/2 RTP/AVP 0\r\ni=voice\r\n"
        b"k=prompt\r\n"
    )
    sdp = parse_sdp(body)
    assert ("u", "http://x") in sdp.other and ("x", "vendor") in sdp.other
    assert sdp.media[0].port_count == 2
    assert sdp.media[0].other == (("i", "voice"), ("k", "prompt"))
    assert parse_sdp(sdp.serialize()) == sdp
    assert b"m=audio 4000/2 RTP/AVP 0" in sdp.serialize()


def test_non_rtp_formats_are_kept_as_text() -> None:
    sdp = parse_sdp(b"v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nt=0 0\r\nm=message 7394 TCP/MSRP *\r\n")
    assert sdp.media[0].formats == ("*",)
    assert sdp.media[0].payload_types == ()
    assert not sdp.media[0].is_rtp


@pytest.mark.parametrize(
    ("body", "line", "words"),
    [
        (b"", None, "empty"),
        (b"o=- 1 1 IN IP4 h\r\nv=0\r\n", 1, "start with v="),
        (b"v=1\r\no=- 1 1 IN IP4 h\r\n", 1, "version"),
        (b"v=0\r\ns=-\r\nt=0 0\r\n", None, "missing o="),
        (b"v=0\r\no=- 1 IN IP4 h\r\n", 2, "6 fields"),
        (b"v=0\r\no=- 1 x IN IP4 h\r\n", 2, "not a number"),
        (b"v=0\r\no=- 1 1 IN IP4 h\r\nc=IN IP4\r\n", 3, "c= needs"),
        (b"v=0\r\no=- 1 1 IN IP4 h\r\nc=ATM NSAP x\r\n", 3, "connection type"),
        (b"v=0\r\no=- 1 1 IN IP4 h\r\nt=now\r\n", 3, "t= needs"),
        (b"v=0\r\no=- 1 1 IN IP4 h\r\nhello\r\n", 3, "<type>=<value>"),
        (b"v=0\r\no=- 1 1 IN IP4 h\r\nv=0\r\n", 3, "second v="),
        (b"v=0\r\no=- 1 1 IN IP4 h\r\nm=audio 70000 RTP/AVP 0\r\n", 3, "invalid port"),
        (b"v=0\r\no=- 1 1 IN IP4 h\r\nm=audio x RTP/AVP 0\r\n", 3, "invalid port"),
        (b"v=0\r\no=- 1 1 IN IP4 h\r\nm=audio 4000/0 RTP/AVP 0\r\n", 3, "port count"),
        (b"v=0\r\no=- 1 1 IN IP4 h\r\nm=audio 4000 RTP/AVP\r\n", 3, "without formats"),
        (b"v=0\r\no=- 1 1 IN IP4 h\r\nm=audio 4000\r\n", 3, "m= needs"),
        (b"v=0\r\no=- 1 1 IN IP4 h\r\nm=audio 4000 RTP/AVP 0 200\r\n", 3, "0..127"),
        (b"v=0\r\no=- 1 1 IN IP4 h\r\nm=audio 1 RTP/AVP 96\r\na=rtpmap:96 opus\r\n", 4, "rtpmap"),
        (b"v=0\r\no=- 1 1 IN IP4 h\r\nm=audio 4000 RTP/AVP 0\r\nt=0 0\r\n", 4, "inside a media"),
    ],
)
def test_malformed_descriptions_raise_400_naming_the_line(
    body: bytes, line: int | None, words: str
) -> None:
    with pytest.raises(SdpError) as caught:
        parse_sdp(body)
    assert caught.value.status == 400
    assert caught.value.line == line
    assert words in str(caught.value)
    if line is not None:
        assert f"line {line}" in str(caught.value)


def test_sdp_errors_carry_the_sip_status_like_other_protocol_errors() -> None:
    assert issubclass(SdpError, RemoteProtocolError)
    refused = SdpNotAcceptable("no common codec")
    assert isinstance(refused, SdpError) and refused.status == 488


def test_rtpmap_with_non_numeric_payload_type_is_ignored() -> None:
    sdp = parse_sdp(
        b"v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\na=rtpmap:x y/1\r\n"
    )
    assert sdp.media[0].rtpmap(0) == RtpMap(0, "PCMU", 8000)


def test_direction_algebra() -> None:
    for d in Direction:
        assert d.reversed().reversed() is d
        assert d & Direction.SENDRECV is d
        assert d & Direction.INACTIVE is Direction.INACTIVE
    assert Direction.SENDONLY.reversed() is Direction.RECVONLY
    assert Direction.SENDONLY & Direction.RECVONLY is Direction.INACTIVE


def test_origin_bump_keeps_session_id() -> None:
    origin = Origin("-", "77", 4)
    assert origin.bumped() == Origin("-", "77", 5)


_token = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=8)
_attribute = st.builds(Attribute, _token, st.none() | _token)
_media = st.builds(
    MediaDescription,
    media=st.sampled_from(["audio", "video"]),
    port=st.integers(0, 65535),
    proto=st.just("RTP/AVP"),
    formats=st.lists(st.integers(0, 127).map(str), min_size=1, max_size=5).map(tuple),
    connection=st.none() | st.just(Connection("10.0.0.1")),
    attributes=st.lists(_attribute, max_size=4).map(tuple),
)
_session = st.builds(
    SessionDescription,
    origin=st.builds(Origin, _token, st.integers(0, 2**40).map(str), st.integers(0, 2**40)),
    name=_token,
    connection=st.none() | st.just(Connection.for_host("2001:db8::1")),
    attributes=st.lists(_attribute, max_size=3).map(tuple),
    media=st.lists(_media, max_size=3).map(tuple),
)


@settings(max_examples=50)
@given(_session)
def test_any_description_we_build_parses_back_to_itself(sdp: SessionDescription) -> None:
    assert parse_sdp(sdp.serialize()) == sdp


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_parsed_rtpmaps_and_payload_types_match_a_description_built_by_hand(name: str) -> None:
    """The parser hands its checked rtpmaps to each section: the same answers as a section
    that reads its own attributes (duplicates: the first line counts)."""
    for m in parse_sdp(SAMPLES[name]).media:
        fresh = MediaDescription(m.media, m.port, m.proto, m.formats, m.port_count,
                                 m.connection, m.bandwidths, m.attributes, m.other)
        assert fresh == m
        assert m.payload_types == fresh.payload_types
        for pt in [*m.payload_types, 0, 8, 96, 101, 127]:
            assert m.rtpmap(pt) == fresh.rtpmap(pt)


def test_first_of_two_rtpmaps_for_one_payload_type_counts() -> None:
    sdp = parse_sdp(
        "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n"
        "m=audio 4000 RTP/AVP 96\r\na=RTPMAP:96 opus/48000/2\r\na=rtpmap:96 PCMU/8000\r\n")
    assert sdp.media[0].rtpmap(96) == RtpMap(96, "opus", 48000, 2)
