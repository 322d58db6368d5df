"""Message factories, a fake two-peer network with deterministic loss, and output filters."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from softswitch.sip import Request, Response, make_response, parse_message
from softswitch.sip.destination import Destination
from softswitch.sip.transaction import Output, TransactionLayer, Transmit

CLIENT = Destination("10.0.0.1", 5060, "UDP")
SERVER = Destination("10.0.0.2", 5060, "UDP")


def request(
    method: str = "INVITE",
    *,
    branch: str | None = "z9hG4bK-abc1",
    via_host: str = "10.0.0.1",
    via_port: int | None = 5060,
    transport: str = "UDP",
    cseq: int = 1,
    cseq_method: str | None = None,
    uri: str = "sip:bob@example.com",
    to_tag: str | None = None,
    from_tag: str = "from1",
    call_id: str = "call-1@10.0.0.1",
    routes: Iterable[str] = (),
) -> Request:
    """A parsed request, built from text so it looks exactly like one off the wire."""
    port = f":{via_port}" if via_port is not None else ""
    branch_param = f";branch={branch}" if branch is not None else ""
    to = "<sip:bob@example.com>" + (f";tag={to_tag}" if to_tag else "")
    lines = [
        f"{method} {uri} SIP/2.0",
        f"Via: SIP/2.0/{transport} {via_host}{port}{branch_param}",
        "Max-Forwards: 70",
        *(f"Route: {route}" for route in routes),
        f"From: Alice <sip:alice@example.com>;tag={from_tag}",
        f"To: {to}",
        f"Call-ID: {call_id}",
        f"CSeq: {cseq} {cseq_method or method}",
        "Contact: <sip:alice@10.0.0.1>",
        "",
        "",
    ]
    parsed = parse_message("\r\n".join(lines).encode())
    assert isinstance(parsed, Request)
    return parsed


def response(req: Request, status: int, to_tag: str = "to1") -> Response:
    """The UAS's response: copies Via/From/To/Call-ID/CSeq, adds a To tag to non-100."""
    return make_response(req, status, to_tag=to_tag if status > 100 else None)


def wire(message: Request | Response) -> Request | Response:
    """Serialize and parse again: what the peer would see."""
    return parse_message(message.serialize())


def transmits(outputs: Iterable[Output]) -> list[Transmit]:
    return [o for o in outputs if isinstance(o, Transmit)]


def of_type(outputs: Iterable[Output], kind: type) -> list:
    return [o for o in outputs if isinstance(o, kind)]


def parsed(outputs: Iterable[Output]) -> list[Request | Response]:
    return [parse_message(t.data) for t in transmits(outputs)]


def run_timers(
    layer: TransactionLayer, until: float, start: float = 0.0
) -> list[tuple[float, Output]]:
    """Advance a fake clock deadline by deadline up to `until`; return (time, output) pairs."""
    seen: list[tuple[float, Output]] = []
    for _ in range(10_000):
        deadline = layer.next_deadline()
        if deadline is None or deadline > until:
            return seen
        now = max(deadline, start)
        seen.extend((now, o) for o in layer.handle_timers(now))
    raise AssertionError("timers did not settle")


@dataclass
class Network:
    """Two layers joined by a fake link. `loss_pattern[n]` True drops the n-th transmission
    (counted over both directions, in send order); past its end nothing is lost."""

    client: TransactionLayer
    server: TransactionLayer
    loss_pattern: list[bool] = field(default_factory=list)
    sent: int = 0
    delivered: list[Request | Response] = field(default_factory=list)
    client_events: list[Output] = field(default_factory=list)
    server_events: list[Output] = field(default_factory=list)

    def feed(self, outputs: Iterable[Output], now: float, from_client: bool) -> None:
        """Deliver transmissions (recursively, answers included); keep the TU events."""
        queue = [(o, from_client) for o in outputs]
        while queue:
            output, origin_client = queue.pop(0)
            if not isinstance(output, Transmit):
                (self.client_events if origin_client else self.server_events).append(output)
                continue
            lost = self.sent < len(self.loss_pattern) and self.loss_pattern[self.sent]
            self.sent += 1
            if lost:
                continue
            message = parse_message(output.data)
            self.delivered.append(message)
            target = self.server if origin_client else self.client
            source = CLIENT if origin_client else SERVER
            if isinstance(message, Request):
                result = target.receive_request(message, source, now)
            else:
                result = target.receive_response(message, now)
            queue.extend((o, not origin_client) for o in result)

    def advance(self, until: float, step_from: float = 0.0) -> None:
        """Run both layers' timers in time order up to `until`."""
        for _ in range(10_000):
            deadlines = [
                (d, is_client)
                for d, is_client in (
                    (self.client.next_deadline(), True),
                    (self.server.next_deadline(), False),
                )
                if d is not None and d <= until
            ]
            if not deadlines:
                return
            now, is_client = min(deadlines)
            layer = self.client if is_client else self.server
            self.feed(layer.handle_timers(max(now, step_from)), now, is_client)
        raise AssertionError("timers did not settle")
