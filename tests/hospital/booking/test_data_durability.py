"""A booking acknowledged by the switch survives kill -9: ticket, charge and place."""

from __future__ import annotations

import signal
from pathlib import Path

import httpx

from tests.process import SwitchProcess


def _client(process: SwitchProcess, data: Path) -> httpx.Client:
    token = (data / "admin-token").read_text().strip()
    return httpx.Client(base_url=f"http://127.0.0.1:{process.http_port}/api",
                        headers={"Authorization": f"Bearer {token}"}, timeout=30)


def test_a_booking_survives_kill_9(tmp_path: Path) -> None:
    data = tmp_path / "data"
    first = SwitchProcess(data, "--demo").start(timeout=60)
    try:
        with _client(first, data) as api:
            (session,) = [s for s in api.get("/sessions", params={
                "kind": "expert", "department": "ent"}).json() if s["session"] == "morning"]
            booked = api.post("/bookings", json={"card": "10001", "session_id": session["id"]})
            assert booked.status_code == 201, booked.text
    finally:
        first.stop(signal.SIGKILL)
    second = SwitchProcess(data).start(timeout=60)
    try:
        with _client(second, data) as api:
            appointments = api.get("/appointments", params={"card": "10001"}).json()
            card = api.get("/cards/10001").json()
            again = api.get("/sessions", params={"kind": "expert", "department": "ent"}).json()
    finally:
        second.stop()
    assert [a["ticket"] for a in appointments] == [booked.json()["ticket"]]
    assert card["balance"] == booked.json()["balance_after"] == "450.00"
    assert [s["booked"] for s in again if s["id"] == session["id"]] == [1]
