"""The rules of a conference room and its configuration, without media or SIP."""

from __future__ import annotations

import pytest

from softswitch.config import ConfigError
from softswitch.features.conference_config import KeyMap, RoomSettings, conference_settings_from
from softswitch.features.conference_room import Role, Room, gain_for, role_for

PINNED = RoomSettings(pin="1234", moderator_pin="9999", listener_pin="5555", moderators=("1005",))


def test_open_room_admits_everyone_as_participant_without_asking() -> None:
    assert role_for(RoomSettings(), "1001", None) is Role.PARTICIPANT


def test_pin_decides_the_role_and_a_wrong_pin_admits_nobody() -> None:
    assert role_for(PINNED, "1001", None) is None  # must be asked
    assert role_for(PINNED, "1001", "1234") is Role.PARTICIPANT
    assert role_for(PINNED, "1001", "9999") is Role.MODERATOR
    assert role_for(PINNED, "1001", "5555") is Role.LISTENER
    assert role_for(PINNED, "1001", "0000") is None
    assert role_for(PINNED, "1001", "") is None
    assert role_for(PINNED, "1005", None) is Role.MODERATOR  # listed moderator, no PIN


def test_room_with_only_a_moderator_pin_lets_participants_in_with_an_empty_entry() -> None:
    settings = RoomSettings(moderator_pin="9999")
    assert role_for(settings, "1001", "") is Role.PARTICIPANT
    assert role_for(settings, "1001", "9999") is Role.MODERATOR


def test_full_room_refuses_and_locked_room_admits_only_moderators() -> None:
    room = Room("9001", RoomSettings(max_members=2))
    room.join("a", "1001", Role.MODERATOR, 0.0)
    room.locked = True
    assert room.refusal(Role.PARTICIPANT) == "locked"
    assert room.refusal(Role.MODERATOR) is None
    room.join("b", "1002", Role.MODERATOR, 1.0)
    assert room.refusal(Role.MODERATOR) == "full"
    with pytest.raises(ValueError, match="full"):
        room.join("c", "1003", Role.MODERATOR, 2.0, passing_lock=True)


def test_an_invite_passes_the_lock() -> None:
    room = Room("9001", RoomSettings())
    room.locked = True
    with pytest.raises(ValueError, match="locked"):
        room.join("a", "1001", Role.PARTICIPANT, 0.0)
    assert room.join("a", "1001", Role.PARTICIPANT, 0.0, passing_lock=True).id == 1


def test_listeners_are_never_heard_and_cannot_unmute() -> None:
    room = Room("9001", RoomSettings())
    listener = room.join("a", "1001", Role.LISTENER, 0.0)
    assert not room.heard(listener)
    outcome = room.key(listener, "1")
    assert outcome is not None and outcome.prompt == "conf_listen_only" and not outcome.changed
    assert not room.heard(listener)


def test_mute_key_toggles_and_reports_the_member_to_the_mixer() -> None:
    room = Room("9001", RoomSettings())
    member = room.join("a", "1001", Role.PARTICIPANT, 0.0)
    first = room.key(member, "1")
    assert first is not None and first.prompt == "conf_muted" and first.changed == (member,)
    assert not room.heard(member)
    second = room.key(member, "1")
    assert second is not None and second.prompt == "conf_unmuted"
    assert room.heard(member)


def test_volume_keys_step_by_3_db_within_limits() -> None:
    room = Room("9001", RoomSettings())
    member = room.join("a", "1001", Role.PARTICIPANT, 0.0)
    for _ in range(10):
        room.key(member, "6")
    assert member.volume_step == 4
    room.key(member, "4")
    assert member.volume_step == 3
    assert gain_for(0) == 1.0
    assert gain_for(2) == pytest.approx(1.995, abs=0.01)
    assert gain_for(-4) == pytest.approx(0.251, abs=0.01)


def test_moderator_keys_do_nothing_for_participants() -> None:
    room = Room("9001", RoomSettings())
    member = room.join("a", "1001", Role.PARTICIPANT, 0.0)
    for key in "023":
        assert room.key(member, key) is None
    assert not room.locked and not room.muted_all


