"""RFC 3261 section 12 dialogs between a UAC and a UAS, driven by hand with a fake clock."""

from __future__ import annotations

import pytest

from softswitch.sip import Via, parse_uri
from softswitch.sip.dialog import (
    AnswerResent,
    Dialog,
    DialogEnded,
    DialogError,
    DialogId,
    DialogState,
    DialogStateError,
    SendRequest,
)

from .dialog_helpers import (
    ALICE_CONTACT,
    BOB_CONTACT,
    as_request,
    as_response,
    confirmed_pair,
    early_pair,
    invite,
)

# -- creation: ids, route sets, targets ------------------------------------------------------


def test_uas_dialog_from_invite_keeps_record_route_in_order() -> None:
    pair = early_pair()
    bob = pair.bob
    assert bob.id == DialogId("dlg-1@10.0.0.1", "btag", "atag")
    assert bob.route_set == ("<sip:p2.example.com;lr>", "<sip:p1.example.com;lr>")
    assert str(bob.remote_target) == "sip:alice@10.0.0.1:5060"
    assert bob.remote_seq == 1 and bob.state is DialogState.EARLY


def test_uac_dialog_reverses_record_route_and_targets_the_contact() -> None:
    alice = early_pair().alice
    assert alice.id == DialogId("dlg-1@10.0.0.1", "atag", "btag")
    assert alice.route_set == ("<sip:p1.example.com;lr>", "<sip:p2.example.com;lr>")
    assert str(alice.remote_target) == "sip:bob@10.0.0.2:5062"
    assert alice.local_seq == 1 and alice.remote_seq is None
    assert alice.state is DialogState.EARLY


def test_ids_of_incoming_messages_match_each_side() -> None:
    pair = confirmed_pair()
    info = as_request(pair.alice.create_request("INFO"))
    assert DialogId.of_request(info) == pair.bob.id
    reply = as_response(pair.bob.make_response(info, 200))
    assert DialogId.of_response(reply) == pair.alice.id


def test_uas_dialog_needs_a_contact() -> None:
    with pytest.raises(DialogError) as caught:
        Dialog.as_uas(invite(contact=False), "btag", BOB_CONTACT)
    assert caught.value.status == 400


def test_untagged_or_100_response_creates_no_dialog() -> None:
    inv = invite()
    trying = as_response(Dialog.as_uas(inv, "b", BOB_CONTACT).make_response(inv, 100))
    with pytest.raises(DialogStateError):
        Dialog.as_uac(inv, trying, ALICE_CONTACT)


def test_responses_carry_record_route_contact_and_our_tag() -> None:
    pair = early_pair()
    ok = pair.bob.make_response(pair.invite, 200, body=b"v=0\r\n")
    assert ok.to.tag == "btag"
    assert ok.headers.get_all("record-route") == list(
        ("<sip:p2.example.com;lr>", "<sip:p1.example.com;lr>")
    )
    assert str(ok.contacts[0].uri) == str(BOB_CONTACT)
    assert ok.content_type == "application/sdp" and ok.body == b"v=0\r\n"
    busy = pair.bob.make_response(pair.invite, 486)
    assert "contact" not in busy.headers and "record-route" not in busy.headers


# -- confirmation, ACK, 2xx retransmission ---------------------------------------------------


def test_200_confirms_both_sides_and_ack_repeats_the_invite_cseq() -> None:
    pair = early_pair()
    ok = pair.bob.make_response(pair.invite, 200)
    pair.bob.sent_response(ok, 10.0)
    assert pair.bob.state is DialogState.CONFIRMED and pair.bob.awaiting_ack
    pair.alice.receive_response(as_response(ok))
    assert pair.alice.state is DialogState.CONFIRMED
    ack = as_request(pair.alice.create_ack())
    assert ack.method == "ACK" and ack.cseq.number == 1 and ack.cseq.method == "ACK"
    assert str(ack.uri) == "sip:bob@10.0.0.2:5062"
    assert ack.headers.get_all("route") == ["<sip:p1.example.com;lr>", "<sip:p2.example.com;lr>"]
    assert ack.to.tag == "btag" and ack.from_.tag == "atag"
    pair.bob.receive_request(ack)
    assert not pair.bob.awaiting_ack and pair.bob.next_deadline() is None


