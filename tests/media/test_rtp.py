"""RTP packet parse/serialize, precise errors, wraparound helpers."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from media.rtp import RtpPacket, RtpParseError, is_rtcp, seq_diff, seq_newer, ts_diff


def test_parse_minimal_header_fields() -> None:
    header = bytes([0x80, 0x80 | 8]) + struct.pack("!HII", 513, 0xDEADBEEF, 0x01020304)
    data = header + b"\xd5" * 160
    p = RtpPacket.parse(data)
    assert (p.payload_type, p.sequence_number, p.timestamp) == (8, 513, 0xDEADBEEF)
    assert p.ssrc == 0x01020304
    assert p.marker is True
    assert p.payload == b"\xd5" * 160
    assert p.csrc == () and p.extension_profile is None and p.padding == 0
    assert p.serialize() == data


def test_roundtrip_with_csrc_extension_and_padding() -> None:
    p = RtpPacket(
        payload_type=96, sequence_number=65535, timestamp=1, ssrc=7, payload=b"abc",
        csrc=(1, 2, 3), extension_profile=0xBEDE, extension=b"\x10\xff\x00\x00", padding=5,
    )
    wire = p.serialize()
    assert wire[0] == 0x80 | 0x20 | 0x10 | 3
    assert len(wire) == 12 + 12 + 4 + 4 + 3 + 5
    assert wire[-1] == 5
    assert RtpPacket.parse(wire) == p


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"\x80\x00\x00", "truncated: 3 bytes"),
        (bytes([0x40, 0]) + bytes(10), "version 1"),
        (bytes([0x82, 0]) + bytes(10) + bytes(4), "CSRC list of 2"),
        (bytes([0x90, 0]) + bytes(10) + b"\x00", "extension header"),
        (bytes([0x90, 0]) + bytes(10) + b"\xbe\xde\x00\x02" + bytes(4), "extension of 2 words"),
        (bytes([0xA0, 0]) + bytes(10) + b"ab\x00", "padding count is 0"),
        (bytes([0xA0, 0]) + bytes(10) + b"ab\x09", "padding count 9 exceeds"),
    ],
)
def test_parse_errors_name_the_defect(data: bytes, reason: str) -> None:
    with pytest.raises(RtpParseError, match=reason):
        RtpPacket.parse(data)


def test_parse_error_is_a_value_error() -> None:
    assert issubclass(RtpParseError, ValueError)


def test_serialize_rejects_unencodable_fields() -> None:
    with pytest.raises(ValueError, match="payload type"):
        RtpPacket(128, 0, 0, 0).serialize()
    with pytest.raises(ValueError, match="multiple of 4"):
        RtpPacket(0, 0, 0, 0, extension_profile=1, extension=b"x").serialize()


def test_repr_is_compact() -> None:
    r = repr(RtpPacket(0, 5, 160, 0xABC, b"x" * 160, marker=True))
    assert r == "RtpPacket(pt=0, seq=5, ts=160, ssrc=0x00000abc, M, 160B)"


def test_is_rtcp_demultiplexes_by_packet_type() -> None:
    assert is_rtcp(bytes([0x80, 200]) + bytes(6))  # SR
    assert is_rtcp(bytes([0x81, 203]))  # BYE
    assert not is_rtcp(RtpPacket(0, 1, 1, 1).serialize())
    assert not is_rtcp(RtpPacket(96, 1, 1, 1, marker=True).serialize())  # 0xE0 = 224
    assert not is_rtcp(b"\x80")


def test_sequence_wraparound() -> None:
    assert seq_diff(0, 65535) == 1
    assert seq_diff(65535, 0) == -1
    assert seq_newer(2, 65530)
    assert not seq_newer(65530, 2)
    assert not seq_newer(7, 7)
    assert seq_diff(32767, 0) == 32767
    assert seq_diff(32768, 0) == -32768
    assert ts_diff(80, 0xFFFFFFF0) == 96


@given(
    pt=st.integers(0, 127), seq=st.integers(0, 65535), ts=st.integers(0, 2**32 - 1),
    ssrc=st.integers(0, 2**32 - 1), payload=st.binary(max_size=64), marker=st.booleans(),
    csrc=st.lists(st.integers(0, 2**32 - 1), max_size=15).map(tuple),
    ext=st.one_of(st.none(), st.tuples(st.integers(0, 65535), st.binary(max_size=16))),
    padding=st.integers(0, 255),
)
def test_roundtrip_property(pt, seq, ts, ssrc, payload, marker, csrc, ext, padding) -> None:
    profile, body = (None, b"") if ext is None else (ext[0], ext[1][: len(ext[1]) // 4 * 4])
    p = RtpPacket(pt, seq, ts, ssrc, payload, marker, csrc, profile, body, padding)
    assert RtpPacket.parse(p.serialize()) == p


@given(st.binary(max_size=80))
def test_parse_never_raises_anything_but_parse_error(data: bytes) -> None:
    try:
        RtpPacket.parse(data)
    except RtpParseError:
        pass
