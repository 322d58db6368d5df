"""The booking HTTP API through a real client against a running switch: cards, catalogue,
sessions and roster, bookings, appointments, and clear 4xx answers to bad input."""

from __future__ import annotations

import asyncio
import datetime
import json
from collections.abc import AsyncIterator

import httpx
import pytest

from softswitch.app import Switch


@pytest.fixture
async def api(switch: Switch) -> AsyncIterator[httpx.AsyncClient]:
    token = (switch.config.data_dir / "admin-token").read_text().strip()
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{switch.http_port}/api",
                                 headers={"Authorization": f"Bearer {token}"},
                                 timeout=30) as client:
        yield client


async def _catalogue(api: httpx.AsyncClient) -> dict[str, int]:
    """ENT with one expert (afternoon today) and a general morning session; ids by name."""
    assert (await api.post("/departments", json={
        "code": "ent", "digit": "3", "name_zh": "耳鼻喉科", "name_en": "ENT",
        "general_fee": "10.00"})).status_code == 201
    expert = (await api.post("/experts", json={"name": "王建国", "department": "ent",
                                               "title": "chief physician"})).json()
    today = datetime.date.today().isoformat()
    general = await api.put("/sessions", json={"kind": "general", "department": "ent",
                                               "date": today, "session": "morning",
                                               "capacity": 20})
    assert general.status_code == 200, general.text
    roster = await api.put("/roster", params={"date": today}, json=[
        {"expert_id": expert["id"], "session": "afternoon", "capacity": 1, "fee": "50"}])
    assert roster.status_code == 200, roster.text
    return {"expert": expert["id"], "general": general.json()["id"],
            "expert_session": roster.json()[0]["id"]}


async def test_card_is_created_and_read_back_without_its_pin(api: httpx.AsyncClient) -> None:
    created = await api.post("/cards", json={"card": "10001", "pin": "123456", "name": "张三",
                                             "phone": "13800000001", "balance": "100"})
    assert created.status_code == 201, created.text
    got = await api.get("/cards/10001")
    assert got.status_code == 200
    assert got.json() == {"card": "10001", "name": "张三", "phones": ["13800000001"],
                          "insurance": "self-pay", "balance": "100.00"}
    assert "123456" not in got.text and "pbkdf2" not in got.text and "pin" not in got.text
    topped = await api.post("/cards/10001/balance", json={"amount": "20.5"})
    assert topped.json()["balance"] == "120.50"
    ledger = (await api.get("/cards/10001/ledger")).json()
    assert [(e["reason"], e["amount"]) for e in ledger] == [("open", "100.00"),
                                                            ("topup", "20.50")]
    changed = await api.patch("/cards/10001", json={"phones": ["13800000001", "010-12345678"]})
    assert changed.json()["phones"] == ["13800000001", "01012345678"]


async def test_booking_shows_in_appointments_with_exactly_the_his_fields(
        api: httpx.AsyncClient) -> None:
    ids = await _catalogue(api)
    await api.post("/cards", json={"card": "10001", "pin": "123456", "name": "张三",
                                   "balance": "100"})
    booked = await api.post("/bookings", json={"card": "10001",
                                               "session_id": ids["expert_session"]})
    assert booked.status_code == 201, booked.text
    assert booked.json()["balance_after"] == "50.00"
    listed = await api.get("/appointments", params={"card": "10001"})
    assert listed.status_code == 200
    (appointment,) = listed.json()
    assert appointment == {
        "card": "10001", "kind": "expert", "department": "ent",
        "date": datetime.date.today().isoformat(), "session": "afternoon",
        "expert": "王建国", "ticket": booked.json()["ticket"], "fee": "50.00"}
    assert (await api.get("/cards/10001")).json()["balance"] == "50.00"
    by_ticket = await api.get(f"/bookings/{appointment['ticket']}")
    assert by_ticket.status_code == 200 and by_ticket.json() == appointment
    assert (await api.get("/bookings/X9-0101-999")).status_code == 404
    assert (await api.get("/bookings/garbage")).status_code == 404