def test_2xx_route_set_replaces_the_early_one() -> None:
    pair = early_pair()
    ok = pair.bob.make_response(pair.invite, 200)
    ok.headers.remove("record-route")
    ok.headers.add("Record-Route", "<sip:edge.example.com;lr>")
    pair.alice.receive_response(as_response(ok))
    assert pair.alice.route_set == ("<sip:edge.example.com;lr>",)


def test_uas_resends_2xx_doubling_from_t1_to_t2_then_byes_at_64_t1() -> None:
    pair = early_pair(t1=0.5, t2=4.0)
    ok = pair.bob.make_response(pair.invite, 200)
    pair.bob.sent_response(ok, 0.0)
    resent_at: list[float] = []
    outputs = []
    for _ in range(40):  # bounded: 64*T1 = 32 s needs 11 resends
        deadline = pair.bob.next_deadline()
        if deadline is None:
            break
        out = pair.bob.handle_timer(deadline)
        resent_at += [deadline for o in out if isinstance(o, AnswerResent)]
        assert all(o.response is ok for o in out if isinstance(o, AnswerResent))
        outputs = out
    assert resent_at == [0.5, 1.5, 3.5, 7.5, 11.5, 15.5, 19.5, 23.5, 27.5, 31.5]
    assert [type(o) for o in outputs] == [SendRequest, DialogEnded]
    bye = outputs[0].request  # type: ignore[union-attr]
    assert bye.method == "BYE" and bye.cseq.number == 1
    assert "no ACK" in outputs[1].reason  # type: ignore[union-attr]
    assert pair.bob.state is DialogState.TERMINATED
    assert pair.bob.next_deadline() is None


def test_over_a_reliable_transport_the_2xx_is_not_resent_but_the_ack_is_awaited() -> None:
    pair = early_pair(reliable=True)
    pair.bob.sent_response(pair.bob.make_response(pair.invite, 200), 5.0)
    assert pair.bob.next_deadline() == 5.0 + 32.0
    assert pair.bob.handle_timer(20.0) == []
    out = pair.bob.handle_timer(37.0)
    assert isinstance(out[0], SendRequest) and pair.bob.terminated


def test_ack_stops_resends() -> None:
    pair = early_pair()
    ok = pair.bob.make_response(pair.invite, 200)
    pair.bob.sent_response(ok, 0.0)
    assert [type(o) for o in pair.bob.handle_timer(0.5)] == [AnswerResent]
    pair.alice.receive_response(as_response(ok))
    pair.bob.receive_request(as_request(pair.alice.create_ack()))
    assert pair.bob.handle_timer(100.0) == [] and pair.bob.state is DialogState.CONFIRMED


def test_ack_with_another_cseq_does_not_stop_resends() -> None:
    pair = early_pair()
    pair.bob.sent_response(pair.bob.make_response(pair.invite, 200), 0.0)
    ack = as_request(pair.alice.create_ack())
    ack.headers.set("CSeq", "7 ACK")
    pair.bob.receive_request(ack)
    assert pair.bob.awaiting_ack


# -- rejection and forks ---------------------------------------------------------------------


def test_final_failure_ends_early_dialogs_on_both_sides() -> None:
    pair = early_pair()
    busy = pair.bob.make_response(pair.invite, 486)
    pair.bob.sent_response(busy, 1.0)
    pair.alice.receive_response(as_response(busy))
    assert pair.alice.terminated and pair.bob.terminated
    assert pair.alice.end_reason == "486 Busy Here"


def test_response_from_another_fork_needs_its_own_dialog() -> None:
    pair = early_pair()
    other = Dialog.as_uas(pair.invite, "fork2", BOB_CONTACT)
    ringing = as_response(other.make_response(pair.invite, 180))
    with pytest.raises(DialogStateError):
        pair.alice.receive_response(ringing)
    forked = Dialog.as_uac(pair.invite, ringing, ALICE_CONTACT)
    assert forked.id.remote_tag == "fork2"


def test_provisional_refreshes_the_early_target() -> None:
    pair = early_pair()
    ringing = pair.bob.make_response(pair.invite, 183)
    ringing.headers.set("Contact", "<sip:bob@10.9.9.9>")
    pair.alice.receive_response(as_response(ringing))
    assert str(pair.alice.remote_target) == "sip:bob@10.9.9.9"
    assert pair.alice.state is DialogState.EARLY


