"""RFC 3264 offer/answer: codec choice, m-line mirroring, directions and hold, telephone-event,
o= versioning across re-offers, and the B2BUA helpers."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from softswitch.sip.sdp import (
    Direction,
    Origin,
    SdpError,
    SdpNotAcceptable,
    SessionDescription,
    parse_sdp,
)
from softswitch.sip.sdp_negotiation import (
    Capabilities,
    LocalMedia,
    Negotiated,
    SdpSession,
    accept_answer,
    answer_from_other_leg,
    answer_offer,
    bridge_preference,
    format_events,
    make_offer,
    parse_events,
)

from .sdp_samples import (
    BARESIP,
    LINPHONE,
    POLYCOM,
    POLYCOM_HOLD,
    RFC2543_HOLD,
    SRTP_ONLY,
    YEALINK,
)

CAPS = Capabilities()
LOCAL = LocalMedia("192.0.2.10", 20000)
ORIGIN = Origin("-", "900", 1)


def answer(
    body: bytes, caps: Capabilities = CAPS, local: LocalMedia = LOCAL, **kw: tuple[str, ...]
) -> tuple[SessionDescription, Negotiated]:
    return answer_offer(parse_sdp(body), caps, local, ORIGIN, **kw)


def offer_with(direction: str = "", connection: str = "10.0.0.1", formats: str = "0 8") -> bytes:
    extra = f"a={direction}\r\n" if direction else ""
    return (
        f"v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nc=IN IP4 {connection}\r\nt=0 0\r\n"
        f"m=audio 4000 RTP/AVP {formats}\r\n{extra}"
    ).encode()


# -- codec choice per phone --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "codec", "pt", "event_pt", "remote", "rtcp"),
    [
        (BARESIP, "G722", 9, 101, ("192.168.1.20", 10000), ("192.168.1.20", 10001)),
        (LINPHONE, "PCMU", 0, 100, ("10.0.0.7", 7078), ("10.0.0.7", 7079)),
        (YEALINK, "PCMU", 0, 101, ("192.168.0.101", 11780), ("192.168.0.101", 11781)),
        (POLYCOM, "G722", 9, 127, ("172.16.5.33", 2226), ("172.16.5.33", 2227)),
    ],
)
def test_phone_offers_negotiate_the_offerers_first_common_codec(
    body: bytes,
    codec: str,
    pt: int,
    event_pt: int,
    remote: tuple[str, int],
    rtcp: tuple[str, int],
) -> None:
    sdp, result = answer(body)
    assert (result.codec, result.payload_type, result.telephone_event) == (codec, pt, event_pt)
    assert result.remote == remote
    assert result.remote_rtcp == rtcp
    assert result.clock_rate == 8000
    assert result.direction is Direction.SENDRECV and not result.remote_hold
    audio = sdp.media[0]
    assert audio.port == 20000 and audio.proto == "RTP/AVP"
    assert audio.payload_types == (pt, event_pt)
    assert audio.rtpmap(event_pt) is not None
    assert audio.direction is Direction.SENDRECV
    assert sdp.connection is not None and sdp.connection.host == "192.0.2.10"


def test_answer_keeps_number_and_order_of_m_lines_rejecting_video_with_port_zero() -> None:
    sdp, _ = answer(LINPHONE)
    assert [(m.media, m.port) for m in sdp.media] == [("audio", 20000), ("video", 0)]
    assert sdp.media[1].formats == ("96",)
    assert sdp.media[1].proto == "RTP/AVP"


def test_only_the_first_usable_audio_stream_is_accepted() -> None:
    two = YEALINK + b"m=audio 11790 RTP/AVP 0\n"
    sdp, result = answer(two)
    assert [m.port for m in sdp.media] == [20000, 0]
    assert result.remote_port == 11780


def test_a_stream_already_rejected_in_the_offer_stays_rejected() -> None:
    body = offer_with().replace(b"m=audio 4000 RTP/AVP 0 8\r\n", b"m=audio 0 RTP/AVP 0\r\n")
    body += b"m=audio 5000 RTP/AVP 8\r\n"
    sdp, result = answer(body)
    assert [m.port for m in sdp.media] == [0, 20000]
    assert result.codec == "PCMA" and result.remote_port == 5000


def test_prefer_own_order_picks_our_first_codec() -> None:
    own = Capabilities(codecs=("G722", "PCMA", "PCMU"), prefer_own_order=True)
    _, result = answer(YEALINK, own)
    assert result.codec == "G722"
    _, result = answer(YEALINK, Capabilities(codecs=("PCMA", "G722", "PCMU")))
    assert result.codec == "PCMU"  # the offerer's order by default


def test_explicit_preference_wins_over_both_orders() -> None:
    _, result = answer(BARESIP, prefer=("PCMA",))
    assert result.codec == "PCMA" and result.payload_type == 8


def test_codecs_we_do_not_have_are_skipped() -> None:
    _, result = answer(YEALINK, Capabilities(codecs=("PCMA",)))
    assert result.codec == "PCMA"


def test_offer_payload_type_numbers_are_kept_for_dynamic_types() -> None:
    body = offer_with(formats="0 96").replace(
        b"RTP/AVP 0 96\r\n", b"RTP/AVP 0 96\r\na=rtpmap:96 Telephone-Event/8000\r\n"
    )
    sdp, result = answer(body)
    assert result.telephone_event == 96
    assert sdp.media[0].payload_types == (0, 96)


@pytest.mark.parametrize("body", [SRTP_ONLY, offer_with(formats="18 4")])
def test_no_common_codec_or_only_srtp_is_488(body: bytes) -> None:
    with pytest.raises(SdpNotAcceptable) as caught:
        answer(body)
    assert caught.value.status == 488


def test_video_only_offer_is_488() -> None:
    body = offer_with().replace(b"m=audio", b"m=video")
    with pytest.raises(SdpNotAcceptable):
        answer(body)


def test_audio_without_any_connection_line_is_400() -> None:
    body = b"v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n"
    with pytest.raises(SdpError) as caught:
        answer(body)
    assert caught.value.status == 400


def test_g722_at_the_wrong_clock_rate_is_not_taken_as_g722() -> None:
    body = offer_with(formats="96 0").replace(
        b"RTP/AVP 96 0\r\n", b"RTP/AVP 96 0\r\na=rtpmap:96 G722/16000\r\n"
    )
    _, result = answer(body)
    assert result.codec == "PCMU"


def test_stereo_encodings_are_refused() -> None:
    body = offer_with(formats="96 8").replace(
        b"RTP/AVP 96 8\r\n", b"RTP/AVP 96 8\r\na=rtpmap:96 PCMU/8000/2\r\n"
    )
    _, result = answer(body)
    assert result.codec == "PCMA"


# -- directions and hold ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("offered", "wanted", "answered", "remote_hold"),
    [
        ("sendrecv", Direction.SENDRECV, Direction.SENDRECV, False),
        ("", Direction.SENDRECV, Direction.SENDRECV, False),
        ("sendonly", Direction.SENDRECV, Direction.RECVONLY, True),
        ("recvonly", Direction.SENDRECV, Direction.SENDONLY, False),
        ("inactive", Direction.SENDRECV, Direction.INACTIVE, True),
        ("sendrecv", Direction.SENDONLY, Direction.SENDONLY, False),
        ("sendonly", Direction.SENDONLY, Direction.INACTIVE, True),
        ("sendrecv", Direction.INACTIVE, Direction.INACTIVE, False),
    ],
)
def test_answer_direction_mirrors_the_offer_within_what_we_want(
    offered: str, wanted: Direction, answered: Direction, remote_hold: bool
) -> None:
    sdp, result = answer(offer_with(offered), local=LocalMedia("192.0.2.10", 20000, wanted))
    assert sdp.media[0].direction is answered
    assert result.direction is answered
    assert result.remote_hold is remote_hold


def test_session_level_sendonly_is_hold() -> None:
    sdp, result = answer(POLYCOM_HOLD)
    assert result.remote_hold
    assert sdp.media[0].direction is Direction.RECVONLY


def test_rfc2543_null_connection_is_hold_and_we_do_not_send() -> None:
    sdp, result = answer(RFC2543_HOLD)
    assert result.remote_hold
    assert result.remote is None
    assert result.direction is Direction.RECVONLY
    assert sdp.media[0].direction is Direction.RECVONLY
    assert result.codec == "PCMA"


# -- telephone-event -------------------------------------------------------------------------


def _with_events(fmtp: str | None) -> bytes:
    lines = "a=rtpmap:101 telephone-event/8000\r\n" + (f"a=fmtp:101 {fmtp}\r\n" if fmtp else "")
    return offer_with(formats="0 101") + lines.encode()


@pytest.mark.parametrize(
    ("fmtp", "answered"),
    [
        (None, "0-15"),
        ("0-15", "0-15"),
        ("0-16", "0-16"),
        ("0-16,32-40", "0-16"),
        ("0-11,16", "0-11,16"),
    ],
)
def test_telephone_events_answered_are_the_intersection(fmtp: str | None, answered: str) -> None:
    sdp, result = answer(_with_events(fmtp))
    assert result.telephone_event == 101
    assert sdp.media[0].fmtp(101) == answered


def test_disjoint_event_set_drops_telephone_event() -> None:
    sdp, result = answer(_with_events("32-40"))
    assert result.telephone_event is None
    assert sdp.media[0].payload_types == (0,)


def test_capabilities_without_telephone_event_answer_none() -> None:
    sdp, result = answer(BARESIP, Capabilities(telephone_event=None))
    assert result.telephone_event is None
    assert not sdp.media[0].values("fmtp")


def test_telephone_event_must_match_the_codec_clock_rate() -> None:
    _, result = answer(LINPHONE)
    assert result.telephone_event == 100  # the 8000 Hz one, not 48000 or 16000


def test_malformed_event_list_is_400() -> None:
    with pytest.raises(SdpError) as caught:
        answer(_with_events("0-x"))
    assert caught.value.status == 400


@given(st.frozensets(st.integers(0, 255), min_size=1))
def test_event_lists_round_trip(codes: frozenset[int]) -> None:
    assert parse_events(format_events(codes)) == codes


# -- rtcp-mux and ptime ----------------------------------------------------------------------


def test_rtcp_mux_is_answered_only_when_we_support_it() -> None:
    sdp, result = answer(BARESIP, Capabilities(rtcp_mux=True))
    assert sdp.media[0].rtcp_mux and result.rtcp_mux
    assert result.remote_rtcp == ("192.168.1.20", 10000)
    sdp, result = answer(BARESIP)
    assert not sdp.media[0].rtcp_mux and not result.rtcp_mux


def test_remote_ptime_is_reported_and_ours_is_written() -> None:
    _, result = answer(offer_with() + b"a=ptime:30\r\n")
    assert result.ptime == 30
    sdp, result = answer(offer_with())
    assert result.ptime == 20 and sdp.media[0].ptime == 20


# -- offers and answers to our offers --------------------------------------------------------


def test_offer_lists_every_codec_with_preference_first_and_telephone_event() -> None:
    offer = make_offer(CAPS, LOCAL, ORIGIN, prefer=("G722",))
    audio = offer.media[0]
    assert audio.payload_types == (9, 0, 8, 101)
    assert audio.fmtp(101) == "0-16"
    assert audio.direction is Direction.SENDRECV
    assert parse_sdp(offer.serialize()) == offer


def test_offer_over_ipv6_uses_ip6_connection() -> None:
    offer = make_offer(CAPS, LocalMedia("2001:db8::7", 4000), ORIGIN)
    assert offer.connection is not None and offer.connection.addrtype == "IP6"
    assert offer.origin.addrtype == "IP6"


def test_accept_answer_reads_the_phones_choice() -> None:
    offer = make_offer(CAPS, LOCAL, ORIGIN)
    phone_answer, phone_view = answer_offer(
        offer, Capabilities(codecs=("PCMA",)), LocalMedia("10.0.0.50", 6000), ORIGIN
    )
    result = accept_answer(offer, phone_answer, CAPS)
    assert (result.codec, result.payload_type, result.telephone_event) == ("PCMA", 8, 101)
    assert result.remote == ("10.0.0.50", 6000)
    assert phone_view.remote == ("192.0.2.10", 20000)


def test_answer_with_wrong_number_of_m_lines_is_400() -> None:
    offer = make_offer(CAPS, LOCAL, ORIGIN)
    with pytest.raises(SdpError) as caught:
        accept_answer(offer, parse_sdp(YEALINK + b"m=video 0 RTP/AVP 31\n"), CAPS)
    assert caught.value.status == 400


def test_answer_with_a_codec_we_did_not_offer_is_488() -> None:
    offer = make_offer(Capabilities(codecs=("PCMA",)), LOCAL, ORIGIN)
    with pytest.raises(SdpNotAcceptable):
        accept_answer(offer, parse_sdp(offer_with(formats="0")), CAPS)


def test_answer_rejecting_our_stream_is_488() -> None:
    offer = make_offer(CAPS, LOCAL, ORIGIN)
    rejected = offer_with().replace(b"m=audio 4000", b"m=audio 0")
    with pytest.raises(SdpNotAcceptable):
        accept_answer(offer, parse_sdp(rejected), CAPS)


def test_our_hold_offer_answered_recvonly_sends_only() -> None:
    offer = make_offer(CAPS, LocalMedia("192.0.2.10", 20000, Direction.SENDONLY), ORIGIN)
    result = accept_answer(offer, parse_sdp(offer_with("recvonly")), CAPS)
    assert result.direction is Direction.SENDONLY
    assert not result.remote_hold


def test_answer_that_says_sendonly_means_we_only_receive() -> None:
    offer = make_offer(CAPS, LOCAL, ORIGIN)
    result = accept_answer(offer, parse_sdp(offer_with("sendonly")), CAPS)
    assert result.direction is Direction.RECVONLY and result.remote_hold


# -- one leg's history: o= versions, glare, refreshes ----------------------------------------


def test_identical_reanswer_keeps_the_version_and_a_change_bumps_it() -> None:
    session = SdpSession(CAPS, "192.0.2.10", 20000, session_id="555")
    first, _ = session.receive_offer(parse_sdp(POLYCOM))
    assert first.origin.session_id == "555" and first.origin.version == 1
    again, _ = session.receive_offer(parse_sdp(POLYCOM))
    assert again.origin.version == 1 and again == first
    held, result = session.receive_offer(parse_sdp(POLYCOM_HOLD))
    assert held.origin.version == 2 and held.origin.session_id == "555"
    assert result.remote_hold
    resumed, _ = session.receive_offer(parse_sdp(POLYCOM))
    assert resumed.origin.version == 3


def test_reoffer_keeps_the_codec_already_in_use() -> None:
    session = SdpSession(CAPS, "192.0.2.10", 20000, session_id="1")
    _, first = session.receive_offer(parse_sdp(BARESIP), prefer=("PCMA",))
    _, second = session.receive_offer(parse_sdp(BARESIP))
    assert first.codec == second.codec == "PCMA"


def test_our_offers_bump_version_only_when_changed() -> None:
    session = SdpSession(CAPS, "192.0.2.10", 20000, session_id="9")
    first = session.create_offer()
    session.receive_answer(parse_sdp(offer_with()))
    refresh = session.create_offer()
    session.receive_answer(parse_sdp(offer_with()))
    hold = session.create_offer(Direction.SENDONLY)
    assert (first.origin.version, refresh.origin.version, hold.origin.version) == (1, 1, 2)
    assert hold.media[0].direction is Direction.SENDONLY


def test_offer_while_ours_is_pending_is_glare_491() -> None:
    session = SdpSession(CAPS, "192.0.2.10", 20000, session_id="9")
    session.create_offer()
    with pytest.raises(SdpError) as caught:
        session.receive_offer(parse_sdp(YEALINK))
    assert caught.value.status == 491
    with pytest.raises(SdpError) as caught:
        session.create_offer()
    assert caught.value.status == 491
    session.cancel_offer()
    session.receive_offer(parse_sdp(YEALINK))


def test_answer_without_pending_offer_is_an_error() -> None:
    session = SdpSession(CAPS, "192.0.2.10", 20000, session_id="9")
    with pytest.raises(SdpError):
        session.receive_answer(parse_sdp(YEALINK))


def test_is_refresh_compares_origin_version() -> None:
    session = SdpSession(CAPS, "192.0.2.10", 20000, session_id="9")
    session.receive_offer(parse_sdp(POLYCOM))
    assert session.is_refresh(parse_sdp(POLYCOM))
    assert not session.is_refresh(parse_sdp(POLYCOM_HOLD))


def test_random_session_id_is_numeric() -> None:
    offer = SdpSession(CAPS, "192.0.2.10", 20000).create_offer()
    assert offer.origin.session_id.isdigit()


# -- B2BUA -----------------------------------------------------------------------------------


def test_bridge_preference_puts_callers_codecs_first_then_ours() -> None:
    assert bridge_preference(parse_sdp(POLYCOM), CAPS) == ("G722", "PCMU", "PCMA")
    assert bridge_preference(parse_sdp(SRTP_ONLY), CAPS) == ("PCMU", "PCMA", "G722")
    narrow = Capabilities(codecs=("PCMA", "PCMU"))
    assert bridge_preference(parse_sdp(BARESIP), narrow) == ("PCMU", "PCMA")


def test_two_legs_with_a_common_codec_relay_without_transcoding() -> None:
    caller_offer = parse_sdp(POLYCOM)
    leg_b = SdpSession(CAPS, "192.0.2.10", 20002, session_id="2")
    offer_b = leg_b.create_offer(prefer=bridge_preference(caller_offer, CAPS))
    assert offer_b.media[0].payload_types[0] == 9
    callee_answer, _ = answer_offer(offer_b, CAPS, LocalMedia("10.0.0.60", 7000), ORIGIN)
    negotiated_b = leg_b.receive_answer(callee_answer)
    leg_a = SdpSession(CAPS, "192.0.2.10", 20000, session_id="1")
    result = answer_from_other_leg(leg_a, caller_offer, negotiated_b)
    assert result.negotiated.codec == negotiated_b.codec == "G722"
    assert not result.transcoding
    assert result.answer.media[0].payload_types == (9, 127)


def test_a_leg_without_the_other_legs_codec_is_transcoded() -> None:
    leg_b_result = answer_offer(parse_sdp(POLYCOM), CAPS, LOCAL, ORIGIN)[1]  # G722 on leg B
    leg_a = SdpSession(CAPS, "192.0.2.10", 20000, session_id="1")
    result = answer_from_other_leg(leg_a, parse_sdp(offer_with(formats="8")), leg_b_result)
    assert result.negotiated.codec == "PCMA"
    assert result.transcoding


def test_answer_from_other_leg_before_the_other_leg_answered() -> None:
    leg_a = SdpSession(CAPS, "192.0.2.10", 20000, session_id="1")
    result = answer_from_other_leg(leg_a, parse_sdp(YEALINK), None)
    assert result.negotiated.codec == "PCMU" and not result.transcoding


def test_capabilities_validate() -> None:
    with pytest.raises(ValueError):
        Capabilities(codecs=("OPUS",))
    with pytest.raises(ValueError):
        Capabilities(codecs=())
    with pytest.raises(ValueError):
        Capabilities(telephone_event=8)
    with pytest.raises(ValueError):
        Capabilities(ptime=5)
    assert Capabilities(codecs=("pcma",)).codecs == ("PCMA",)


def test_answer_without_connection_is_400() -> None:
    offer = make_offer(CAPS, LOCAL, ORIGIN)
    bare = parse_sdp(b"v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n")
    with pytest.raises(SdpError) as caught:
        accept_answer(offer, bare, CAPS)
    assert caught.value.status == 400 and "c= line" in str(caught.value)
