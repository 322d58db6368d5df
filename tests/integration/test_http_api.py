"""The HTTP edge through a real client: health, token protection, metrics."""

from __future__ import annotations

import os
import stat

import httpx

from softswitch.app import Switch
from tests.sipclient import UdpPeer, options_request


async def test_health_is_open_and_reports_listeners(switch: Switch) -> None:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{switch.http_port}") as client:
        response = await client.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert f"udp:127.0.0.1:{switch.sip_port}" in body["sip"]


async def test_api_needs_the_bearer_token_from_the_data_dir(switch: Switch) -> None:
    token_file = switch.config.data_dir / "admin-token"
    assert stat.S_IMODE(os.stat(token_file).st_mode) == 0o600
    token = token_file.read_text().strip()
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{switch.http_port}") as client:
        assert (await client.get("/api/status")).status_code == 401
        wrong = await client.get("/api/status", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        assert "token" in wrong.json()["detail"]
        ok = await client.get("/api/status", headers={"Authorization": f"Bearer {token}"})
    assert ok.status_code == 200
    assert "uptime_seconds" in ok.json()


async def test_interactive_api_docs_are_served(switch: Switch) -> None:
    """The README points operators at /api/docs; it and its OpenAPI document must be there."""
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{switch.http_port}") as client:
        page = await client.get("/api/docs")
        spec = await client.get("/api/openapi.json")
    assert page.status_code == 200 and "swagger" in page.text.lower()
    assert spec.status_code == 200
    assert "/api/registrations" in spec.json()["paths"]


async def test_metrics_count_messages_by_method_and_status(switch: Switch) -> None:
    peer = await UdpPeer.connect(switch.sip_port)
    try:
        for _ in range(3):
            assert (await peer.request(options_request(local=peer.local))).status == 200
        peer.send(b"garbage\r\n\r\n")
        assert (await peer.request(options_request(local=peer.local))).status == 200
    finally:
        peer.close()
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{switch.http_port}") as client:
        text = (await client.get("/metrics")).text
    assert 'softswitch_sip_messages_received_total{kind="request",method="OPTIONS",status=""} 4.0' in text
    assert 'softswitch_sip_messages_sent_total{kind="response",method="",status="200"} 4.0' in text
    assert 'softswitch_sip_parse_errors_total{outcome="dropped"} 1.0' in text
    assert "softswitch_sip_transactions_alive" in text
    assert "softswitch_event_loop_lag_seconds" in text