# -- in-dialog requests ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "has_contact"),
    [("INFO", False), ("UPDATE", True), ("REFER", True), ("NOTIFY", True), ("BYE", False)],
)
def test_in_dialog_requests_follow_route_set_with_next_cseq(method: str, has_contact: bool) -> None:
    pair = confirmed_pair()
    request = as_request(pair.alice.create_request(method, body=b"x", content_type="text/plain"))
    assert request.cseq.number == 2 and request.cseq.method == method
    assert str(request.uri) == "sip:bob@10.0.0.2:5062"
    assert request.headers.get_all("route")[0] == "<sip:p1.example.com;lr>"
    assert request.call_id == "dlg-1@10.0.0.1"
    assert ("contact" in request.headers) is has_contact
    assert request.content_type == "text/plain" and request.body == b"x"
    pair.bob.receive_request(request)
    assert pair.bob.remote_seq == 2


def test_callee_requests_use_its_own_cseq_space_and_the_reverse_route() -> None:
    pair = confirmed_pair()
    info = as_request(pair.bob.create_request("INFO"))
    assert info.cseq.number == 1
    assert str(info.uri) == "sip:alice@10.0.0.1:5060"
    assert info.headers.get_all("route")[0] == "<sip:p2.example.com;lr>"
    assert info.from_.tag == "btag" and info.to.tag == "atag"
    pair.alice.receive_request(info)
    assert pair.alice.remote_seq == 1


def test_bye_ends_both_sides() -> None:
    pair = confirmed_pair()
    bye = as_request(pair.alice.create_request("BYE"))
    assert pair.alice.terminated and pair.alice.end_reason == "local BYE"
    pair.bob.receive_request(bye)
    assert pair.bob.terminated and pair.bob.end_reason == "remote BYE"
    with pytest.raises(DialogError) as caught:
        pair.bob.receive_request(bye)
    assert caught.value.status == 481


def test_caller_may_bye_an_early_dialog_but_callee_may_not() -> None:
    pair = early_pair()
    with pytest.raises(DialogStateError):
        pair.bob.create_request("BYE")
    pair.alice.create_request("BYE")
    assert pair.alice.terminated


def test_callee_bye_waits_for_the_ack() -> None:
    pair = early_pair()
    pair.bob.sent_response(pair.bob.make_response(pair.invite, 200), 0.0)
    with pytest.raises(DialogStateError):
        pair.bob.create_request("BYE")


def test_out_of_order_and_repeated_cseq_are_500() -> None:
    pair = confirmed_pair()
    first = as_request(pair.alice.create_request("INFO"))
    second = as_request(pair.alice.create_request("INFO"))
    pair.bob.receive_request(second)
    for late in (first, second):
        with pytest.raises(DialogError) as caught:
            pair.bob.receive_request(late)
        assert caught.value.status == 500


def test_request_for_another_dialog_is_481() -> None:
    pair = confirmed_pair()
    stray = as_request(pair.alice.create_request("INFO"))
    stray.headers.set("To", "<sip:bob@example.com>;tag=other")
    with pytest.raises(DialogError) as caught:
        pair.bob.receive_request(stray)
    assert caught.value.status == 481


def test_ack_and_cancel_are_not_built_as_ordinary_requests() -> None:
    pair = confirmed_pair()
    for method in ("ACK", "CANCEL"):
        with pytest.raises(DialogStateError):
            pair.alice.create_request(method)
    with pytest.raises(DialogStateError):
        pair.bob.create_ack()  # Bob sent no INVITE


def test_terminated_dialog_builds_nothing() -> None:
    pair = confirmed_pair()
    pair.alice.create_request("BYE")
    with pytest.raises(DialogStateError):
        pair.alice.create_request("INFO")


def test_481_or_408_to_an_in_dialog_request_ends_the_dialog() -> None:
    for status in (481, 408):
        pair = confirmed_pair()
        info = as_request(pair.alice.create_request("INFO"))
        pair.alice.receive_response(as_response(pair.bob.make_response(info, status)))
        assert pair.alice.terminated and str(status) in (pair.alice.end_reason or "")


