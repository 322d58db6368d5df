"""Wiring of the conference feature into a starting switch (called from
``Switch._start_features``): the service, the built-in flow, the B2BUA route handler, the API."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import APIRouter

from softswitch.features.conference import ConferenceService, conference_flow
from softswitch.features.conference_keys import ConferenceKeys
from softswitch.switch.dialplan import Conference, Route
from softswitch.switch.legs import Call as SwitchCall
from softswitch.web.routes.conferences import conferences_router

if TYPE_CHECKING:
    from softswitch.app import Switch

__all__ = ["start_conferences"]


def start_conferences(switch: Switch) -> tuple[ConferenceService, list[APIRouter]]:
    """Serve the dial plan's conference numbers with the built-in ``conference`` flow (a
    configured flow of that name replaces it); returns the service and its routers."""
    assert switch.media is not None and switch.b2bua is not None
    assert switch.flow_runner is not None
    service = ConferenceService(switch.media, switch.conference_settings,
                                switch.config.data_dir / "recordings",
                                originate=switch.b2bua.originate,
                                prompts=switch.flow_runner.prompts,
                                language=switch.flow_runner.language)
    switch.flow_runner.conferences = service
    switch.add_builtin_flow("conference", conference_flow)
    b2bua = switch.b2bua

    async def serve(call: SwitchCall, route: Route) -> None:
        assert isinstance(route, Conference)
        await b2bua.start_flow(call, "conference", {"room": route.number})

    b2bua.serve(Conference, serve)
    if switch.incall_keys is not None:  # `*3` + number: a call becomes an ad-hoc conference
        ConferenceKeys(switch.incall_keys, service, b2bua.hang_up)
    return service, [conferences_router(service)]
