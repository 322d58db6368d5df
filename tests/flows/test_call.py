"""The Call API on a simulated caller: prompts, type-ahead, collect, menu, hang-up, errors."""

from __future__ import annotations

from pathlib import Path

import pytest
import soundfile as sf

from softswitch.flows import Call, CallStateError, Hangup
from softswitch.flows.media_port import PlayItem
from softswitch.testing import FlowStuck, run_flow


def one_second(_: PlayItem) -> float:
    return 1.0


async def card_then_menu(call: Call) -> None:
    await call.answer()
    call.variables["card"] = await call.collect(8, prompt="enter_card")
    call.variables["choice"] = await call.menu("confirm_or_reenter", {"1": "yes", "2": "no"})
    await call.play("goodbye")


async def test_patient_caller_hears_every_prompt_and_answers_when_asked() -> None:
    result = await run_flow(card_then_menu, digits="1234#1", prompt_seconds=one_second)
    assert result.prompts == ("enter_card", "confirm_or_reenter", "goodbye")
    assert result.collected == ("1234", "1")
    assert result.variables == {"card": "1234", "choice": "yes"}
    assert result.ended_by == "flow"
    assert result.actions[0] == "answer" and result.actions[-1] == "hangup"
    assert result.hangup_cause == "flow ended"


async def test_key_during_prompt_interrupts_it_and_is_kept_for_the_next_collect() -> None:
    result = await run_flow(card_then_menu, digits=[(0.5, "77#1")], prompt_seconds=one_second)
    assert result.prompts == ("enter_card", "confirm_or_reenter", "goodbye")
    assert result.collected == ("77", "1")
    interrupted = [(e.at, e.detail) for e in result.events if e.kind == "interrupted"]
    assert interrupted == [(0.5, ("enter_card",)), (1.25, ("confirm_or_reenter",))]


async def test_keys_typed_ahead_skip_the_next_prompt() -> None:
    result = await run_flow(card_then_menu, digits=[(0.2, "7"), (0.3, "#"), (0.3, "2")],
                            prompt_seconds=one_second)
    assert result.prompts == ("enter_card", "goodbye")
    assert result.variables == {"card": "7", "choice": "no"}


async def test_no_barge_in_plays_to_the_end_but_keeps_the_keys() -> None:
    async def flow(call: Call) -> None:
        await call.answer()
        completed = await call.play(["welcome", "please_wait"], barge_in=False)
        call.variables["completed"] = completed
        call.variables["typed"] = await call.collect(3, timeout=1)

    result = await run_flow(flow, digits=[(0.2, "42")], prompt_seconds=one_second)
    assert result.variables == {"completed": True, "typed": "42"}
    assert result.duration == pytest.approx(2.0 + 3.0)  # then 3 s inter-digit timeout


async def test_collect_stops_at_max_digits_and_on_inter_digit_timeout() -> None:
    async def flow(call: Call) -> None:
        await call.answer()
        call.variables["a"] = await call.collect(2)
        call.variables["b"] = await call.collect(5, timeout=2, inter_digit_timeout=1)

    result = await run_flow(flow, digits=[(0.0, "123"), (3.0, "4")])
    # "12" fills the first; "3" then silence until 1.5 s + 1 s ends the second
    assert result.variables == {"a": "12", "b": "3"}
    assert result.duration == pytest.approx(1.5)


async def test_collect_returns_empty_after_the_first_timeout() -> None:
    async def flow(call: Call) -> None:
        await call.answer()
        call.variables["typed"] = await call.collect(4, timeout=7)

    result = await run_flow(flow)
    assert result.variables["typed"] == ""
    assert result.duration == pytest.approx(7.0)


async def test_menu_retries_with_invalid_and_timeout_prompts() -> None:
    result = await run_flow(card_then_menu, digits="5#9.2", prompt_seconds=one_second)
    assert result.prompts == ("enter_card", "confirm_or_reenter", "invalid",
                              "confirm_or_reenter", "timeout", "confirm_or_reenter", "goodbye")
    assert result.variables["choice"] == "no"


async def test_menu_out_of_retries_says_goodbye_and_hangs_up() -> None:
    result = await run_flow(card_then_menu, digits="#999", prompt_seconds=one_second)
    assert result.ended_by == "no_input"
    assert result.prompts[-2:] == ("invalid", "goodbye")
    assert result.hangup_cause == "no valid input"


async def test_caller_hangup_cancels_the_flow_at_its_await_and_finally_runs() -> None:
    async def flow(call: Call) -> None:
        await call.answer()
        try:
            await call.play("welcome")
            call.variables["after"] = True
        except Hangup:
            call.variables["hangup_seen"] = True
            raise
        finally:
            call.variables["cleaned"] = True

    result = await run_flow(flow, hangup_after=0.5, prompt_seconds=one_second)
    assert result.variables == {"hangup_seen": True, "cleaned": True}
    assert result.ended_by == "caller"
    assert result.hangup_cause is None  # no BYE back to a caller who left
    assert result.duration == 0.5


async def test_a_flow_catching_hangup_cannot_play_on() -> None:
    async def flow(call: Call) -> None:
        await call.answer()
        try:
            await call.collect(4, timeout=30)
        except Hangup:
            pass
        with pytest.raises(Hangup):
            await call.play("goodbye")
        call.variables["checked"] = True

    result = await run_flow(flow, hangup_after=3)
    assert result.variables == {"checked": True}
    assert result.ended_by == "caller"