def test_other_failures_to_in_dialog_requests_keep_the_dialog() -> None:
    pair = confirmed_pair()
    info = as_request(pair.alice.create_request("INFO"))
    pair.alice.receive_response(as_response(pair.bob.make_response(info, 415)))
    assert pair.alice.state is DialogState.CONFIRMED


def test_request_timeout_ends_the_dialog() -> None:
    pair = confirmed_pair()
    pair.alice.create_request("INFO")
    pair.alice.request_timed_out("INFO")
    assert pair.alice.terminated and pair.alice.end_reason == "no response to INFO"


def test_via_template_gets_a_fresh_branch_per_request() -> None:
    via = Via("UDP", "10.0.0.1", 5060, {"rport": None})
    pair = confirmed_pair(via=via)
    a = as_request(pair.alice.create_request("INFO"))
    b = as_request(pair.alice.create_request("INFO"))
    assert a.top_via.host == "10.0.0.1" and "rport" in a.top_via.params
    assert a.top_via.branch != b.top_via.branch
    assert (a.top_via.branch or "").startswith("z9hG4bK")


def test_strict_first_route_becomes_the_request_uri() -> None:
    inv = invite(record_route=("<sip:strict.example.com>", "<sip:p1.example.com;lr>"))
    bob = Dialog.as_uas(inv, "btag", BOB_CONTACT)
    ok = bob.make_response(inv, 200)
    alice = Dialog.as_uac(inv, as_response(ok), ALICE_CONTACT)
    bye = as_request(bob.create_request("INFO"))
    assert str(bye.uri) == "sip:strict.example.com"
    assert bye.headers.get_all("route") == ["<sip:p1.example.com;lr>", "<sip:alice@10.0.0.1:5060>"]
    loose = as_request(alice.create_request("INFO"))
    assert str(loose.uri) == "sip:bob@10.0.0.2:5062"


# -- re-INVITE -------------------------------------------------------------------------------


def test_reinvite_refreshes_target_and_its_2xx_is_acked_with_its_cseq() -> None:
    pair = confirmed_pair()
    pair.alice.local_contact = parse_uri("sip:alice@10.0.0.99")
    reinvite = as_request(pair.alice.create_request("INVITE", body=b"v=0\r\n"))
    assert reinvite.cseq.number == 2
    pair.bob.receive_request(reinvite)
    assert str(pair.bob.remote_target) == "sip:alice@10.0.0.99"
    ok = pair.bob.make_response(reinvite, 200)
    pair.bob.sent_response(ok, 3.0)
    assert pair.bob.awaiting_ack
    pair.alice.receive_response(as_response(ok))
    ack = as_request(pair.alice.create_ack())
    assert ack.cseq.number == 2
    pair.bob.receive_request(ack)
    assert not pair.bob.awaiting_ack


def test_second_invite_before_the_first_is_answered_is_500() -> None:
    pair = confirmed_pair()
    pair.bob.receive_request(as_request(pair.alice.create_request("INVITE")))
    second = as_request(pair.alice.create_request("INFO"))
    second.headers.set("CSeq", "3 INVITE")
    second.method = "INVITE"
    with pytest.raises(DialogError) as caught:
        pair.bob.receive_request(second)
    assert caught.value.status == 500
    assert caught.value.retry_later  # RFC 3261 14.2: with a Retry-After of 0-10 s


def test_invite_glare_is_491_and_no_new_invite_while_one_is_pending() -> None:
    pair = confirmed_pair()
    pair.alice.create_request("INVITE")
    with pytest.raises(DialogStateError):
        pair.alice.create_request("INVITE")
    theirs = as_request(pair.bob.create_request("INVITE"))
    with pytest.raises(DialogError) as caught:
        pair.alice.receive_request(theirs)
    assert caught.value.status == 491


def test_failed_reinvite_keeps_the_dialog_and_allows_another() -> None:
    pair = confirmed_pair()
    reinvite = as_request(pair.alice.create_request("INVITE"))
    pair.bob.receive_request(reinvite)
    pending = pair.bob.make_response(reinvite, 491)
    pair.bob.sent_response(pending, 1.0)
    pair.alice.receive_response(as_response(pending))
    assert pair.alice.state is pair.bob.state is DialogState.CONFIRMED
    pair.alice.create_request("INVITE")


def test_reinvite_needs_a_confirmed_dialog() -> None:
    with pytest.raises(DialogStateError):
        early_pair().alice.create_request("INVITE")
