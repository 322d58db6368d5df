"""Features on top of the switching core: each one serves dial-plan routes or in-call keys
through the B2BUA's seams (see docs/architecture.md, "Seams for features")."""

from softswitch.features.incall_keys import InCallKeys, KeyHandler, KeyPress
from softswitch.features.transfer import TransferService

__all__ = ["InCallKeys", "KeyHandler", "KeyPress", "TransferService"]
