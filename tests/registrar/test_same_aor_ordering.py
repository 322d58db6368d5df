"""Two REGISTERs for one AOR in flight at once, over real UDP: the second must see what the
first wrote (RFC 3261 10.3 step 7), whether it takes the task-free path or waits its turn."""

from __future__ import annotations

from softswitch.app import Switch
from softswitch.sip import Response
from tests.registrar.client import Phone, challenge_of
from tests.registrar.conftest import PASSWORDS
from tests.sipclient import UdpPeer


async def _two_at_once(udp: UdpPeer, phone: Phone, first: int, second: int) -> dict[str, int]:
    """Answer two fresh challenges, send both answers back to back; status by CSeq."""
    answers = []
    for cseq in (first, second):
        challenge = await udp.request(phone.register_bytes(cseq=cseq))
        assert challenge.status == 401
        authorization = phone.answer(challenge_of(challenge, phone.algorithm))
        answers.append(phone.register_bytes(cseq=cseq, authorization=authorization))
    for datagram in answers:
        udp.send(datagram)
    replies: list[Response] = [await udp.receive(), await udp.receive()]
    return {reply.cseq.number: reply.status for reply in replies}  # type: ignore[attr-defined]


async def test_an_older_cseq_sent_right_behind_a_newer_one_is_refused(
    directory_switch: Switch, udp: UdpPeer
) -> None:
    phone = Phone(udp, "1001", PASSWORDS["1001"])
    assert (await phone.register(cseq=1)).status == 200  # the AOR is now cached
    assert await _two_at_once(udp, phone, 10, 9) == {10: 200, 9: 500}
    assert directory_switch.database is not None
    stored = await directory_switch.database.bindings.for_aor("1001", 0)
    assert [binding.cseq for binding in stored] == [10]


async def test_two_in_order_both_succeed_and_the_last_is_stored(
    directory_switch: Switch, udp: UdpPeer
) -> None:
    phone = Phone(udp, "1001", PASSWORDS["1001"])
    assert (await phone.register(cseq=1)).status == 200
    assert await _two_at_once(udp, phone, 5, 6) == {5: 200, 6: 200}
    assert directory_switch.database is not None
    stored = await directory_switch.database.bindings.for_aor("1001", 0)
    assert [binding.cseq for binding in stored] == [6]
