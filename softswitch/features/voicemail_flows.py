"""The two voicemail call flows: leaving a message, and listening to one's own mailbox (*97).

Both are closures over a :class:`~softswitch.features.voicemail.VoicemailService`, registered
as built-in flows (a hospital may replace either by configuring a flow of the same name).

Mailbox keys, as most voicemail systems use them: main menu 1 listen, 3 record a greeting,
* hang up; after each message 5 replay, 6 next, 7 delete, 9 save (keep as old, next).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from pathlib import Path

from media.tones import BEEP
from softswitch.features.voicemail import VoicemailService
from softswitch.flows import Call, FlowFunc, Hangup
from softswitch.store.voicemail import MessageStatus, VoicemailMessage
from softswitch.switch.directory import verify_pin

__all__ = ["make_deposit_flow", "make_mailbox_flow"]

PIN_TRIES = 3
MENU_TIMEOUT = 8.0


def make_deposit_flow(service: VoicemailService,
                      monotonic: Callable[[], float] = time.monotonic) -> FlowFunc:
    """Greeting (the owner's or "extension N is not available"), beep, record, save."""

    async def voicemail(call: Call) -> None:
        mailbox = str(call.variables["mailbox"])
        await call.answer()
        greeting = await service.greeting(mailbox)
        if greeting is not None:
            await call.play(greeting)
        else:
            await call.play("vm_extension")
            await call.say_digits(mailbox)
            await call.play("vm_not_available")
        await call.play(BEEP, barge_in=False)
        call.flush_digits()
        path = service.new_message_path(mailbox)
        settings = service.settings
        began = monotonic()
        try:
            result = await call.record(max_seconds=settings.max_seconds, beep=False,
                                       silence_timeout=settings.silence_seconds, path=path)
        except Hangup:  # the usual end of a message: the file is kept (Call.record)
            await service.deposit(mailbox, call.caller, path, monotonic() - began, call.call_id)
            raise
        message = await service.deposit(mailbox, call.caller, result.path, result.seconds,
                                        call.call_id)
        await call.play("vm_saved" if message is not None else "goodbye", barge_in=False)

    return voicemail


def make_mailbox_flow(service: VoicemailService) -> FlowFunc:
    """The caller's own mailbox: PIN, counts, messages with date, time and caller, greeting."""

    async def voicemail_mailbox(call: Call) -> None:
        mailbox = str(call.variables.get("mailbox") or call.caller)
        await call.answer()
        if not await _check_pin(call, service, mailbox, bool(call.variables.get("require_pin"))):
            await call.play("goodbye", barge_in=False)
            return
        while True:
            new, old = await service.counts(mailbox)
            await _announce_counts(call, new, old)
            choice = await call.menu("vm_main_menu", {"1": "listen", "3": "greeting",
                                                      "*": "quit"}, timeout=MENU_TIMEOUT)
            if choice == "quit":
                break
            if choice == "listen":
                await _listen(call, service, mailbox)
            else:
                await _record_greeting(call, service, mailbox)
        await call.play("goodbye", barge_in=False)

    return voicemail_mailbox


async def _check_pin(call: Call, service: VoicemailService, mailbox: str,
                     required: bool) -> bool:
    """The voicemail PIN, three tries. A user without a PIN is let in from their own phone
    (it authenticated by digest as that extension), never when ``required`` (trunk calls)."""
    user = await service.owner(mailbox)
    if user is None:
        return False
    if not user.voicemail_pin_hash:
        return not required
    for _ in range(PIN_TRIES):
        pin = await call.collect(12, timeout=MENU_TIMEOUT, prompt="vm_enter_pin")
        if pin and verify_pin(pin, user.voicemail_pin_hash):
            return True
        await call.play("vm_wrong_pin")
    return False


async def _announce_counts(call: Call, new: int, old: int) -> None:
    """"You have N new messages and M old messages"."""
    await call.play("vm_you_have")
    await call.say_number(new)
    await call.play("vm_new_messages")
    await call.say_number(old)
    await call.play("vm_old_messages")


async def _listen(call: Call, service: VoicemailService, mailbox: str) -> None:
    messages = await service.messages(mailbox)
    index = 0
    while index < len(messages):
        message = messages[index]
        action = await _play_message(call, service, index + 1, message)
        if action == "delete":
            await service.delete(message)
            await call.play("vm_deleted")
        elif message.status is MessageStatus.NEW:
            await service.mark(message, MessageStatus.OLD)
        if action == "replay":
            messages[index] = await service.get(message.id) or message
            continue
        if action == "quit":
            return
        if action == "save":
            await call.play("vm_saved")
        index += 1
    await call.play("vm_no_more")


async def _play_message(call: Call, service: VoicemailService, number: int,
                        message: VoicemailMessage) -> str:
    """Envelope (number, date and time received, caller), the audio, then the message menu."""
    await call.play("vm_message")
    await call.say_number(number)
    received = dt.datetime.fromtimestamp(message.received_at)
    await call.play("vm_received")
    await call.say_date(received.date())
    await call.say_time(received.time())
    if message.caller.isdigit():
        await call.play("vm_from")
        await call.say_digits(message.caller)
    await call.play(service.audio_path(message))
    return await call.menu("vm_message_menu",
                           {"5": "replay", "6": "next", "7": "delete", "9": "save",
                            "*": "quit"}, timeout=MENU_TIMEOUT)


async def _record_greeting(call: Call, service: VoicemailService, mailbox: str) -> None:
    path: Path = service.greeting_path(mailbox)
    await call.play("vm_record_greeting")
    result = await call.record(max_seconds=30, silence_timeout=service.settings.silence_seconds,
                               path=path)
    await service.set_greeting(mailbox, result.path)
    await call.play("vm_greeting_saved")
