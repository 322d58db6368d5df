"""Hot-desking: log in to one's extension from any phone (``*11`` + extension, then the PIN)
and out again (``*12``).

A login maps a *phone* (the extension the device itself registers as, e.g. a ward's shared
desk phone 1105) to a user's *extension* (1002). While it lasts:

- calls to 1002 also ring the phone's registered contacts (`HotdeskLocation`, which the B2BUA
  asks for an extension's contacts);
- calls from the phone are made as 1002, with 1002's class of service (`B2bua.identify_callers`).

One login per phone and per extension: a new login replaces the older one. Logins are rows of
table ``hotdesk_logins`` (migration 7), kept in memory as a write-through cache loaded at
start, so they survive a restart. The PIN is the user's voicemail PIN, three tries.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from media.tones import BEEP
from softswitch.flows import Call as FlowCall
from softswitch.store.records import Binding, User
from softswitch.store.sqlite import SqliteConnection
from softswitch.switch.b2bua import B2bua
from softswitch.switch.dialplan import Feature, Route
from softswitch.switch.directory import verify_pin
from softswitch.switch.legs import Call
from softswitch.switch.location import Location
from softswitch.switch.readcache import UserCache

__all__ = ["HotDesk", "HotdeskLocation", "LOGIN_FLOW", "LOGOUT_FLOW"]

log = logging.getLogger(__name__)

LOGIN_FLOW = "hotdesk_login"
LOGOUT_FLOW = "hotdesk_logout"
PIN_TRIES = 3


class HotDesk:
    """The logins (phone -> extension) and the ``*11``/``*12`` features."""

    def __init__(self, db: SqliteConnection, users: UserCache, clock: Callable[[], float]) -> None:
        self._db = db
        self.users = users
        self._clock = clock
        self._at: dict[str, str] = {}  # phone -> extension logged in there

    async def load(self) -> None:
        rows = await self._db.fetch_all("SELECT phone, extension FROM hotdesk_logins")
        self._at = {row["phone"]: row["extension"] for row in rows}

    def extension_at(self, phone: str) -> str | None:
        return self._at.get(phone)

    def phone_of(self, extension: str) -> str | None:
        return next((p for p, e in self._at.items() if e == extension), None)

    def device_of(self, caller: str) -> str:
        """The phone a call comes from: callers logged in elsewhere are named as the user."""
        return self.phone_of(caller) or caller

    async def login(self, phone: str, extension: str) -> None:
        """``extension`` now works at ``phone`` (committed before this returns)."""
        await self._db.write(lambda tx: _replace(tx, phone, extension, self._clock()))
        self._at = {p: e for p, e in self._at.items() if p != phone and e != extension}
        self._at[phone] = extension
        log.info("hot-desk: %s logged in at %s", extension, phone)

    async def logout(self, phone: str) -> str | None:
        """End the login at ``phone``; the extension that was there, if any."""
        extension = self._at.pop(phone, None)
        await self._db.write(lambda tx: tx.execute(
            "DELETE FROM hotdesk_logins WHERE phone = ?", (phone,)))
        if extension is not None:
            log.info("hot-desk: %s logged out of %s", extension, phone)
        return extension

    # -- wiring -------------------------------------------------------------------------
    def attach(self, b2bua: B2bua, add_flow: Callable[[str, Any], None]) -> None:
        b2bua.location = HotdeskLocation(b2bua.location, self)
        b2bua.identify_callers(self.identify)

        async def login(call: Call, route: Route) -> None:
            extension = route.argument if isinstance(route, Feature) else ""
            await b2bua.start_flow(call, LOGIN_FLOW, {
                "extension": extension, "phone": self.device_of(call.caller)})

        async def logout(call: Call, route: Route) -> None:
            await b2bua.start_flow(call, LOGOUT_FLOW, {"phone": self.device_of(call.caller)})

        b2bua.serve_feature("hotdesk_login", login)
        b2bua.serve_feature("hotdesk_logout", logout)
        add_flow(LOGIN_FLOW, self.login_flow)
        add_flow(LOGOUT_FLOW, self.logout_flow)

    async def identify(self, user: User) -> User:
        """Calls from a phone someone logged in at are that user's."""
        extension = self._at.get(user.extension)
        if extension is None:
            return user
        logged_in = await self.users.get(extension)
        return logged_in if logged_in is not None and logged_in.enabled else user

    # -- the flows ----------------------------------------------------------------------
    async def login_flow(self, call: FlowCall) -> None:
        """PIN for the dialled extension, then the login and a beep; "wrong PIN" otherwise."""
        await call.answer()
        extension, phone = str(call.variables["extension"]), str(call.variables["phone"])
        user = await self.users.get(extension) if extension.isdigit() else None
        if user is None or not user.enabled or not user.voicemail_pin_hash:
            await call.play("number_invalid", barge_in=False)
            await call.hangup()
            return
        for _ in range(PIN_TRIES):
            pin = await call.collect(12, timeout=10, prompt="vm_enter_pin")
            if pin and verify_pin(pin, user.voicemail_pin_hash):
                await self.login(phone, extension)
                await call.play(BEEP, barge_in=False)
                await call.hangup()
                return
            await call.play("vm_wrong_pin")
        await call.hangup()

    async def logout_flow(self, call: FlowCall) -> None:
        await call.answer()
        await self.logout(str(call.variables["phone"]))
        await call.play(BEEP, barge_in=False)
        await call.hangup()


async def _replace(tx: Any, phone: str, extension: str, now: float) -> None:
    await tx.execute("DELETE FROM hotdesk_logins WHERE phone = ? OR extension = ?",
                     (phone, extension))
    await tx.execute("INSERT INTO hotdesk_logins (phone, extension, since) VALUES (?, ?, ?)",
                     (phone, extension, now))


class HotdeskLocation:
    """The B2BUA's location with logins added: an extension's own contacts, then those of
    the phone it is logged in at."""

    def __init__(self, location: Location, desk: HotDesk) -> None:
        self.inner = location
        self.desk = desk

    async def contacts_for(self, extension: str) -> list[Binding]:
        own = await self.inner.contacts_for(extension)
        phone = self.desk.phone_of(extension)
        if phone is None:
            return own
        return own + await self.inner.contacts_for(phone)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)
