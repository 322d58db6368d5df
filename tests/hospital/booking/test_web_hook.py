"""Web pages of features are served at the root of the switch's HTTP port, outside /api."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from softswitch.app import Switch
from softswitch.config import Config, ConfigError, HttpConfig, SipConfig, load_config


async def test_page_routers_are_served_at_the_root_without_the_api_token(tmp_path: Path) -> None:
    pages = APIRouter()

    @pages.get("/hello")
    async def hello() -> HTMLResponse:
        return HTMLResponse("<p>hello</p>")

    switch = Switch(Config(sip=SipConfig(host="127.0.0.1", port=0, ipv6=False),
                           http=HttpConfig(host="127.0.0.1", port=0), data_dir=tmp_path))
    switch.page_routers.append(pages)
    await switch.start()
    try:
        base = f"http://127.0.0.1:{switch.http_port}"
        async with httpx.AsyncClient(base_url=base, timeout=10) as client:
            page = await client.get("/hello")
            api = await client.get("/api/status")
    finally:
        await switch.stop()
    assert page.status_code == 200 and page.text == "<p>hello</p>"
    assert api.status_code == 401


def test_the_staff_password_is_read_from_the_http_section(tmp_path: Path) -> None:
    path = tmp_path / "switch.toml"
    path.write_text('[http]\nstaff_password = "roster-desk"\n')
    assert load_config(path).http.staff_password == "roster-desk"
    path.write_text("[http]\nstaff_password = 1234\n")
    with pytest.raises(ConfigError, match=r"\[http\]: staff_password must be a string"):
        load_config(path)