def test_moderator_mutes_all_participants_but_not_moderators() -> None:
    room = Room("9001", RoomSettings())
    boss = room.join("a", "1005", Role.MODERATOR, 0.0)
    one = room.join("b", "1001", Role.PARTICIPANT, 1.0)
    two = room.join("c", "1002", Role.PARTICIPANT, 2.0)
    outcome = room.key(boss, "0")
    assert outcome is not None and outcome.prompt == "conf_all_muted"
    assert set(m.id for m in outcome.changed) == {one.id, two.id}
    assert room.heard(boss) and not room.heard(one) and not room.heard(two)
    room.key(boss, "0")
    assert room.heard(one) and room.heard(two)


def test_moderator_locks_and_kicks_the_last_one_to_join() -> None:
    room = Room("9001", RoomSettings())
    boss = room.join("a", "1005", Role.MODERATOR, 0.0)
    first = room.key(boss, "3")
    assert first is not None and first.kick is None and first.prompt == "conf_nobody"
    room.join("b", "1001", Role.PARTICIPANT, 1.0)
    late = room.join("c", "1002", Role.PARTICIPANT, 2.0)
    kick = room.key(boss, "3")
    assert kick is not None and kick.kick is late
    lock = room.key(boss, "2")
    assert lock is not None and lock.prompt == "conf_locked_now" and room.locked
    unlock = room.key(boss, "2")
    assert unlock is not None and unlock.prompt == "conf_unlocked" and not room.locked


def test_leave_key_and_unbound_keys() -> None:
    room = Room("9001", RoomSettings())
    member = room.join("a", "1001", Role.PARTICIPANT, 0.0)
    outcome = room.key(member, "#")
    assert outcome is not None and outcome.leave
    assert room.key(member, "9") is None


def test_room_ends_when_its_last_moderator_leaves_only_when_set() -> None:
    for ends in (True, False):
        room = Room("9001", RoomSettings(end_when_moderator_leaves=ends))
        a = room.join("a", "1005", Role.MODERATOR, 0.0)
        b = room.join("b", "1006", Role.MODERATOR, 0.0)
        room.join("c", "1001", Role.PARTICIPANT, 1.0)
        room.leave(a.id)
        assert not room.should_end()  # another moderator is still there
        room.leave(b.id)
        assert room.should_end() is ends


def test_room_without_a_moderator_never_ends_on_its_own() -> None:
    room = Room("9001", RoomSettings(end_when_moderator_leaves=True))
    room.join("a", "1001", Role.PARTICIPANT, 0.0)
    assert not room.should_end()


def test_summary_lists_members_in_joining_order() -> None:
    room = Room("9001", RoomSettings())
    room.join("a", "1001", Role.PARTICIPANT, 5.0)
    room.join("b", "1002", Role.LISTENER, 6.0)
    summary = room.summary(frozenset({"a"}))
    assert [(m["id"], m["caller"], m["role"], m["muted"], m["talking"])
            for m in summary["members"]] == [  # type: ignore[union-attr]
        (1, "1001", "participant", False, True), (2, "1002", "listener", True, False)]


def test_config_defaults_rooms_and_keys() -> None:
    settings = conference_settings_from({"conference": {
        "max_members": 10, "music_when_alone": False,
        "rooms": {"9002": {"pin": "1234", "moderators": ["1005"], "record": True}},
        "keys": {"mute": "*"},
    }})
    assert settings.room("9001") == RoomSettings(max_members=10, music_when_alone=False)
    room = settings.room("9002")
    assert (room.pin, room.moderators, room.record, room.max_members) == (
        "1234", ("1005",), True, 10)
    assert settings.keys.action_for("*") == "mute" and settings.keys.action_for("1") is None
    assert conference_settings_from({}).keys == KeyMap()


@pytest.mark.parametrize(("section", "message"), [
    ({"max_member": 3}, "unknown setting 'max_member'"),
    ({"max_members": 0}, "positive integer"),
    ({"record": "yes"}, "true or false"),
    ({"rooms": {"9002": {"pin": "12a4"}}}, "string of digits"),
    ({"rooms": {"9002": {"pin": "1", "moderator_pin": "1"}}}, "must differ"),
    ({"rooms": {"lobby": {}}}, "named by its number"),
    ({"keys": {"mute": "11"}}, "one DTMF key"),
    ({"keys": {"mute": "#"}}, "share one key"),
    ({"keys": {"dance": "5"}}, "unknown key action"),
])
def test_config_mistakes_are_named(section: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        conference_settings_from({"conference": section})
