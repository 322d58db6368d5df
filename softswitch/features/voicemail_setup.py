"""Wiring voicemail into a running switch: flows, the B2BUA's diversion, *97, MWI, routes.

`Switch._start_features()` calls :func:`start_voicemail` once the calls are up; everything
voicemail needs from the switch is taken here, so app.py keeps one line for it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from fastapi import APIRouter

from softswitch.features.mwi import MwiService
from softswitch.features.voicemail import (
    DEPOSIT_FLOW,
    MAILBOX_FLOW,
    VoicemailService,
    voicemail_settings_from,
)
from softswitch.features.voicemail_flows import make_deposit_flow, make_mailbox_flow
from softswitch.switch.dialplan import Route
from softswitch.switch.legs import Call
from softswitch.web.routes.voicemail import voicemail_router

if TYPE_CHECKING:
    from softswitch.app import Switch

__all__ = ["VoicemailFeature", "start_voicemail"]

VOICEMAIL_DIR = "voicemail"


@dataclass
class VoicemailFeature:
    """What the switch keeps of voicemail: the service, MWI and its API routers."""

    service: VoicemailService
    mwi: MwiService
    routers: list[APIRouter] = field(default_factory=list)

    def close(self) -> None:
        self.mwi.close()


def start_voicemail(switch: Switch) -> VoicemailFeature:
    """Register the flows, divert unanswered calls, serve *97; returns the feature."""
    assert switch.database is not None and switch.b2bua is not None
    settings = voicemail_settings_from(switch.config.features)  # raises ConfigError
    root = switch.config.data_dir / VOICEMAIL_DIR
    service = VoicemailService(switch.database.voicemail, switch.database.users.get, root,
                               settings, time.time)
    switch.add_builtin_flow(DEPOSIT_FLOW, make_deposit_flow(service))
    switch.add_builtin_flow(MAILBOX_FLOW, make_mailbox_flow(service))
    b2bua = switch.b2bua
    b2bua.divert_unanswered(service.divert)

    async def check_mailbox(call: Call, route: Route) -> None:
        """*97: one's own mailbox. A call from a trunk has no digest-proven caller, so it
        must know the PIN even where none would be asked of the owner's phone."""
        from_trunk = switch.trunks is not None and \
            switch.trunks.inbound(call.server.source.host) is not None
        await b2bua.start_flow(call, MAILBOX_FLOW,
                               {"mailbox": call.caller, "require_pin": from_trunk})

    b2bua.serve_feature("voicemail", check_mailbox)
    assert switch.core is not None and switch.authenticator is not None
    assert switch.location is not None and switch.registrar is not None
    mwi = MwiService(switch.core, switch.authenticator, switch.location, service.counts,
                     host=b2bua.host, port=b2bua.port)
    mwi.attach()
    service.on_change(mwi.mailbox_changed)
    switch.registrar.on_registered = mwi.registered
    return VoicemailFeature(service, mwi, [voicemail_router(service)])
