"""Meet-me conferences: rooms of the dial plan's conference range, served by a built-in flow.

A call to a room number runs the ``conference`` flow, which calls :meth:`Call.conference`;
that lands in :meth:`ConferenceService.join`: answer, ask the room's PIN (it picks the role),
join the room's mixing bridge (:meth:`media.MediaEngine.conference`), announce the count, play
music while alone, then read the member's in-call keys until they leave. The rules live in
:mod:`~softswitch.features.conference_room`; this module applies them to the media and calls.

A member is removed (kick, the room ending with its moderator) by cancelling its flow task at
its current await; the flow then says why and hangs up. Ad-hoc conferences (:meth:`merge`)
move an existing call's two legs into a room without a flow.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from media import Bridge, Leg, MediaEngine, Recording
from media.tones import ToneSpec
from softswitch.features.conference_config import ConferenceSettings, RoomSettings
from softswitch.features.conference_room import Member, Role, Room, gain_for, role_for
from softswitch.flows import (
    Call,
    CallStateError,
    EngineMediaPort,
    MediaPort,
    PromptLibrary,
    PromptNotFound,
)
from softswitch.switch.originate import OriginatedLeg, OriginateError

__all__ = [
    "JOIN_TONE",
    "LEAVE_TONE",
    "MUSIC",
    "ConferenceError",
    "ConferenceService",
    "conference_flow",
]

log = logging.getLogger(__name__)

JOIN_TONE = (ToneSpec("conf_join_1", (523.0,), ((120, 0),), -18.0, repeat=False),
             ToneSpec("conf_join_2", (784.0,), ((160, 0),), -18.0, repeat=False))
LEAVE_TONE = (ToneSpec("conf_leave_1", (784.0,), ((120, 0),), -18.0, repeat=False),
              ToneSpec("conf_leave_2", (523.0,), ((160, 0),), -18.0, repeat=False))
# What a lone member hears: a slow, quiet arpeggio (C E G E, a rest), looped.
MUSIC = tuple(ToneSpec(f"conf_music_{i}", (f,), ((460, 40),), -26.0, repeat=False)
              for i, f in enumerate((523.25, 659.25, 783.99, 659.25))) + (
    ToneSpec("conf_music_rest", (523.25,), ((0, 1000),), -26.0, repeat=False),)

PIN_TRIES = 3
ANNOUNCE_LIMIT = 5.0  # seconds: a tone to the room never lasts longer
KEY_WAIT = 3600.0  # seconds a member may stay without pressing a key; the wait just restarts
INVITE_TIMEOUT = 30.0  # seconds an invited phone rings
Originate = Callable[..., Awaitable[OriginatedLeg]]  # B2bua.originate
_END_PROMPTS = {"kicked": "conf_kicked", "conference ended": "conf_ended"}


class ConferenceError(Exception):
    """An API request names no such room or member, or cannot be done; ``status`` is the
    HTTP status that says so (404, 409)."""

    def __init__(self, message: str, status: int = 404) -> None:
        super().__init__(message)
        self.status = status


@dataclass(eq=False)
class _LiveRoom:
    """A room with members: its rules, its mixing bridge, and its members' media legs."""

    room: Room
    bridge: Bridge
    legs: dict[int, Leg] = field(default_factory=dict)
    tasks: dict[int, asyncio.Task[Any]] = field(default_factory=dict)
    hangups: dict[int, Callable[[str], None]] = field(default_factory=dict)
    ended: dict[int, str] = field(default_factory=dict)  # member id -> why it was removed
    music: dict[int, asyncio.Future[Any]] = field(default_factory=dict)
    readers: dict[int, asyncio.Task[Any]] = field(default_factory=dict)  # invited members' keys
    recording: Recording | None = None


