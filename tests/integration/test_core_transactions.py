"""The SIP core over real sockets: server transactions, CANCEL, client transactions, timeouts."""

from __future__ import annotations

import asyncio
import gc
import warnings
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from softswitch.app import Switch
from softswitch.config import Config, HttpConfig, SipConfig
from softswitch.sip import Headers, Request, SipURI, new_branch, new_call_id, new_tag, parse_message
from softswitch.sip.destination import Destination
from softswitch.switch.core import ServerRequest
from tests.sipclient import UdpPeer, request_bytes


@pytest.fixture
async def fast_switch(tmp_path: Path) -> AsyncIterator[Switch]:
    """A switch with T1 = 10 ms, so transaction timeouts happen within a test's patience."""
    config = Config(
        sip=SipConfig(host="127.0.0.1", port=0, ipv6=False, t1=0.01, t2=0.04, t4=0.05),
        http=HttpConfig(host="127.0.0.1", port=0),
        data_dir=tmp_path / "data",
    )
    sw = Switch(config)
    await sw.start()
    try:
        yield sw
    finally:
        await sw.stop()


async def test_retransmitted_request_gets_the_same_answer_without_rerunning_the_handler(
    switch: Switch,
) -> None:
    calls: list[str] = []

    def on_info(req: ServerRequest) -> None:
        calls.append(req.request.call_id)
        req.reply(200)

    assert switch.core is not None
    switch.core.handle("INFO", on_info)
    peer = await UdpPeer.connect(switch.sip_port)
    try:
        data = request_bytes("INFO", local=peer.local)
        first = await peer.request(data)
        second = await peer.request(data)
    finally:
        peer.close()
    assert first.status == second.status == 200
    assert first.to.tag == second.to.tag
    assert len(calls) == 1
    assert switch.metrics.transactions_alive() >= 1


async def test_handler_that_raises_answers_500_and_switch_survives(switch: Switch) -> None:
    def broken(req: ServerRequest) -> None:
        raise RuntimeError("bug in a feature")

    async def broken_async(req: ServerRequest) -> None:
        raise RuntimeError("bug in an async feature")

    async def forgetful(req: ServerRequest) -> None:
        return None

    def failing_later(req: ServerRequest) -> asyncio.Future[None]:
        """Work handed back as a future (no task), as the registrar's posted write is."""
        work = asyncio.get_running_loop().create_future()
        asyncio.get_running_loop().call_later(0.01, work.set_exception, OSError("disk gone"))
        return work

    def forgetful_later(req: ServerRequest) -> asyncio.Future[None]:
        work = asyncio.get_running_loop().create_future()
        asyncio.get_running_loop().call_later(0.01, work.set_result, None)
        return work

    def answering_later(req: ServerRequest) -> asyncio.Future[None]:
        work = asyncio.get_running_loop().create_future()
        work.add_done_callback(lambda _: req.reply(202))  # the handler's own callback first
        asyncio.get_running_loop().call_later(0.01, work.set_result, None)
        return work

    assert switch.core is not None
    switch.core.handle("INFO", broken)
    switch.core.handle("MESSAGE", broken_async)
    switch.core.handle("PUBLISH", forgetful)
    switch.core.handle("NOTIFY", failing_later)
    switch.core.handle("UPDATE", forgetful_later)
    switch.core.handle("REFER", answering_later, stateless_first=True)
    peer = await UdpPeer.connect(switch.sip_port)
    try:
        for method in ("INFO", "MESSAGE", "PUBLISH", "NOTIFY", "UPDATE"):
            response = await peer.request(request_bytes(method, local=peer.local))
            assert response.status == 500, method
        assert (await peer.request(request_bytes("REFER", local=peer.local))).status == 202
        assert (await peer.request(request_bytes("OPTIONS", local=peer.local))).status == 200
    finally:
        peer.close()


async def test_cancel_reaches_the_invite_handler_which_answers_487(switch: Switch) -> None:
    async def ringing_forever(req: ServerRequest) -> None:
        req.reply(180, to_tag="callee")
        assert req.cancelled is not None
        await asyncio.wait_for(req.cancelled.wait(), 5)
        req.reply(487, to_tag="callee")

    assert switch.core is not None
    switch.core.handle("INVITE", ringing_forever)
    peer = await UdpPeer.connect(switch.sip_port)
    try:
        invite = request_bytes("INVITE", local=peer.local)
        ringing = await peer.request(invite)
        assert ringing.status == 180
        cancel = (
            invite.replace(b"INVITE sip:", b"CANCEL sip:", 1).replace(b"1 INVITE", b"1 CANCEL")
        )
        peer.send(cancel)
        answers = {(await peer.receive()).status, (await peer.receive()).status}
    finally:
        peer.close()
    assert answers == {200, 487}


