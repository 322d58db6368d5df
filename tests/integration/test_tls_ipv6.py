"""TLS when a certificate is configured, and IPv6 listeners next to IPv4."""

from __future__ import annotations

import asyncio
import ssl
import subprocess
import threading
from pathlib import Path

from softswitch.app import Switch
from softswitch.config import Config, HttpConfig, SipConfig
from softswitch.sip import Response, parse_message
from tests.process import free_port
from tests.sipclient import UdpPeer, options_request


def make_certificate(directory: Path) -> tuple[Path, Path]:
    """A throw-away self-signed certificate for 127.0.0.1 (openssl from Debian)."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )
    return cert, key


async def test_options_over_tls(tmp_path: Path) -> None:
    cert, key = make_certificate(tmp_path)
    tls_port = free_port()
    config = Config(
        sip=SipConfig(host="127.0.0.1", port=0, ipv6=False, tls_port=tls_port,
                      tls_cert=str(cert), tls_key=str(key)),
        http=HttpConfig(host="127.0.0.1", port=0),
        data_dir=tmp_path / "data",
    )
    switch = Switch(config)
    await switch.start()
    try:
        assert f"tls:127.0.0.1:{tls_port}" in switch.transports.listening()  # type: ignore[union-attr]
        context = ssl.create_default_context(cafile=str(cert))
        reader, writer = await asyncio.open_connection("127.0.0.1", tls_port, ssl=context)
        writer.write(options_request(transport="TLS"))
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
        writer.close()
    finally:
        await switch.stop()
    response = parse_message(head)
    assert isinstance(response, Response)
    assert response.status == 200


async def test_unreadable_tls_files_are_a_startup_error(tmp_path: Path) -> None:
    from softswitch.app import StartupError

    config = Config(
        sip=SipConfig(host="127.0.0.1", port=0, ipv6=False, tls_port=free_port(),
                      tls_cert=str(tmp_path / "missing.pem"), tls_key=str(tmp_path / "k.pem")),
        http=HttpConfig(host="127.0.0.1", port=0),
        data_dir=tmp_path / "data",
    )
    switch = Switch(config)
    database_threads = _database_threads()
    try:
        await switch.start()
    except StartupError as exc:
        assert "TLS" in str(exc)
    else:
        await switch.stop()
        raise AssertionError("a missing certificate must stop the start")
    # The database it opened is closed: a worker thread left running keeps Python from exiting.
    started = [t for t in threading.enumerate()
               if "connection_worker" in t.name and t.ident not in database_threads]
    for thread in started:
        thread.join(timeout=5)
    assert not [t for t in started if t.is_alive()]


def _database_threads() -> set[int | None]:
    return {t.ident for t in threading.enumerate() if "connection_worker" in t.name}


async def test_ipv6_loopback_listener(tmp_path: Path) -> None:
    config = Config(
        sip=SipConfig(host="::1", port=0),
        http=HttpConfig(host="127.0.0.1", port=0),
        data_dir=tmp_path / "data",
    )
    switch = Switch(config)
    await switch.start()
    try:
        peer = await UdpPeer.connect(switch.sip_port, host="::1")
        try:
            response = await peer.request(options_request(local=("::1", peer.local[1]),
                                                          uri="sip:[::1]"))
        finally:
            peer.close()
    finally:
        await switch.stop()
    assert response.status == 200
    assert response.top_via.host == "::1"
