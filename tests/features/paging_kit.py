"""Shared set-up for paging and intercom tests: a switch on loopback with feature config,
users with rights, answering phones registered as contacts, tone analysis of received RTP."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from media.codecs import get_codec
from softswitch.app import Switch
from softswitch.store import Binding
from softswitch.switch.directory import make_user
from tests.calls.harness import calls_config
from tests.features.phone import Phone

__all__ = ["PASSWORD", "PhoneBook", "feature_switch", "start_switch", "tone_share"]

PASSWORD = "feature-pass-1"


async def start_switch(tmp: Path, features: Mapping[str, Any] | None = None,
                       rights: Mapping[str, tuple[str, ...]] | None = None,
                       digest: tuple[str, ...] = ("MD5", "SHA-256")) -> Switch:
    """A started switch; users 1001-1009 with password PASSWORD and the given rights
    (``digest``: the challenges offered; baresip 1.0 needs MD5 alone)."""
    config = calls_config(tmp)
    switch = Switch(replace(config, features=dict(features or {}),
                            security=replace(config.security, digest_algorithms=digest)))
    await switch.start()
    assert switch.database is not None
    rights = rights or {}
    await switch.database.users.add_many([
        make_user(str(n), PASSWORD, switch.realm, rights=rights.get(str(n), ()))
        for n in range(1001, 1010)])
    return switch


@asynccontextmanager
async def feature_switch(tmp: Path, features: Mapping[str, Any] | None = None,
                         rights: Mapping[str, tuple[str, ...]] | None = None,
                         digest: tuple[str, ...] = ("MD5", "SHA-256")) -> AsyncIterator[Switch]:
    """`start_switch`, stopped at the end."""
    switch = await start_switch(tmp, features, rights, digest)
    try:
        yield switch
    finally:
        await switch.stop()


class PhoneBook:
    """The phones of one test, each closed at the end."""

    def __init__(self, switch: Switch) -> None:
        self.switch = switch
        self.phones: list[Phone] = []

    async def answering(self, extension: str, mode: str = "answer",
                        user_agent: str = "") -> Phone:
        """A phone registered (added to the extension's contacts) at its own port."""
        phone = await Phone(mode).start()
        self.phones.append(phone)
        await self.bind(extension, phone.sip_port, user_agent)
        return phone

    async def bind(self, extension: str, port: int, user_agent: str = "") -> None:
        """Add a live UDP contact at 127.0.0.1:port to the extension, as a REGISTER would."""
        db = self.switch.database
        assert db is not None
        now = time.time()
        current = await db.bindings.for_aor(extension, now)
        await db.bindings.update(extension, [*current, Binding(
            aor=extension, contact=f"sip:{extension}@127.0.0.1:{port}",
            expires_at=now + 600, call_id=f"reg-{port}", cseq=1,
            source_host="127.0.0.1", source_port=port, transport="UDP",
            user_agent=user_agent, last_seen=now)])

    async def caller(self, extension: str) -> Phone:
        phone = await Phone(extension=extension, password=PASSWORD,
                            switch_port=self.switch.sip_port).start()
        self.phones.append(phone)
        return phone

    def close(self) -> None:
        for phone in self.phones:
            phone.close()

    def __enter__(self) -> PhoneBook:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def tone_share(payloads: list[bytes], freq: float, width: float = 40.0) -> float:
    """Share of the PCMU audio's energy within ``width`` Hz of ``freq``."""
    if not payloads:
        return 0.0
    codec = get_codec("PCMU")
    samples = np.concatenate([codec.decode(p) for p in payloads]).astype(np.float64)
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples)))) ** 2
    freqs = np.fft.rfftfreq(len(samples), 1 / 8000)
    total = float(spectrum.sum())
    return float(spectrum[np.abs(freqs - freq) <= width].sum()) / total if total else 0.0
