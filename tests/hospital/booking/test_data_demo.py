"""`softswitch run --demo`: the demo hospital's booking data is there and bookable, the
README's cards and PINs work, and a directory in use is never touched."""

from __future__ import annotations

import dataclasses
import datetime
from pathlib import Path

import httpx
import pytest

from softswitch.app import Switch
from softswitch.config import Config, HttpConfig, SipConfig
from softswitch.hospital.booking import BookingService, InsufficientBalance
from softswitch.hospital.booking.demo import DEMO_CARDS, DEMO_DAYS


def _config(data: Path, demo: bool = True) -> Config:
    return Config(sip=SipConfig(host="127.0.0.1", port=0, ipv6=False),
                  http=HttpConfig(host="127.0.0.1", port=0), data_dir=data, demo=demo)


async def test_demo_hospital_has_departments_roster_exams_and_cards(tmp_path: Path) -> None:
    switch = Switch(_config(tmp_path / "data"))
    await switch.start()
    try:
        service = switch.booking
        assert service is not None
        departments = await service.departments()
        assert [(d.digit, d.name_en) for d in departments] == [
            ("1", "Internal medicine"), ("2", "Surgery"), ("3", "ENT"), ("4", "Paediatrics"),
            ("5", "Obstetrics & gynaecology"), ("6", "Ophthalmology")]
        assert [d.name_zh for d in departments][:3] == ["内科", "外科", "耳鼻喉科"]
        assert [(x.digit, x.code) for x in await service.exam_types()] == [
            ("1", "ultrasound"), ("2", "x-ray"), ("3", "ct")]
        today = service.today()
        week = await service.sessions(kind="expert", start=today, days=DEMO_DAYS + 1)
        assert {s.date for s in week} == {today + datetime.timedelta(n) for n in range(DEMO_DAYS)}
        ent_today = await service.sessions(kind="expert", department="ent", on=today)
        assert [(s.half, s.expert.name if s.expert else None) for s in ent_today] == [
            ("morning", "陈静"), ("afternoon", "杨帆")]
        assert all(s.capacity > 0 and s.fee > 0 for s in week)
        general = await service.sessions(kind="general", department="surgery", on=today)
        assert [s.half for s in general] == ["morning", "afternoon"]
        assert len(await service.sessions(kind="exam", exam="ct", on=today)) == 2
        for card in DEMO_CARDS:
            verified = await service.verify_card(card.number, card.pin, source="test")
            assert verified.balance == card.balance
        low = next(c for c in DEMO_CARDS if c.balance < 10)
        with pytest.raises(InsufficientBalance):
            await service.book(low.number, ent_today[0].id, channel="test")
        booking = await service.book(DEMO_CARDS[0].number, ent_today[0].id, channel="test")
        token = (switch.config.data_dir / "admin-token").read_text().strip()
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{switch.http_port}") as client:
            listed = await client.get("/api/appointments", params={"card": booking.card},
                                      headers={"Authorization": f"Bearer {token}"})
        assert [a["ticket"] for a in listed.json()] == [booking.ticket]
    finally:
        await switch.stop()


async def test_demo_booking_data_is_loaded_once(tmp_path: Path) -> None:
    data = tmp_path / "data"
    first = Switch(_config(data))
    await first.start()
    assert first.booking is not None
    await first.booking.change_balance(DEMO_CARDS[0].number, "1")
    await first.stop()
    second = Switch(_config(data))
    await second.start()
    try:
        assert second.booking is not None
        card = await second.booking.card(DEMO_CARDS[0].number)
        assert card is not None and card.balance == DEMO_CARDS[0].balance + 1
        assert len(await second.booking.departments()) == 6
    finally:
        await second.stop()


async def test_without_demo_there_is_no_booking_data(tmp_path: Path) -> None:
    switch = Switch(dataclasses.replace(_config(tmp_path / "data"), demo=False))
    await switch.start()
    try:
        assert isinstance(switch.booking, BookingService)
        assert await switch.booking.departments() == []
    finally:
        await switch.stop()