async def test_cancel_without_invite_gets_481(switch: Switch) -> None:
    peer = await UdpPeer.connect(switch.sip_port)
    try:
        response = await peer.request(request_bytes("CANCEL", local=peer.local))
    finally:
        peer.close()
    assert response.status == 481


def _options_to(port: int) -> Request:
    uri = SipURI(host="127.0.0.1", port=port)
    headers = Headers.from_pairs([
        ("Via", f"SIP/2.0/UDP 127.0.0.1:5060;branch={new_branch()}"),
        ("Max-Forwards", "70"),
        ("From", f"<sip:switch@127.0.0.1>;tag={new_tag()}"),
        ("To", f"<sip:127.0.0.1:{port}>"),
        ("Call-ID", new_call_id("127.0.0.1")),
        ("CSeq", "1 OPTIONS"),
    ])
    return Request("OPTIONS", uri, headers)


class _Answering(asyncio.DatagramProtocol):
    """A phone that answers every request 200, after dropping the first `drop` copies."""

    def __init__(self, drop: int) -> None:
        self.drop = drop
        self.seen = 0
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.seen += 1
        if self.seen <= self.drop:
            return
        request = parse_message(data)
        assert isinstance(request, Request)
        from softswitch.sip import make_response

        assert self.transport is not None
        self.transport.sendto(make_response(request, 200).serialize(), addr)


async def test_client_transaction_retransmits_over_loss_and_resolves(fast_switch: Switch) -> None:
    loop = asyncio.get_running_loop()
    transport, phone = await loop.create_datagram_endpoint(
        lambda: _Answering(drop=2), local_addr=("127.0.0.1", 0)
    )
    port = transport.get_extra_info("sockname")[1]
    try:
        assert fast_switch.core is not None
        response = await asyncio.wait_for(
            fast_switch.core.send_request(_options_to(port), Destination("127.0.0.1", port)), 5
        )
    finally:
        transport.close()
    assert response.status == 200
    assert phone.seen == 3  # two lost, the third (Timer E retransmission) answered


async def test_client_transaction_times_out_with_408(fast_switch: Switch) -> None:
    loop = asyncio.get_running_loop()
    transport, phone = await loop.create_datagram_endpoint(
        lambda: _Answering(drop=10**6), local_addr=("127.0.0.1", 0)
    )
    port = transport.get_extra_info("sockname")[1]
    try:
        assert fast_switch.core is not None
        response = await asyncio.wait_for(
            fast_switch.core.send_request(_options_to(port), Destination("127.0.0.1", port)), 5
        )
    finally:
        transport.close()
    assert response.status == 408  # Timer F = 64*T1 = 0.64 s
    assert phone.seen >= 5


async def test_stateless_methods_skip_the_retransmission_scan(switch: Switch) -> None:
    """OPTIONS never has a transaction: the pre-parse absorber is not even asked."""
    asked: list[str] = []
    assert switch.core is not None and switch.transports is not None
    core = switch.core

    def spy(key: tuple[str, str, int | None, str]) -> bool:
        asked.append(key[3])
        return core.absorb(key)

    def on_info(req: ServerRequest) -> None:
        req.reply(200)

    switch.transports.set_absorber(spy, stateless=("OPTIONS",))
    core.handle("INFO", on_info)
    peer = await UdpPeer.connect(switch.sip_port)
    try:
        assert (await peer.request(request_bytes("OPTIONS", local=peer.local))).status == 200
        info = request_bytes("INFO", local=peer.local)
        assert (await peer.request(info)).status == 200
        assert (await peer.request(info)).status == 200  # retransmission: absorbed unparsed
    finally:
        peer.close()
    assert asked == ["INFO", "INFO"]


async def test_handler_never_started_is_closed_without_a_warning(switch: Switch) -> None:
    """A request whose handler task is cancelled before it starts (the switch stopping at
    that moment): its coroutine is closed, not left for Python to warn was never awaited."""
    started = False

    async def never_runs(req: ServerRequest) -> None:
        nonlocal started
        started = True
        req.reply(200)

    assert switch.core is not None
    core = switch.core
    core.handle("INFO", never_runs)
    request = parse_message(request_bytes("INFO"))
    assert isinstance(request, Request)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        core.receive(request, Destination("127.0.0.1", 9))  # dispatched: a task, not yet run
        core.stop()  # cancels it before its first step
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        gc.collect()
    assert not started
    assert not [w for w in caught if "never awaited" in str(w.message)]