async def test_refusals_are_4xx_with_the_reason(api: httpx.AsyncClient) -> None:
    ids = await _catalogue(api)
    await api.post("/cards", json={"card": "10001", "pin": "123456", "name": "a",
                                   "balance": "100"})
    await api.post("/cards", json={"card": "10002", "pin": "123456", "name": "b",
                                   "balance": "100"})
    await api.post("/cards", json={"card": "10003", "pin": "123456", "name": "poor",
                                   "balance": "5"})
    assert (await api.post("/bookings", json={"card": "10001", "session_id": ids[
        "expert_session"]})).status_code == 201
    cases = [
        (api.post("/bookings", json={"card": "10001", "session_id": ids["expert_session"]}),
         409, "already"),
        (api.post("/bookings", json={"card": "10002", "session_id": ids["expert_session"]}),
         409, "fully booked"),
        (api.post("/bookings", json={"card": "10003", "session_id": ids["general"]}),
         409, "balance"),
        (api.post("/bookings", json={"card": "10001", "session_id": 10**30}), 404, ""),
        (api.post("/bookings", json={"card": "99999", "session_id": ids["general"]}), 404, ""),
        (api.get("/cards/99999"), 404, "no card"),
        (api.get("/appointments", params={"card": "99999"}), 404, "no card"),
        (api.post("/cards", json={"card": "10001", "pin": "123456", "name": "dup"}), 409,
         "already exists"),
        (api.post("/cards", json={"card": "x1", "pin": "123456", "name": "n"}), 422, "card"),
        (api.post("/cards", json={"card": "20001", "pin": "1", "name": "n"}), 422, "pin"),
        (api.post("/cards", json={"card": "20001", "pin": "123456", "name": "n",
                                  "balance": "1e400"}), 422, "balance"),
        (api.post("/cards", json={"card": "20001", "pin": "123456", "name": "n",
                                  "balance": "NaN"}), 422, "balance"),
        (api.post("/cards", json={"card": "20001"}), 422, ""),
        (api.post("/cards", content=b"{not json", headers={"content-type": "application/json"}),
         422, ""),
        (api.post("/cards/10001/balance", json={"amount": "-1"}), 422, "top-up"),
        (api.post("/cards/10001/balance", json={"amount": "-500", "reason": "adjust"}), 409,
         "balance"),
        (api.get("/roster", params={"date": "2026-13-45"}), 422, "date"),
        (api.get("/sessions", params={"kind": "dental"}), 422, "kind"),
        (api.get("/sessions", params={"days": 1000}), 422, "days"),
        (api.put("/sessions", json={"kind": "general", "department": "nowhere",
                                    "date": "2026-11-26", "session": "morning",
                                    "capacity": 3}), 404, "department"),
        (api.put("/sessions", json={"kind": "general", "department": "ent",
                                    "date": "2026-11-26", "session": "evening",
                                    "capacity": 3}), 422, "session"),
        (api.put("/roster", json=[{"expert_id": ids["expert"], "session": "afternoon",
                                   "capacity": 0}]), 409, "already booked"),
        (api.put("/roster", json=[]), 409, "booking"),
        (api.put("/roster", json=[{"expert_id": 10**30, "session": "morning",
                                   "capacity": 1}]), 404, "expert"),
        (api.post("/departments", json={"code": "ENT!", "digit": "3", "name_zh": "x",
                                        "name_en": "x", "general_fee": "1"}), 422, "code"),
        (api.post("/departments", json={"code": "eye", "digit": "3", "name_zh": "眼科",
                                        "name_en": "eye", "general_fee": "1"}), 409, "digit"),
        (api.delete("/departments/ent"), 409, "experts"),
        (api.delete("/sessions/" + str(ids["expert_session"])), 409, "booking"),
        (api.post("/experts", json={"name": "x", "department": "nowhere"}), 404, "department"),
    ]
    for request, code, reason in cases:
        response = await request
        assert response.status_code == code, (response.request.url, response.request.content, response.text)
        assert reason.lower() in response.text.lower(), response.text
    assert (await api.get("/cards/10001")).json()["balance"] == "50.00"


