"""The switch process: opens storage, binds the transports, serves HTTP, stops cleanly.

`Switch` is what `softswitch run` and the integration tests start; it wires the layers together
and owns nothing that a layer could own itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import signal
import socket
import time
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

from fastapi import APIRouter

from media import Leg as MediaLeg
from media import MediaEngine
from softswitch.config import Config
from softswitch.demo import load_demo
from softswitch.features import (
    ConferenceService,
    InCallKeys,
    IntercomService,
    PagingService,
    PickupService,
    TransferKeys,
    TransferService,
    conference_settings_from,
    intercom_settings_from,
    paging_settings_from,
    pickup_groups_from,
)
from softswitch.features.conference_setup import start_conferences
from softswitch.features.dialing import FlowDialer
from softswitch.features.followme import FLOW as FOLLOW_ME_FLOW
from softswitch.features.followme import FollowMe
from softswitch.features.followme_api import line_settings_router
from softswitch.features.followme_store import LineSettingsRepository
from softswitch.features.hotdesk import HotDesk
from softswitch.features.recording_setup import RecordingFeature, start_recording
from softswitch.features.speeddial import SpeedDials, speed_dials_from
from softswitch.features.speeddial_api import speed_dials_router
from softswitch.features.voicemail_setup import VoicemailFeature, start_voicemail
from softswitch.features.waiting import CallWaiting
from softswitch.flows import (
    EngineMediaPort,
    FlowFunc,
    FlowNotFound,
    FlowRegistry,
    FlowRunner,
    FlowSession,
)
from softswitch.flows.tts import TextToSpeech
from softswitch.heap import settle_heap
from softswitch.hospital.booking import BookingService
from softswitch.hospital.booking.flow import make_appointments_flow
from softswitch.hospital.booking.phone import phone_settings_from
from softswitch.hospital.booking.web import booking_pages
from softswitch.metrics import SwitchMetrics
from softswitch.sip.destination import Destination
from softswitch.sip.digest import DigestAlgorithm, DigestAuthenticator, DigestParseError
from softswitch.store import Database, StoreError, open_database
from softswitch.switch.abuse import BruteForceGuard, ScannerFilter
from softswitch.switch.auth import RequestAuthenticator
from softswitch.switch.b2bua import B2bua
from softswitch.switch.call_settings import call_settings_from
from softswitch.switch.core import SipCore
from softswitch.switch.dialplan import DialPlan, Paging
from softswitch.switch.legs import Call
from softswitch.switch.location import Location
from softswitch.switch.qualify import Qualifier
from softswitch.switch.readcache import UserCache
from softswitch.switch.registrar import Registrar
from softswitch.switch.registration import RegistrationPolicy
from softswitch.switch.security_log import SecurityLog
from softswitch.switch.trunk_config import trunks_from
from softswitch.switch.trunks import Trunks
from softswitch.transport.manager import TlsConfigError, TransportManager
from softswitch.web import HttpServer, create_app
from softswitch.web.auth import ensure_admin_token
from softswitch.web.routes import registrations_router, security_events_router, users_router
from softswitch.web.routes.booking import booking_router
from softswitch.web.routes.calls import calls_router, cdr_router
from softswitch.web.routes.trunks import trunks_router

__all__ = ["StartupError", "Switch", "run_until_signalled"]

log = logging.getLogger(__name__)


BUILTIN_FLOWS = {
    "appointments": "Appointment booking: card + PIN, clinic or exam, day, expert, ticket.",
}
"""Flows the switch registers itself at start (`add_builtin_flow`), for `softswitch flows`."""


class StartupError(Exception):
    """The switch cannot start (port in use, unwritable data dir, bad TLS files...)."""


class Switch:
    def __init__(self, config: Config) -> None:
        self.config = config
        self.metrics = SwitchMetrics()
        self.transports: TransportManager | None = None
        self.core: SipCore | None = None
        self.http: HttpServer | None = None
        self.started_at = 0.0
        self.admin_token = ""
        self.database: Database | None = None
        self.realm = ""
        self.users: UserCache | None = None
        self.security_log: SecurityLog | None = None
        self.authenticator: RequestAuthenticator | None = None
        self.registrar: Registrar | None = None
        self.location: Location | None = None
        self.qualifier: Qualifier | None = None
        # -- calls (B2BUA, issue 5): tests and `run` may replace plan/settings before start()
        self.dial_plan = DialPlan.from_config(config.features)  # raises ConfigError
        self.flow_registry = FlowRegistry.from_config(config.features.get("flows"))
        self.flow_runner: FlowRunner | None = None
        self._prompt_files: dict[str, Path] = {}
        self.call_settings = call_settings_from(config.features)  # raises ConfigError
        self.paging_settings = paging_settings_from(  # raises ConfigError
            config.features, tuple(self.dial_plan.paging.values()))
        self.intercom_settings = intercom_settings_from(config.features)
        self.paging: PagingService | None = None
        self.trunk_configs = trunks_from(config.features)  # raises ConfigError
        self.trunks: Trunks | None = None
        self.media: MediaEngine | None = None
        self.b2bua: B2bua | None = None
        self.incall_keys: InCallKeys | None = None  # features register `*1`, `##`... here
        self.transfer: TransferService | None = None  # REFER, Replaces, `##`/`*2` keys
        self.conference_settings = conference_settings_from(config.features)  # ConfigError
        self.conferences: ConferenceService | None = None
        self.voicemail: VoicemailFeature | None = None
        self.recording: RecordingFeature | None = None
        self.pickup_groups = pickup_groups_from(config.features)  # raises ConfigError
        self.system_speed_dials = speed_dials_from(config.features)  # raises ConfigError
        self._lag_task: asyncio.Task[None] | None = None
        self._background: list[asyncio.Task[None]] = []
        # Web pages of features (booking...), mounted at the root by _start_features.
        self.page_routers: list[APIRouter] = []
        self.booking: BookingService | None = None  # hospital booking: phone, web and API
        self.booking_phone = phone_settings_from(config.features)  # raises ConfigError

    async def start(self) -> None:
        cfg = self.config
        try:
            cfg.data_dir.mkdir(parents=True, exist_ok=True)
            self.admin_token = ensure_admin_token(cfg.data_dir, cfg.http.token)
        except OSError as exc:
            raise StartupError(f"data directory {cfg.data_dir}: {exc.strerror or exc}") from None
        try:
            self.database = await open_database(cfg.data_dir)
        except StoreError as exc:
            raise StartupError(str(exc)) from None
        try:
            await self._start_on(self.database)
        except BaseException:
            # Whatever started is stopped: above all the database, whose worker threads would
            # otherwise keep the process from exiting.
            await self.stop()
            raise

    async def _start_on(self, database: Database) -> None:
        """Everything after the database, in order; `start` stops what started if it fails."""
        cfg = self.config
        self.transports = TransportManager(cfg.sip, self.metrics)
        self.core = SipCore(cfg.sip, self.transports, self.metrics)
        await self._start_registrar(database, self.core)
        if cfg.demo:
            added = await load_demo(database, self.realm)
            if added:
                log.info("demo hospital loaded: %d phones (see README)", added)
        try:
            await self.transports.start()
        except TlsConfigError as exc:
            raise StartupError(str(exc)) from None
        except OSError as exc:
            raise StartupError(f"cannot listen for SIP on {cfg.sip.host}:{cfg.sip.port}: "
                               f"{exc.strerror or exc}") from None
        app = create_app(admin_token=self.admin_token, metrics=self.metrics, status=self.status,
                         routers=self._api_routers(database) + await self._start_calls()
                         + await self._start_features(), pages=self.page_routers)
        try:
            self.http = HttpServer(app, cfg.http.host, cfg.http.port)
        except OSError as exc:
            raise StartupError(f"cannot listen for HTTP on {cfg.http.host}:{cfg.http.port}: "
                               f"{exc.strerror or exc}") from None
        await self.http.start()
        self.started_at = time.monotonic()
        self._lag_task = asyncio.create_task(self._measure_loop_lag())
        self._start_background()

    async def _start_registrar(self, db: Database, core: SipCore) -> None:
        """Digest realm and nonce secret live in the database: restarts keep nonces valid
        and the realm the HA1 values were computed for (the CLI settles it the same way)."""
        cfg = self.config
        self.realm = await db.settings.get_or_set("realm", cfg.sip.realm)
        if self.realm != cfg.sip.realm:
            log.warning("using the realm stored in the data directory, %r, not %r",
                        self.realm, cfg.sip.realm)
        secret = await db.settings.get_or_set("nonce_secret", secrets.token_hex(32))
        sec = cfg.security
        try:
            algorithms = tuple(DigestAlgorithm.from_token(name) for name in sec.digest_algorithms)
        except DigestParseError as exc:
            raise StartupError(f"[security] digest_algorithms: {exc}") from None
        digest = DigestAuthenticator(self.realm, bytes.fromhex(secret), algorithms=algorithms,
                                     nonce_lifetime=cfg.registrar.nonce_ttl)
        guard = BruteForceGuard(max_failures=sec.max_failures, window=sec.failure_window,
                                block_for=sec.block_for)
        self.users = UserCache(db.users.get, time.monotonic, ttl=cfg.registrar.user_cache_ttl,
                               version=db.users.version, load_all=db.users.by_extension)
        await self.users.reload()  # a restart's registration storm finds every user cached
        self.security_log = SecurityLog(db.security_events.record_many)
        self.authenticator = RequestAuthenticator(
            digest, self.users, guard, self.security_log, time.time,
            scanners=ScannerFilter(sec.scanner_agents) if sec.drop_scanners else None,
        )
        reg = cfg.registrar
        policy = RegistrationPolicy(min_expires=reg.min_expires, default_expires=reg.default_expires,
                                    max_expires=reg.max_expires, max_contacts=reg.max_contacts)
        self.registrar = Registrar(db.bindings, self.authenticator, policy, time.time)
        await self.registrar.preload()
        self.location = Location(db.bindings, time.time)
        core.handle("REGISTER", self.registrar.on_register, stateless_first=True)

    async def _start_calls(self) -> list[APIRouter]:
        """Calls (issue 5): close the records a crash left open, start the media engine and
        the B2BUA; returns the /api/cdr and /api/calls routers."""
        assert self.database is not None and self.core is not None
        assert self.transports is not None and self.authenticator is not None
        assert self.location is not None
        sip = self.config.sip
        interrupted = await self.database.cdr.close_interrupted(time.time())
        if interrupted:
            log.warning("%d call(s) in progress at the last stop closed as interrupted",
                        interrupted)
        wildcard = sip.host in ("0.0.0.0", "::", "")
        advertise = sip.advertise or (_primary_address() if wildcard else sip.host)
        self.media = MediaEngine(host="0.0.0.0" if wildcard else sip.host,
                                 socket_pool=self.config.media.socket_pool)
        await self.media.start()
        self.trunks = Trunks(self.trunk_configs, self.core.send_request,
                             contact_host=advertise, contact_port=self.transports.port)
        self.trunks.start()
        self.flow_runner = FlowRunner(self.flow_registry,
                                      recordings=self.config.data_dir / "recordings")
        # The B2BUA's announcements (refusals, time limit), found once off the event loop.
        self._prompt_files = await asyncio.to_thread(self.flow_runner.prompts.files,
                                                     self.flow_runner.language)
        self.b2bua = B2bua(
            self.core, self.authenticator, self.location, self.dial_plan, self.media,
            self.database.cdr, host=advertise, port=self.transports.port,
            settings=self.call_settings, trunks=self.trunks, flows=self._start_flow,
            prompts=self._prompt_file,
        )
        self.b2bua.attach()
        return [cdr_router(self.database.cdr), calls_router(self.b2bua.calls),
                trunks_router(self.trunks.status)]

    async def _start_features(self) -> list[APIRouter]:
        """Features and hospital modules on top of the calls: each registers its built-in
        flows (`add_builtin_flow`), its B2BUA route handlers (`B2bua.serve`,
        `B2bua.serve_feature`) and returns its API routers here."""
        assert self.database is not None
        assert self.b2bua is not None and self.media is not None
        routers: list[APIRouter] = []
        self.booking = BookingService(self.database)
        routers.append(booking_router(self.booking))
        self.incall_keys = InCallKeys(self.b2bua, self.media)
        assert self.authenticator is not None
        self.transfer = TransferService(self.b2bua, self.authenticator, keys=self.incall_keys)
        TransferKeys(self.incall_keys, self.transfer, self.authenticator.users)  # `##`, `*2`
        PickupService(self.b2bua, self.authenticator.users, self.transfer, self.pickup_groups)
        speed_dials = SpeedDials(self.database.connection, self.system_speed_dials)
        speed_dials.attach(self.b2bua)
        routers.append(speed_dials_router(speed_dials, self.database.users))
        hotdesk = HotDesk(self.database.connection, self.authenticator.users, time.time)
        await hotdesk.load()
        hotdesk.attach(self.b2bua, self.add_builtin_flow)
        lines = LineSettingsRepository(self.database.connection)
        CallWaiting(self.b2bua, lines)
        follow_me = FollowMe(self.b2bua, lines, self.authenticator.users, self.transfer)
        self.add_builtin_flow(FOLLOW_ME_FLOW, follow_me.flow)
        routers.append(line_settings_router(lines, self.database.users))
        self.add_builtin_flow("appointments", make_appointments_flow(
            self.booking, tts=TextToSpeech(self.config.data_dir / "tts"),
            settings=self.booking_phone))
        self.page_routers.append(booking_pages(
            self.booking, today=self.booking.today,
            secret=await self.database.settings.get_or_set("web_secret", secrets.token_hex(32)),
            staff_passwords=(self.admin_token, self.config.http.staff_password)))
        assert self.users is not None and self.location is not None
        self.paging = PagingService(self.b2bua, self.users.get, self.location,
                                    self.paging_settings)
        self.b2bua.serve(Paging, self.paging.serve)
        self.b2bua.serve_feature("intercom",
                                 IntercomService(self.paging, self.intercom_settings).serve)
        self.conferences, conference_routers = start_conferences(self)
        routers += conference_routers
        self.voicemail = start_voicemail(self)
        routers += self.voicemail.routers
        self.recording = start_recording(self, self.incall_keys)
        routers += self.recording.routers
        assert self.flow_runner is not None
        self.flow_runner.dialer = FlowDialer(self.b2bua, self.users)  # Call.dial/bridge/transfer
        return routers

    def add_builtin_flow(self, name: str, func: FlowFunc) -> None:
        """A flow the switch itself provides (appointments, voicemail...); a flow of the same
        name from the configuration or an entry point is the hospital's override and wins."""
        if name in self.flow_registry:
            log.info("flow %r: using %s instead of the built-in one", name,
                     self.flow_registry.info_for(name).source)
            return
        self.flow_registry.add(func, name=name, source="builtin")

    def _prompt_file(self, name: str) -> Path | None:
        """The B2BUA's announcements (refusals, time limit) from the flows' prompt library,
        as resolved at start-up."""
        return self._prompt_files.get(name)

    def _start_flow(self, name: str, leg: MediaLeg, answer: Callable[[], Awaitable[None]],
                    hangup: Callable[[str], None], call: Call,
                    variables: Mapping[str, Any] | None = None) -> FlowSession | None:
        """The B2BUA's FlowStarter: run flow ``name`` on the call's media leg."""
        assert self.flow_runner is not None and self.media is not None
        port = EngineMediaPort(self.media, leg, answer=answer, hangup=hangup)
        try:
            return self.flow_runner.start(name, port, call_id=call.id, caller=call.caller,
                                          dialled=call.dialled, variables=variables)
        except FlowNotFound:
            return None

    def _api_routers(self, db: Database) -> list[APIRouter]:
        assert self.users is not None and self.security_log is not None
        return [
            users_router(db, self.realm, self.users.invalidate),
            registrations_router(db.bindings, time.time),
            security_events_router(db.security_events, self.security_log.flush),
        ]

    def _start_background(self) -> None:
        """Purging of expired rows and the qualify loop (interval 0 turns either off)."""
        assert self.database is not None and self.core is not None and self.transports is not None
        reg, db, core, transports = self.config.registrar, self.database, self.core, self.transports
        if reg.purge_interval > 0:
            self._background.append(asyncio.create_task(
                _every(reg.purge_interval, self._purge)))
        if self.recording is not None:  # recordings past their retention period
            self._background.append(asyncio.create_task(self.recording.service.run_purges()))
        if reg.qualify_interval > 0:
            host = self.config.sip.advertise or self.config.sip.host
            if host in ("0.0.0.0", "::", ""):
                host = "127.0.0.1"
            self.qualifier = Qualifier(
                db.bindings, core.send_request, transports.send, _connection_check(transports),
                time.time, sent_by=(host, transports.port), user_agent=self.config.sip.user_agent,
                interval=reg.qualify_interval,
            )
            self._background.append(asyncio.create_task(self.qualifier.run()))

    async def _purge(self) -> None:
        assert self.database is not None
        now = time.time()
        await self.database.bindings.purge_expired(now)
        await self.database.security_events.prune(
            now - self.config.security.event_retention_days * 86400)

    async def stop(self) -> None:
        for task in [*self._background, self._lag_task]:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._background.clear()
        if self.http is not None:
            await self.http.stop()
        if self.trunks is not None:
            await self.trunks.close()
            self.trunks = None
        if self.incall_keys is not None:
            await self.incall_keys.close()
            self.incall_keys = None
        if self.transfer is not None:
            await self.transfer.close()
            self.transfer = None
        if self.voicemail is not None:
            self.voicemail.close()
        if self.recording is not None:
            await self.recording.close()
            self.recording = None
        if self.b2bua is not None:  # calls: BYE both legs, write the records
            await self.b2bua.close()
            self.b2bua = None
        if self.conferences is not None:
            await self.conferences.close()
            self.conferences = None
        if self.media is not None:
            await self.media.close()
            self.media = None
        if self.core is not None:
            self.core.stop()
        if self.transports is not None:
            await self.transports.stop()
        if self.security_log is not None:
            await self.security_log.close()
        if self.database is not None:
            await self.database.close()
            self.database = None

    @property
    def sip_port(self) -> int:
        assert self.transports is not None
        return self.transports.port

    @property
    def http_port(self) -> int:
        assert self.http is not None
        return self.http.port

    def status(self) -> dict[str, Any]:
        return {
            "uptime_seconds": round(time.monotonic() - self.started_at, 1) if self.started_at else 0,
            "sip": self.transports.listening() if self.transports else [],
            "transactions": self.metrics.transactions_alive(),
            "live_calls": len(self.b2bua.calls()) if self.b2bua else 0,
            "trunks": self.trunks.status() if self.trunks else [],
        }

    async def _measure_loop_lag(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            expected = loop.time() + 1.0
            await asyncio.sleep(1.0)
            self.metrics.loop_lag_seconds = max(0.0, loop.time() - expected)


def _connection_check(transports: TransportManager) -> Callable[[Destination], bool]:
    """Is the TCP/TLS connection a phone registered over still open?"""

    def connected(destination: Destination) -> bool:
        streams = transports.streams.get(destination.transport, [])
        return any(destination.connection_id in stream.connections for stream in streams)

    return connected


async def _every(interval: float, work: Callable[[], Awaitable[None]]) -> None:
    """Run ``work`` every ``interval`` seconds; a failing round is logged, not fatal."""
    while True:
        await asyncio.sleep(interval)
        try:
            await work()
        except Exception:
            log.exception("periodic task failed")


async def run_until_signalled(switch: Switch) -> None:
    """Start, print where we listen, and stop cleanly on SIGTERM or SIGINT."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await switch.start()
    settle_heap()  # start-up's objects live as long as the process: out of the collector's way
    try:
        for line in switch.transports.listening() if switch.transports else []:
            print(f"SIP  listening on {line}", flush=True)
        print(f"HTTP listening on http://{switch.config.http.host}:{switch.http_port} "
              f"(API token in {switch.config.data_dir / 'admin-token'})", flush=True)
        await stop.wait()
        print("stopping", flush=True)
    finally:
        await switch.stop()


def _primary_address() -> str:
    """The address phones on the LAN reach us at when we listen on every address: put in Via,
    Contact and SDP. Set ``[sip] advertise`` when this guess is wrong (NAT, several NICs)."""
    try:
        infos = socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)
    except OSError:
        infos = []
    for *_, sockaddr in infos:
        address = str(sockaddr[0])
        if not address.startswith("127."):
            return address
    log.warning("no non-loopback address found; set [sip] advertise so phones can reach media")
    return "127.0.0.1"