class ConferenceService:
    """Every room in progress; the ``join`` seam of :meth:`Call.conference` and the API."""

    def __init__(
        self,
        engine: MediaEngine,
        settings: ConferenceSettings,
        recordings: Path,
        *,
        clock: Callable[[], float] = time.time,
        originate: Originate | None = None,
        prompts: PromptLibrary | None = None,
        language: str = "zh",
    ) -> None:
        self.engine = engine
        self.originate = originate
        self.prompts = prompts or PromptLibrary()
        self.language = language  # of the prompts invited members hear (they run no flow)
        self.settings = settings
        self.recordings = recordings
        self._clock = clock
        self._live: dict[str, _LiveRoom] = {}
        self._tasks: set[asyncio.Future[Any]] = set()
        self._adhoc = itertools.count(1)

    # -- a caller joins (the Call.conference seam) ------------------------------------------

    async def join(self, call: Call, port: MediaPort, room: str) -> None:
        """Run one member's whole stay in ``room``; returns when they have left."""
        if not isinstance(port, EngineMediaPort):
            raise CallStateError("a conference needs a live call's media leg")
        settings = self.settings.room(room)
        await call.answer()
        role = await self._ask_role(call, settings)
        if role is None:
            await call.play(["conf_wrong_pin", "goodbye"], barge_in=False)
            return
        live = self._live.get(room)
        refusal = live.room.refusal(role) if live is not None else None
        if refusal is not None:
            log.info("conference %s: %s refused (%s)", room, call.caller, refusal)
            await call.play(f"conf_{refusal}", barge_in=False)
            return
        if live is None:
            live = self._open(room, settings)
        member = self._add(live, port.leg, call.caller, role, port.hangup)
        task = asyncio.current_task()
        assert task is not None
        live.tasks[member.id] = task
        ended: str | None = None
        try:
            await self._greet(call, live, member)
            await self._read_keys(call, live, member)
        except asyncio.CancelledError:
            ended = live.ended.pop(member.id, None)
            if ended is None or call.caller_hung_up:
                raise
            task.uncancel()  # removed by the room: say why, then hang up
        finally:
            self._remove(live, member)
        if ended is not None:
            await call.play(_END_PROMPTS.get(ended, "goodbye"), barge_in=False)
            await call.hangup(ended)

    async def _ask_role(self, call: Call, settings: RoomSettings) -> Role | None:
        role = role_for(settings, call.caller, None)
        for _ in range(PIN_TRIES if role is None else 0):
            pin = await call.collect(12, timeout=10.0, prompt="conf_enter_pin")
            role = role_for(settings, call.caller, pin)
            if role is not None:
                break
            if _ < PIN_TRIES - 1:
                await call.play("conf_wrong_pin")
        return role

    async def _greet(self, call: Call, live: _LiveRoom, member: Member) -> None:
        others = live.room.others(member)
        self._play_to_room(live, JOIN_TONE)
        if others:
            self._update_music(live)  # the one who waited alone hears the room at once
        if live.room.settings.announce_count:
            if others == 0:
                await call.play("conf_alone")
            else:
                await call.play("conf_count_before")
                await call.say_number(others)
                await call.play("conf_count_after")
        if member.role is Role.LISTENER:
            await call.play("conf_listen_only")
        self._update_music(live)

    async def _read_keys(self, call: Call, live: _LiveRoom, member: Member) -> None:
        while True:
            digit = await call.collect(1, timeout=KEY_WAIT, terminator="")
            if not digit or member.id not in live.room.members:
                continue
            outcome = live.room.key(member, digit)
            if outcome is None:
                continue
            log.info("conference %s: member %d (%s) pressed %s: %s", live.room.number,
                     member.id, member.caller, digit, outcome.action)
            self._apply(live, outcome.changed)
            if outcome.kick is not None:
                self._end_member(live, outcome.kick, "kicked")
            if outcome.leave:
                return
            if outcome.prompt is not None:
                await call.play(outcome.prompt)
            self._update_music(live)

    # -- membership and media ------------------------------------------------------------

    def _open(self, number: str, settings: RoomSettings) -> _LiveRoom:
        bridge = self.engine.conference(f"conference-{number}")
        live = _LiveRoom(Room(number, settings, self.settings.keys), bridge)
        self._live[number] = live
        log.info("conference %s opened", number)
        if settings.record:
            self._spawn(self.start_recording(number))
        return live

    def _add(self, live: _LiveRoom, leg: Leg, caller: str, role: Role,
             hangup: Callable[[str], None], *, passing_lock: bool = False) -> Member:
        member = live.room.join(leg.id, caller, role, self._clock(), passing_lock=passing_lock)
        self.engine.join(live.bridge, leg, muted=not live.room.heard(member))
        live.legs[member.id] = leg
        live.hangups[member.id] = hangup
        log.info("conference %s: %s joined as %s (member %d, %d in the room)",
                 live.room.number, caller, role.value, member.id, len(live.room))
        return member

    def _remove(self, live: _LiveRoom, member: Member) -> None:
        """Take a member out (idempotent); end the room with its moderator, close it empty."""
        room = live.room
        if room.leave(member.id) is None:
            return
        leg = live.legs.pop(member.id)
        live.tasks.pop(member.id, None)
        live.hangups.pop(member.id, None)
        reader = live.readers.pop(member.id, None)
        if reader is not None and reader is not asyncio.current_task():
            reader.cancel()
        self._stop_music(live, member.id)
        if leg.bridge is live.bridge:
            self.engine.leave(leg)
        log.info("conference %s: %s left (%d in the room)", room.number, member.caller,
                 len(room))
        if room.should_end():
            for other in list(room.members.values()):
                self._end_member(live, other, "conference ended")
        if not room.members:
            self._close(live)
            return
        self._play_to_room(live, LEAVE_TONE)
        self._update_music(live)

    def _close(self, live: _LiveRoom) -> None:
        if self._live.get(live.room.number) is live:
            del self._live[live.room.number]
        log.info("conference %s closed", live.room.number)
        self.engine.stop_playback(live.bridge)  # a closed bridge is never ticked again
        self._spawn(self.engine.close_bridge(live.bridge))  # stops its recording too

    def _end_member(self, live: _LiveRoom, member: Member, reason: str) -> None:
        """Remove a member: its flow says why and hangs up; a member without a flow (ad hoc)
        is hung up at once."""
        if member.id not in live.room.members or member.id in live.ended:
            return
        task = live.tasks.get(member.id)
        if task is not None and not task.done():
            live.ended[member.id] = reason
            task.cancel(reason)
            return
        hangup = live.hangups.get(member.id)
        self._remove(live, member)
        if hangup is not None:
            hangup(reason)

    def _apply(self, live: _LiveRoom, changed: Sequence[Member]) -> None:
        """Make the mixer follow the room's rules for the members whose state changed."""
        for member in changed:
            leg = live.legs.get(member.id)
            if leg is None or leg.bridge is not live.bridge:
                continue
            live.bridge.set_muted(leg, not live.room.heard(member))
            live.bridge.set_gain(leg, gain_for(member.volume_step))

    def _play_to_room(self, live: _LiveRoom, items: Sequence[ToneSpec]) -> None:
        self._spawn(self._announce(live, items))

    async def _announce(self, live: _LiveRoom, items: Sequence[ToneSpec]) -> None:
        """A tone everyone hears; skipped when the room closed before it began (a closed
        bridge is never ticked, so it would never end), and bounded in time anyway."""
        if live.bridge.closed or self._live.get(live.room.number) is not live:
            return
        await self.engine.play(live.bridge, list(items), barge_in=False, timeout=ANNOUNCE_LIMIT)

    def _update_music(self, live: _LiveRoom) -> None:
        """Music for a member alone in the room, none as soon as there are two."""
        alone = len(live.room) == 1 and live.room.settings.music_when_alone
        for member_id, leg in list(live.legs.items()):
            playing = live.music.get(member_id)
            if alone and (playing is None or playing.done()) and leg.player is None:
                live.music[member_id] = asyncio.ensure_future(
                    self.engine.play(leg, list(MUSIC), loop=True, barge_in=False))
            elif not alone:
                self._stop_music(live, member_id)

    def _stop_music(self, live: _LiveRoom, member_id: int) -> None:
        playing = live.music.pop(member_id, None)
        if playing is not None and not playing.done():
            playing.cancel()

    def _spawn(self, work: Any) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Future[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("conference work failed", exc_info=task.exception())

    def _prune(self, live: _LiveRoom) -> None:
        """Drop members whose leg left the bridge behind our back (an ad-hoc call ended)."""
        for member_id, leg in list(live.legs.items()):
            member = live.room.members.get(member_id)
            if member is not None and leg.bridge is not live.bridge and \
                    member_id not in live.tasks:
                self._remove(live, member)

    # -- the API ---------------------------------------------------------------------------

    def _room(self, number: str) -> _LiveRoom:
        live = self._live.get(number)
        if live is not None:
            self._prune(live)
        live = self._live.get(number)
        if live is None:
            raise ConferenceError(f"room {number} has nobody in it")
        return live

    def _member(self, live: _LiveRoom, member_id: int) -> Member:
        member = live.room.members.get(member_id)
        if member is None:
            raise ConferenceError(f"room {live.room.number} has no member {member_id}")
        return member

    def rooms(self) -> list[dict[str, Any]]:
        """Every room with members, and its members (the API's and CLI's listing)."""
        for live in list(self._live.values()):
            self._prune(live)
        return [self._summary(live) for live in self._live.values()]

    def room(self, number: str) -> dict[str, Any]:
        """One room; ConferenceError (404) when nobody is in it."""
        return self._summary(self._room(number))

    def _summary(self, live: _LiveRoom) -> dict[str, Any]:
        talking = frozenset(str(k) for k in live.bridge.mixer.talking)
        summary = live.room.summary(talking)
        summary["recording"] = str(live.recording.path) if live.recording else None
        return summary

    def mute(self, number: str, member_id: int, muted: bool) -> dict[str, Any]:
        """Mute or unmute one member; a listener cannot be unmuted (409)."""
        live = self._room(number)
        member = self._member(live, member_id)
        if not live.room.set_muted(member, muted):
            raise ConferenceError(f"member {member_id} is a listener", 409)
        self._apply(live, [member])
        return member.summary(live.room)

    def kick(self, number: str, member_id: int) -> None:
        """Remove a member: they hear that they were removed, then the call ends."""
        live = self._room(number)
        self._end_member(live, self._member(live, member_id), "kicked")

    def end(self, number: str, reason: str = "conference ended") -> int:
        """End a room: every member is told (flows) or hung up; returns how many there were.
        Quietly 0 for a room nobody is in."""
        live = self._live.get(number)
        if live is None:
            return 0
        members = list(live.room.members.values())
        for member in members:
            self._end_member(live, member, reason)
        return len(members)

    def lock(self, number: str, locked: bool) -> dict[str, Any]:
        """Lock (only moderators may join) or unlock a room."""
        live = self._room(number)
        live.room.locked = locked
        return self._summary(live)

    async def start_recording(self, number: str) -> Path:
        """Record the room's mix into DATA/recordings/conference-ROOM-TIME.wav; 409 when it
        is recorded already."""
        live = self._room(number)
        if live.recording is not None:
            raise ConferenceError(f"room {number} is being recorded already", 409)
        self.recordings.mkdir(parents=True, exist_ok=True)
        stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime(self._clock()))
        path = self.recordings / f"conference-{number}-{stamp}.wav"
        n = 1
        while path.exists():
            n += 1
            path = self.recordings / f"conference-{number}-{stamp}-{n}.wav"
        live.recording = await self.engine.record(live.bridge, path, stereo=False)
        log.info("conference %s: recording into %s", number, path)
        return path

    async def stop_recording(self, number: str) -> Path:
        """End the room's recording; returns the finished file (409 when none runs)."""
        live = self._room(number)
        recording, live.recording = live.recording, None
        if recording is None:
            raise ConferenceError(f"room {number} is not being recorded", 409)
        return await self.engine.stop_recording(recording)

    async def invite(self, number: str, extension: str, *, role: Role = Role.PARTICIPANT,
                     timeout: float = INVITE_TIMEOUT) -> dict[str, Any]:
        """Dial ``extension`` (or an outside number) and put whoever answers into room
        ``number`` (opened if empty); returns the new member. No flow runs on its leg:
        :meth:`_invited_keys` reads its keys and the API mutes and kicks it like any other.
        Its keys work as a caller's do (prompts in the service's language).
        The operator's invite passes a lock. ConferenceError: 404 for a number nobody has,
        409 when unanswered, busy or the room is full."""
        if self.originate is None:
            raise ConferenceError("this switch cannot dial out", 503)
        if number not in self._live and not number.isdigit():
            raise ConferenceError(f"no room {number!r}: rooms are numbers")
        live = self._live.get(number)  # the operator's invite passes a lock, not a full room
        refusal = live.room.refusal(Role.MODERATOR) if live is not None else None
        if refusal is not None:
            raise ConferenceError(f"room {number} is {refusal}", 409)
        try:
            leg = await self.originate(extension, caller_id=number, timeout=timeout,
                                       purpose=f"conference {number}")
        except OriginateError as exc:
            status = 404 if exc.status == 404 else 409
            raise ConferenceError(f"{extension}: {exc.status} {exc.reason}", status) from None
        live = self._live.get(number) or self._open(number, self.settings.room(number))
        refusal = live.room.refusal(Role.MODERATOR)
        if refusal is not None or leg.ended:
            leg.hangup(f"conference {refusal or 'gone'}")
            raise ConferenceError(f"room {number} is {refusal or 'gone'}", 409)
        member = self._add(live, leg.media, extension, role, leg.hangup, passing_lock=True)
        leg.on_end(lambda cause, side: self._gone(live, member))
        live.readers[member.id] = asyncio.ensure_future(
            self._invited_keys(live, member, leg.media))
        self._play_to_room(live, JOIN_TONE)
        self._update_music(live)
        return member.summary(live.room)

    async def _invited_keys(self, live: _LiveRoom, member: Member, leg: Leg) -> None:
        """In-call keys of a member without a flow, straight from its leg's digits."""
        async with self.engine.digits(leg) as digits:
            async for digit in digits:
                if member.id not in live.room.members:
                    return
                outcome = live.room.key(member, digit.digit)
                if outcome is None:
                    continue
                log.info("conference %s: member %d (%s) pressed %s: %s", live.room.number,
                         member.id, member.caller, digit.digit, outcome.action)
                self._apply(live, outcome.changed)
                if outcome.kick is not None:
                    self._end_member(live, outcome.kick, "kicked")
                if outcome.leave:
                    self._end_member(live, member, "left")
                    return
                if outcome.prompt is not None:
                    self._prompt_to(leg, outcome.prompt)

    def _prompt_to(self, leg: Leg, name: str) -> None:
        try:
            path = self.prompts.path(name, self.language)
        except PromptNotFound:
            log.warning("conference prompt %s is missing", name)
            return
        self._spawn(self.engine.play(leg, [path], barge_in=True, timeout=ANNOUNCE_LIMIT * 4))

    def _gone(self, live: _LiveRoom, member: Member) -> None:
        """A member without a flow hung up (its leg's call ended)."""
        live.hangups.pop(member.id, None)
        self._remove(live, member)

    # -- ad hoc ----------------------------------------------------------------------------

    def merge(
        self,
        legs: Sequence[tuple[Leg, str]],
        *,
        room: str | None = None,
        hangup: Callable[[Leg, str], None] | None = None,
    ) -> str:
        """Move the legs of a call in progress (each with its caller's number) into a room:
        ``room``, or a new ad-hoc one named ``adhoc-N``. Each leg leaves its two-party bridge
        first. Returns the room, which then takes a third party by :meth:`join` (a flow) or
        an invite. ``hangup(leg, cause)`` ends a leg's call when it is kicked."""
        number = room or f"adhoc-{next(self._adhoc)}"
        live = self._live.get(number) or self._open(number, self.settings.room(number))
        for leg, caller in legs:
            if leg.bridge is not None:
                self.engine.leave(leg)
            end = (lambda cause, leg=leg: hangup(leg, cause)) if hangup is not None else None
            member = self._add(live, leg, caller, Role.PARTICIPANT, end or (lambda _: None),
                               passing_lock=True)
            if end is None:
                live.hangups.pop(member.id, None)
        self._play_to_room(live, JOIN_TONE)
        return number

    async def close(self) -> None:
        """The switch stops: every room's recording is finished and its bridge closed."""
        for live in list(self._live.values()):
            self._live.pop(live.room.number, None)
            for reader in live.readers.values():
                reader.cancel()
            self.engine.stop_playback(live.bridge)
            for member_id in list(live.music):
                self._stop_music(live, member_id)
            with contextlib.suppress(Exception):
                await self.engine.close_bridge(live.bridge)
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)


async def conference_flow(call: Call) -> None:
    """The built-in ``conference`` flow: the room is the dialled number (or ``room``)."""
    await call.conference(str(call.variables.get("room") or call.dialled))
