"""RTCP SR/RR/SDES/BYE wire format and compound packets."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from media.rtcp import (
    Bye,
    ReceiverReport,
    ReportBlock,
    RtcpParseError,
    SdesChunk,
    SenderReport,
    SourceDescription,
    UnknownRtcp,
    ntp_middle32,
    ntp_timestamp,
    parse_rtcp,
    serialize_rtcp,
)
from media.rtp import is_rtcp

BLOCK = ReportBlock(0x1111, 25, -3, 0x0001_0005, 80, 0xAABBCCDD, 65536)


def test_sender_report_wire_layout() -> None:
    sr = SenderReport(0xCAFE, (5 << 32) | 7, 160, 10, 1600, (BLOCK,))
    wire = sr.serialize()
    assert len(wire) == 4 + 24 + 24
    assert wire[:4] == bytes([0x81, 200, 0, 12])
    assert struct.unpack("!IIIIII", wire[4:28]) == (0xCAFE, 5, 7, 160, 10, 1600)
    # cumulative lost -3 is 24-bit two's complement
    assert wire[28 + 4 : 28 + 8] == bytes([25, 0xFF, 0xFF, 0xFD])
    assert parse_rtcp(wire) == [sr]
    assert is_rtcp(wire)


def test_compound_rr_sdes_bye_roundtrip() -> None:
    packets = [
        ReceiverReport(0x2222, (BLOCK, ReportBlock(3, 0, 0, 9, 0))),
        SourceDescription.cname(0x2222, "ward7@10.0.0.1"),
        Bye((0x2222, 0x3333), "hangup"),
    ]
    wire = serialize_rtcp(packets)
    assert len(wire) % 4 == 0
    parsed = parse_rtcp(wire)
    assert parsed == packets
    assert parsed[1].chunks[0].cname == "ward7@10.0.0.1"


@pytest.mark.parametrize("cname", ["", "a", "ab", "abc", "abcd", "x" * 255])
def test_sdes_always_null_terminated_and_word_aligned(cname: str) -> None:
    wire = SourceDescription.cname(1, cname).serialize()
    assert len(wire) % 4 == 0
    assert wire[-1] == 0
    assert parse_rtcp(wire)[0].chunks[0].cname == cname


def test_multiple_sdes_chunks_and_items() -> None:
    sdes = SourceDescription(
        (SdesChunk(1, ((1, b"one"), (2, b"Ward Seven"))), SdesChunk(2, ((1, b"two"),)))
    )
    assert parse_rtcp(sdes.serialize()) == [sdes]


def test_unknown_packet_types_are_kept_whole() -> None:
    app = UnknownRtcp(204, 1, b"\x00\x00\x00\x01name")
    assert parse_rtcp(ReceiverReport(9).serialize() + app.serialize()) == [ReceiverReport(9), app]


def test_padding_on_last_packet_is_removed() -> None:
    wire = bytearray(Bye((7,)).serialize() + b"\x00\x00\x00\x04")
    wire[0] |= 0x20
    wire[3] += 1
    assert parse_rtcp(bytes(wire)) == [Bye((7,))]


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"\x80\xc8", "truncated: 2 bytes"),
        (bytes([0x40, 201, 0, 1]) + bytes(4), "version 1"),
        (bytes([0x80, 201, 0, 5]) + bytes(4), "truncated: length says 20 bytes, 4 present"),
        (bytes([0x81, 201, 0, 1]) + bytes(4), "RR with 1 blocks needs 28"),
        (bytes([0x80, 200, 0, 1]) + bytes(4), "SR with 0 blocks needs 24"),
        (bytes([0x81, 202, 0, 2]) + bytes(4) + b"\x01\x09ab", "item type 1 overruns"),
        (bytes([0x81, 202, 0, 2]) + bytes(4) + b"\x01\x02ab", "no terminating null"),
        (bytes([0x81, 203, 0, 2]) + bytes(4) + b"\x09abc", "reason overruns"),
        (ReceiverReport(1).serialize() + b"\x80", "trailing 1 bytes"),
    ],
)
def test_parse_errors_name_the_defect(data: bytes, reason: str) -> None:
    with pytest.raises(RtcpParseError, match=reason):
        parse_rtcp(data)


def test_ntp_timestamp_and_middle_bits() -> None:
    ntp = ntp_timestamp(1.5)
    assert ntp >> 32 == 2_208_988_801
    assert ntp & 0xFFFFFFFF == 1 << 31
    assert ntp_middle32(ntp) == ((2_208_988_801 & 0xFFFF) << 16) | 0x8000


@given(
    ssrc=st.integers(0, 2**32 - 1),
    blocks=st.lists(
        st.builds(
            ReportBlock, st.integers(0, 2**32 - 1), st.integers(0, 255),
            st.integers(-0x800000, 0x7FFFFF), st.integers(0, 2**32 - 1),
            st.integers(0, 2**32 - 1), st.integers(0, 2**32 - 1), st.integers(0, 2**32 - 1),
        ),
        max_size=31,
    ),
)
def test_receiver_report_roundtrip_property(ssrc: int, blocks: list[ReportBlock]) -> None:
    rr = ReceiverReport(ssrc, tuple(blocks))
    assert parse_rtcp(rr.serialize()) == [rr]


@given(st.binary(max_size=120))
def test_parse_never_raises_anything_but_parse_error(data: bytes) -> None:
    try:
        parse_rtcp(data)
    except RtcpParseError:
        pass
