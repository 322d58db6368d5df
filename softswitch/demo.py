"""The demo hospital: what `softswitch run --demo` (and so `make run`) loads into an empty data
directory, so a newcomer can register a softphone and make a call within a minute.

Only an empty directory is filled: a data directory that has any extension is never touched.
The passwords are public (they are in the README): a demo is not a deployment.
"""

from __future__ import annotations

from dataclasses import dataclass

from softswitch.hospital.booking import BookingService
from softswitch.hospital.booking.demo import load_booking_demo
from softswitch.store import Database
from softswitch.switch.directory import make_user

__all__ = ["DEMO_PHONES", "DemoPhone", "load_demo"]


@dataclass(frozen=True)
class DemoPhone:
    extension: str
    password: str
    name: str
    department: str
    rights: tuple[str, ...] = ()


DEMO_PHONES = (
    DemoPhone("1001", "ward3-nurses", "Ward 3 nurse station", "Internal medicine",
              ("intercom",)),
    DemoPhone("1002", "ward5-nurses", "Ward 5 nurse station", "Surgery"),
    DemoPhone("1003", "dr-li-office", "Dr Li", "ENT"),
    DemoPhone("1004", "switchboard", "Switchboard agent", "Contact centre"),
    DemoPhone("1005", "president-office", "Hospital president", "Administration", ("paging",)),
    DemoPhone("1101", "bed-3-12-intercom", "Bedside intercom 3-12", "Internal medicine"),
)


async def load_demo(db: Database, realm: str) -> int:
    """Add the demo phones and the demo booking data (departments, experts, roster, visit
    cards) if the directory is empty; return how many phones were added."""
    if await db.users.count() > 0:
        return 0
    users = [
        make_user(
            phone.extension, phone.password, realm, display_name=phone.name,
            department=phone.department, rights=phone.rights,
        )
        for phone in DEMO_PHONES
    ]
    await db.users.add_many(users)
    await load_booking_demo(BookingService(db))
    return len(users)
