"""A bounded fuzz run in the normal suite (the long one is tests/fuzz/fuzz_parser.py).

Inputs are noise and mutated torture messages; `exercise` raises on anything but a
ProtocolError, and checks that replies and re-serialized messages parse again.
"""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.sip.receive import exercise

CORPUS = sorted((Path(__file__).parent / "torture").glob("*.sip"))
SEEDS = [path.read_bytes() for path in CORPUS]
FUZZ = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Fragments that steer mutations towards the grammar's edges (b'\xc2\xb2' is a digit to isdigit()).
FRAGMENTS = [
    b"\r\n", b"\r\n ", b"\n", b";", b",", b'"', b"\\", b"<", b">", b"@", b":", b"?", b"%", b"[",
    b"]", b"=", b" ", b"\t", b"\x00", b"\xff", b"\xc2\xb2", b"SIP/2.0", b"z9hG4bK",
    b"Content-Length: 99999\r\n", b"Via: SIP/2.0/UDP [::1;branch=x\r\n", b"l: -1\r\n",
]


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 6))):
        if not data:
            break
        at = draw(st.integers(0, len(data) - 1))
        op = draw(st.integers(0, 4))
        if op == 0:
            data[at] = draw(st.integers(0, 255))
        elif op == 1:
            data[at:at] = draw(st.sampled_from(FRAGMENTS))
        elif op == 2:
            del data[at : at + draw(st.integers(1, 40))]
        elif op == 3:
            del data[at:]
        else:
            end = data.find(b"\n", at)
            line = data[data.rfind(b"\n", 0, at) + 1 : end + 1] if end >= 0 else b""
            data[at:at] = line
    return bytes(data)


@settings(FUZZ, max_examples=400)
@given(mutated())
def test_mutated_torture_messages_never_escape_the_receive_path(data: bytes) -> None:
    exercise(data)


@FUZZ
@given(st.binary(max_size=600))
def test_noise_never_escapes_the_receive_path(data: bytes) -> None:
    exercise(data)


@FUZZ
@given(st.sampled_from(SEEDS), st.integers(1, 4096))
def test_oversize_refusal_works_from_any_cut_of_the_header(data: bytes, limit: int) -> None:
    exercise(data, max_size=limit)
