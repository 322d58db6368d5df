"""Stream framing (sans-IO): message boundaries, keep-alives and limits."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from softswitch.sip.errors import MessageTooLarge, RemoteProtocolError
from softswitch.sip.framing import KeepAlivePing, StreamFramer

MSG = b"OPTIONS sip:a@b SIP/2.0\r\nl: 5\r\n\r\nhello"


def test_two_messages_and_a_ping_in_one_chunk() -> None:
    framer = StreamFramer()
    frames = framer.feed(MSG + b"\r\n\r\n" + MSG)
    assert frames == [MSG, KeepAlivePing(), MSG]
    assert framer.buffered == 0


@given(st.lists(st.integers(min_value=1, max_value=40), min_size=1, max_size=30))
def test_any_split_yields_the_same_frames(cuts: list[int]) -> None:
    stream = MSG + b"\r\n\r\n" + MSG + MSG
    framer = StreamFramer()
    frames: list[object] = []
    pos = 0
    for cut in cuts:
        frames.extend(framer.feed(stream[pos : pos + cut]))
        pos += cut
    frames.extend(framer.feed(stream[pos:]))
    assert frames == [MSG, KeepAlivePing(), MSG, MSG]


def test_lone_crlf_pong_is_skipped() -> None:
    framer = StreamFramer()
    assert framer.feed(b"\r\n") == []  # could still become a ping: wait
    assert framer.feed(MSG) == [MSG]


def test_missing_content_length_is_an_error() -> None:
    with pytest.raises(RemoteProtocolError, match="Content-Length"):
        StreamFramer().feed(b"OPTIONS sip:a@b SIP/2.0\r\nVia: x\r\n\r\n")


def test_invalid_content_length_is_an_error() -> None:
    with pytest.raises(RemoteProtocolError, match="Invalid Content-Length"):
        StreamFramer().feed(b"OPTIONS sip:a@b SIP/2.0\r\nContent-Length: -1\r\n\r\n")


def test_header_and_body_limits() -> None:
    with pytest.raises(MessageTooLarge):
        StreamFramer(max_header_bytes=100).feed(b"OPTIONS sip:a@b SIP/2.0\r\nX: " + b"a" * 200)
    with pytest.raises(MessageTooLarge):
        StreamFramer(max_body_bytes=10).feed(b"OPTIONS sip:a@b SIP/2.0\r\nl: 11\r\n\r\n")
    with pytest.raises(MessageTooLarge) as info:
        StreamFramer(max_header_bytes=100).feed(b"X" * 50 + b"\r\n" + b"Y" * 80 + b"\r\n\r\n")
    assert info.value.status == 513