async def test_an_exception_ends_the_call_with_an_apology() -> None:
    async def flow(call: Call) -> None:
        await call.answer()
        await call.play("welcome")
        raise KeyError("no such department")

    result = await run_flow(flow, prompt_seconds=one_second)
    assert result.ended_by == "error"
    assert "no such department" in (result.outcome.error or "")
    assert result.prompts == ("welcome", "sorry_error")
    assert result.hangup_cause == "flow error"


async def test_missing_prompt_is_an_error_the_runner_handles() -> None:
    async def flow(call: Call) -> None:
        await call.answer()
        await call.play("no_such_prompt")

    result = await run_flow(flow)
    assert result.ended_by == "error" and "PromptNotFound" in (result.outcome.error or "")


async def test_playing_before_answer_or_after_hangup_is_a_state_error() -> None:
    async def flow(call: Call) -> None:
        with pytest.raises(CallStateError):
            await call.play("welcome")
        await call.answer()
        await call.hangup("done")
        with pytest.raises(CallStateError):
            await call.collect(1)
        call.variables["ok"] = True

    result = await run_flow(flow)
    assert result.variables == {"ok": True}
    assert result.hangup_cause == "done"
    assert result.actions.count("hangup") == 1


async def test_say_helpers_use_the_call_language() -> None:
    async def flow(call: Call) -> None:
        await call.answer()
        await call.say_number(21)
        call.language = "en"
        await call.say_number(21)
        await call.say_digits("1#")

    result = await run_flow(flow)
    assert result.prompts == ("n2", "n10", "n1", "n20", "n1", "n1", "hash")


async def test_record_ends_on_the_key_and_keeps_the_file(tmp_path: Path) -> None:
    async def flow(call: Call) -> None:
        await call.answer()
        rec = await call.record(max_seconds=30, silence_timeout=3)
        call.variables["rec"] = (rec.ended_by, rec.seconds, rec.path)

    result = await run_flow(flow, digits=[(4.2, "#")], recordings=tmp_path,
                            prompt_seconds=one_second)
    ended_by, seconds, path = result.variables["rec"]
    assert result.prompts == ("tone:beep",)
    assert ended_by == "key #" and seconds == pytest.approx(3.2)
    assert sf.info(str(path)).duration == pytest.approx(3.2)
    assert result.recordings == (path,)


async def test_record_ends_on_silence_or_at_its_maximum(tmp_path: Path) -> None:
    async def flow(call: Call) -> None:
        await call.answer()
        first = await call.record(max_seconds=30, silence_timeout=3, beep=False)
        second = await call.record(max_seconds=4, silence_timeout=3, beep=False)
        call.variables["ends"] = [(first.ended_by, first.seconds), (second.ended_by, second.seconds)]

    result = await run_flow(flow, recordings=tmp_path, speech_seconds=2)
    assert result.variables["ends"] == [("silence", 5.0), ("max", 4.0)]


async def test_caller_hanging_up_mid_recording_keeps_the_message(tmp_path: Path) -> None:
    async def flow(call: Call) -> None:
        await call.answer()
        await call.record(max_seconds=60, beep=False)

    result = await run_flow(flow, recordings=tmp_path, hangup_after=1.5, speech_seconds=30)
    assert result.ended_by == "caller"
    assert len(result.recordings) == 1
    assert sf.info(str(result.recordings[0])).duration == pytest.approx(1.5)


async def test_queues_are_a_clear_seam() -> None:
    async def flow(call: Call) -> None:
        await call.answer()
        await call.enqueue("7000")

    result = await run_flow(flow)
    assert result.ended_by == "error"
    assert "NotImplementedError" in (result.outcome.error or "")


@pytest.mark.parametrize("method", ["dial", "bridge", "transfer"])
async def test_dialling_without_a_switch_is_a_clear_error(method: str) -> None:
    """A simulated call has no switch to place calls (tests/calls/test_flow_dial_sipp.py
    dials over real SIP)."""
    async def flow(call: Call) -> None:
        await call.answer()
        await getattr(call, method)("1001")

    result = await run_flow(flow)
    assert result.ended_by == "error"
    assert "cannot place calls" in (result.outcome.error or "")


async def test_conference_without_a_conference_service_is_a_clear_error() -> None:
    async def flow(call: Call) -> None:
        await call.conference("9001")

    result = await run_flow(flow)
    assert result.ended_by == "error"
    assert "serves no conferences" in (result.outcome.error or "")


async def test_a_flow_waiting_on_nothing_is_reported_as_stuck() -> None:
    async def flow(call: Call) -> None:
        await call.answer()
        while True:
            await call.collect(1, timeout=100)

    with pytest.raises(FlowStuck, match="simulated seconds"):
        await run_flow(flow, max_seconds=1000)


async def test_a_prompt_skipped_by_type_ahead_is_an_event() -> None:
    async def flow(call: Call) -> None:
        await call.answer()
        await call.collect(1, timeout=2)
        await call.play("welcome")  # "2" is waiting already
        call.variables["next"] = await call.collect(1)

    result = await run_flow(flow, digits=[(0.0, "1"), (0.0, "2")])
    assert [e.detail for e in result.events if e.kind == "skipped"] == [("welcome",)]
    assert result.variables["next"] == "2"
    assert result.prompts == ()


def test_public_names_exist() -> None:
    import softswitch.flows
    import softswitch.testing

    for package in (softswitch.flows, softswitch.testing):
        assert all(hasattr(package, name) for name in package.__all__)
