"""Features on top of the switching core: each one serves dial-plan routes or in-call keys
through the B2BUA's seams (see docs/architecture.md, "Seams for features")."""

from softswitch.features.conference import ConferenceError, ConferenceService, conference_flow
from softswitch.features.conference_config import ConferenceSettings, conference_settings_from
from softswitch.features.conference_room import Role, Room
from softswitch.features.incall_keys import InCallKeys, KeyHandler, KeyPress
from softswitch.features.intercom import IntercomService
from softswitch.features.paging import PagingService
from softswitch.features.paging_config import (
    IntercomSettings,
    PagingSettings,
    intercom_settings_from,
    paging_settings_from,
)
from softswitch.features.pickup import PickupService, pickup_groups_from
from softswitch.features.transfer import TransferService
from softswitch.features.transfer_keys import TransferKeys
from softswitch.features.voicemail import VoicemailService, VoicemailSettings
from softswitch.features.voicemail_setup import VoicemailFeature, start_voicemail

__all__ = [
    "ConferenceError",
    "ConferenceService",
    "ConferenceSettings",
    "InCallKeys",
    "IntercomService",
    "IntercomSettings",
    "KeyHandler",
    "KeyPress",
    "PagingService",
    "PagingSettings",
    "PickupService",
    "Role",
    "Room",
    "TransferKeys",
    "TransferService",
    "VoicemailFeature",
    "VoicemailService",
    "VoicemailSettings",
    "conference_flow",
    "conference_settings_from",
    "intercom_settings_from",
    "paging_settings_from",
    "pickup_groups_from",
    "start_voicemail",
]
