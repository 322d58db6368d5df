"""Transaction matching: RFC 3261 branches, RFC 2543 fallback, CANCEL (17.1.3, 17.2.3, 9.2)."""

from __future__ import annotations

from softswitch.sip.destination import Destination
from softswitch.sip.transaction import (
    InviteServerState,
    RequestReceived,
    ResponseReceived,
    StrayAck,
    StrayResponse,
    TransactionLayer,
)

from .helpers import CLIENT, SERVER, request, response, transmits


def open_server(layer: TransactionLayer, req, source: Destination = CLIENT) -> int:
    [event] = layer.receive_request(req, source, now=0.0)
    assert isinstance(event, RequestReceived)
    return event.transaction_id


def test_same_branch_from_another_sent_by_is_another_transaction():
    layer = TransactionLayer()
    first = open_server(layer, request("OPTIONS", branch="z9hG4bK-same"))
    other = request("OPTIONS", branch="z9hG4bK-same", via_host="10.9.9.9")
    second = open_server(layer, other)
    assert first != second and len(layer) == 2


def test_sent_by_host_matches_case_insensitively():
    layer = TransactionLayer()
    open_server(layer, request("OPTIONS", branch="z9hG4bK-c", via_host="pc.example.com"))
    again = request("OPTIONS", branch="z9hG4bK-c", via_host="PC.Example.COM")
    assert layer.receive_request(again, CLIENT, now=0.1) == []


def test_same_branch_different_method_is_another_transaction():
    layer = TransactionLayer()
    invite = open_server(layer, request("INVITE", branch="z9hG4bK-x"))
    cancel = request("CANCEL", branch="z9hG4bK-x")
    cancel_id = open_server(layer, cancel)
    assert cancel_id != invite
    assert layer.find_cancelled(cancel) == invite


def test_cancel_that_matches_nothing_finds_nothing():
    layer = TransactionLayer()
    open_server(layer, request("INVITE", branch="z9hG4bK-x"))
    assert layer.find_cancelled(request("CANCEL", branch="z9hG4bK-y")) is None
    assert layer.find_cancelled(request("CANCEL", branch="z9hG4bK-x", via_host="10.8.8.8")) is None


def test_cancel_does_not_find_a_non_invite_transaction():
    layer = TransactionLayer()
    open_server(layer, request("OPTIONS", branch="z9hG4bK-o"))
    assert layer.find_cancelled(request("CANCEL", branch="z9hG4bK-o")) is None


def test_rfc2543_invite_retransmission_and_ack_match_on_dialog_fields():
    layer = TransactionLayer()
    invite = request("INVITE", branch="1234")  # no magic cookie: RFC 2543 peer
    tid = open_server(layer, invite)
    assert layer.receive_request(request("INVITE", branch="1234"), CLIENT, now=0.1) == []
    layer.send_response(tid, response(invite, 486, to_tag="ours"), now=0.2)
    # An ACK with the To tag of our response and the INVITE's other fields confirms.
    assert layer.receive_request(request("ACK", branch="1234", to_tag="ours"), CLIENT, 0.3) == []
    assert layer.get(tid).state is InviteServerState.CONFIRMED


def test_rfc2543_ack_with_another_to_tag_is_stray():
    layer = TransactionLayer()
    invite = request("INVITE", branch=None)
    tid = open_server(layer, invite)
    layer.send_response(tid, response(invite, 486, to_tag="ours"), now=0.2)
    ack = request("ACK", branch=None, to_tag="theirs")
    assert layer.receive_request(ack, CLIENT, now=0.3) == [StrayAck(ack, CLIENT)]
    assert layer.get(tid).state is InviteServerState.COMPLETED


def test_rfc2543_fields_each_separate_transactions():
    layer = TransactionLayer()
    base = {"branch": None}
    open_server(layer, request("INVITE", **base))
    variants = [
        {"uri": "sip:carol@example.com"},
        {"from_tag": "other"},
        {"call_id": "call-2@10.0.0.1"},
        {"cseq": 2},
        {"via_port": 5070},
        {"to_tag": "in-dialog"},
    ]
    for variant in variants:
        out = layer.receive_request(request("INVITE", **base, **variant), CLIENT, now=0.1)
        assert isinstance(out[0], RequestReceived), variant
    assert len(layer) == 1 + len(variants)


def test_rfc2543_reinvite_ack_matches_with_the_dialog_to_tag():
    layer = TransactionLayer()
    invite = request("INVITE", branch="old", to_tag="dlg")
    tid = open_server(layer, invite)
    layer.send_response(tid, response(invite, 488, to_tag="dlg"), now=0.1)
    assert layer.receive_request(request("ACK", branch="old", to_tag="dlg"), CLIENT, 0.2) == []
    assert layer.get(tid).state is InviteServerState.CONFIRMED


def test_rfc2543_cancel_finds_its_invite():
    layer = TransactionLayer()
    tid = open_server(layer, request("INVITE", branch=None))
    cancel = request("CANCEL", branch=None)
    assert open_server(layer, cancel) != tid
    assert layer.find_cancelled(cancel) == tid


def test_client_matches_branch_and_cseq_method():
    layer = TransactionLayer()
    invite = request("INVITE", branch="z9hG4bK-m")
    tid, _ = layer.send_request(invite, SERVER, now=0.0)
    layer.receive_response(response(invite, 180), now=0.1)
    cancel_id, out = layer.cancel(tid, now=0.2)
    [_cancel_sent] = transmits(out)
    # A 200 for CANCEL (same branch, CSeq method CANCEL) belongs to the CANCEL only.
    cancel_ok = response(request("CANCEL", branch="z9hG4bK-m"), 200)
    assert layer.receive_response(cancel_ok, now=0.3)[0] == ResponseReceived(cancel_id, cancel_ok)
    terminated = response(invite, 487)
    assert layer.receive_response(terminated, now=0.4)[-1] == ResponseReceived(tid, terminated)
    # Another branch, or the right branch with another method, is stray.
    for stray in (
        response(request("INVITE", branch="z9hG4bK-other"), 200),
        response(request("BYE", branch="z9hG4bK-m"), 200),
    ):
        assert layer.receive_response(stray, now=0.5) == [StrayResponse(stray)]
