"""SIPp registers with MD5 digest over UDP and TCP (SIPp has no SHA-256 and answers only the
first challenge, so this switch offers MD5 first)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.peers.registering import registrations, start_switch
from tests.peers.sipp import run_sipp

USERS = {f"{5000 + i}": f"sipp-pass-{i:03d}" for i in range(20)}


@pytest.mark.parametrize("transport", ["u1", "t1"])
def test_sipp_registers_with_md5_digest(tmp_path: Path, transport: str) -> None:
    injection = tmp_path / "users.csv"
    injection.write_text("SEQUENTIAL\n" + "".join(
        f"{ext};[authentication username={ext} password={pw}]\n" for ext, pw in USERS.items()))
    proc = start_switch(tmp_path, '[security]\ndigest_algorithms = ["MD5", "SHA-256"]\n', **USERS)
    try:
        result = run_sipp("register_auth.xml", proc.sip_port, transport=transport, calls=40,
                          rate=40, extra=("-inf", str(injection)))
    finally:
        proc.stop()
    assert result.returncode == 0, result.output[-2000:]
    assert (result.successful, result.failed) == (40, 0)
    rows = registrations(tmp_path / "data")
    assert {row["extension"] for row in rows} == set(USERS)
    assert {row["transport"] for row in rows} == {"UDP" if transport == "u1" else "TCP"}