async def test_concurrent_api_bookings_for_the_last_place(api: httpx.AsyncClient) -> None:
    ids = await _catalogue(api)
    for n in range(10):
        await api.post("/cards", json={"card": f"3000{n}", "pin": "1111", "name": f"p{n}",
                                       "balance": "80"})
    responses = await asyncio.gather(*[
        api.post("/bookings", json={"card": f"3000{n}", "session_id": ids["expert_session"]})
        for n in range(10)])
    assert sorted(r.status_code for r in responses) == [201] + [409] * 9
    balances = [(await api.get(f"/cards/3000{n}")).json()["balance"] for n in range(10)]
    assert sorted(balances) == ["30.00"] + ["80.00"] * 9


async def test_booking_api_needs_the_token(switch: Switch) -> None:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{switch.http_port}") as client:
        assert (await client.get("/api/cards/10001")).status_code == 401
        assert (await client.post("/api/cards", json={})).status_code == 401


async def test_garbage_from_the_his_gets_4xx_never_500(api: httpx.AsyncClient) -> None:
    ids = await _catalogue(api)
    odd = "\ud800\x00"  # a lone surrogate and a NUL: valid JSON, unstorable text
    requests: list[tuple[str, str, object, dict[str, str] | None]] = [
        ("POST", "/bookings", {"card": odd, "session_id": ids["general"]}, None),
        ("POST", "/bookings", {"card": "10001", "session_id": ids["general"], "channel": odd},
         None),
        ("POST", "/cards", {"card": "10009", "pin": "123456", "name": odd}, None),
        ("POST", "/cards", {"card": "10009", "pin": odd, "name": "n"}, None),
        ("POST", "/cards", {"card": "10009", "pin": "123456", "name": "x" * 10_000}, None),
        ("POST", "/cards", {"card": "10009", "pin": "123456", "name": "n", "balance": [1]},
         None),
        ("POST", "/cards", ["not", "an", "object"], None),
        ("PUT", "/sessions", {"kind": "general", "department": odd, "date": "2026-11-26",
                              "session": "morning", "capacity": 1}, None),
        ("PUT", "/sessions", {"kind": "exam", "exam": odd, "date": "2026-11-26",
                              "session": "morning", "capacity": 1}, None),
        ("PUT", "/sessions", {"kind": "general", "department": "ent", "date": "2026-11-26",
                              "session": "morning", "capacity": 10**40}, None),
        ("PUT", "/roster", {"expert_id": 1}, None),
        ("POST", "/experts", {"name": "x", "department": odd}, None),
        ("PUT", "/departments/eye", {"digit": "0", "name_zh": "眼科", "name_en": "eye",
                                     "general_fee": "1"}, None),
        ("PUT", "/exams/ct", {"digit": "3", "name_zh": "CT", "name_en": "CT", "fee": "-3"},
         None),
        ("GET", "/sessions", None, {"date": "yesterday"}),
        ("GET", "/appointments", None, None),
        ("GET", "/appointments", None, {"card": "10001", "since": "soon"}),
        ("DELETE", "/experts/not-a-number", None, None),
    ]
    for method, path, body, params in requests:
        content = None if body is None else json.dumps(body).encode()  # ASCII escapes
        response = await api.request(method, path, content=content, params=params,
                                     headers={"content-type": "application/json"})
        assert 400 <= response.status_code < 500, (method, path, body, response.text)
        assert response.json()["detail"], response.text
    assert [d["code"] for d in (await api.get("/departments")).json()] == ["ent"]
