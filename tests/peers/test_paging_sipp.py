"""SIPp phones (UAS) paged through 621: each checks the auto-answer headers of its INVITE with
SIPp's own regexp checks (a missing header fails that SIPp run), answers at once and must get
the BYE when the caller hangs up. One phone's User-Agent selects Call-Info only."""

from __future__ import annotations

from pathlib import Path

from tests.calls.harness import Sipp, passed, wait_until
from tests.features.paging_kit import PhoneBook, start_switch

SCENARIOS = Path(__file__).parents[1] / "features" / "scenarios"


async def test_sipp_phones_get_the_auto_answer_headers_and_the_bye(tmp_path: Path) -> None:
    switch = await start_switch(tmp_path, {"paging": {"auto_answer": {"Yealink": ["call-info"]}}},
                                rights={"1001": ("paging",)})
    book = PhoneBook(switch)
    phones: list[Sipp] = []
    try:
        for extension in ("1002", "1003", "1004"):
            phone = await Sipp(str(SCENARIOS / "page_uas_all_headers.xml")).start()
            phones.append(phone)
            await book.bind(extension, phone.port, "Grandstream GXP2170")
        yealink = await Sipp(str(SCENARIOS / "page_uas_call_info_only.xml")).start()
        phones.append(yealink)
        await book.bind("1005", yealink.port, "Yealink SIP-T46U 108.86.0.20")
        caller = await book.caller("1001")
        assert (await caller.dial("621")).status == 200

        async def all_answered() -> bool:
            assert switch.paging is not None
            return switch.paging.pages()[0]["phones"] == ["1002", "1003", "1004", "1005"]

        await wait_until(all_answered)
        caller.hang_up()
        for phone in phones:
            await passed(phone)
    finally:
        for phone in phones:
            phone.stop()
        book.close()
        await switch.stop()
