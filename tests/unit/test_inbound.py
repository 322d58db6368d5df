"""The inbound filter (sans-IO): what is accepted, answered statelessly, or dropped."""

from __future__ import annotations

from softswitch.metrics import SwitchMetrics
from softswitch.sip import Request, Response, parse_message
from softswitch.sip.builders import new_branch
from softswitch.sip.destination import Destination
from softswitch.sip.inbound import InboundFilter, Reply
from tests.sipclient import request_bytes

SOURCE = Destination("192.0.2.7", 40000, "UDP")


def make_filter() -> InboundFilter:
    return InboundFilter(SwitchMetrics(), supported=["path"], local_sent_by=[("192.0.2.1", 5060)])


def test_valid_request_is_accepted_and_stamped() -> None:
    result = make_filter().accept(request_bytes(local=("10.1.1.1", 5062)), SOURCE)
    assert isinstance(result, Request)
    via = result.top_via
    assert via.params["received"] == "192.0.2.7"
    assert via.params["rport"] == "40000"


def test_reply_without_rport_goes_to_the_via_port() -> None:
    data = request_bytes(version="SIP/3.0").replace(b";rport", b"")
    result = make_filter().accept(data, SOURCE)
    assert isinstance(result, Reply)
    assert result.destination == Destination("192.0.2.7", 5999, "UDP")
    assert parse_message(result.data).status == 505  # type: ignore[union-attr]


def test_loop_through_our_own_via_gets_482() -> None:
    extra = f"Via: SIP/2.0/UDP 192.0.2.1:5060;branch={new_branch()}\r\n"
    data = request_bytes(extra="").replace(b"Max-Forwards", extra.encode() + b"Max-Forwards")
    result = make_filter().accept(data, SOURCE)
    assert isinstance(result, Reply)
    assert parse_message(result.data).status == 482  # type: ignore[union-attr]


def test_malformed_ack_is_never_answered() -> None:
    data = request_bytes("ACK", version="SIP/9.9")
    assert make_filter().accept(data, SOURCE) is None


def test_request_without_via_is_dropped_and_counted() -> None:
    flt = make_filter()
    data = b"OPTIONS sip:a@b SIP/2.0\r\nFrom: <sip:x@y>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: 1\r\nCSeq: 1 OPTIONS\r\n\r\n"
    assert flt.accept(data, SOURCE) is None
    assert flt.metrics.parse_errors["dropped"] == 1


def test_response_is_passed_on_and_counted() -> None:
    flt = make_filter()
    data = (b"SIP/2.0 180 Ringing\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKx\r\n"
            b"From: <sip:a@b>;tag=1\r\nTo: <sip:c@d>;tag=2\r\nCall-ID: k\r\nCSeq: 4 INVITE\r\n\r\n")
    result = flt.accept(data, SOURCE)
    assert isinstance(result, Response)
    assert flt.metrics.responses_in[180] == 1


def test_oversized_datagram_gets_513_from_its_head() -> None:
    flt = make_filter()
    flt.max_udp_bytes = 1000
    data = request_bytes(body=b"x" * 2000, extra="Content-Type: text/plain\r\n")
    result = flt.accept(data, SOURCE)
    assert isinstance(result, Reply)
    assert parse_message(result.data).status == 513  # type: ignore[union-attr]


def test_invented_methods_share_one_metrics_label() -> None:
    flt = make_filter()
    for i in range(20):
        flt.accept(request_bytes(f"X{i}METHOD"), SOURCE)
    assert flt.metrics.requests_in["other"] == 20
    assert len(flt.metrics.requests_in) == 1


def test_long_reason_phrases_are_truncated() -> None:
    data = request_bytes().replace(b"CSeq: 1 OPTIONS", b"CSeq: " + b"9" * 500 + b" OPTIONS")
    result = make_filter().accept(data, SOURCE)
    assert isinstance(result, Reply)
    response = parse_message(result.data)
    assert response.status == 400  # type: ignore[union-attr]
    assert len(response.reason) <= 120  # type: ignore[union-attr]
