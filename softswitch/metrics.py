"""Counters of the switch, cheap on the hot path and exported to Prometheus on scrape.

The SIP path increments plain dict counters (one dict operation per message); a custom
prometheus-client collector turns them into metric families only when /metrics is read. Each
switch has its own registry: no module-global state, so several switches can run in one test.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

__all__ = ["SwitchMetrics"]


class SwitchMetrics:
    """Message, error and health counters of one switch."""

    def __init__(self) -> None:
        self.requests_in: Counter[str] = Counter()
        self.responses_in: Counter[int] = Counter()
        self.requests_out: Counter[str] = Counter()
        self.responses_out: Counter[int] = Counter()
        self.parse_errors: Counter[str] = Counter()  # by answered status, or "dropped"
        self.loop_lag_seconds = 0.0
        self.transactions_alive: Callable[[], int] = lambda: 0
        self.gauges: dict[str, tuple[str, Callable[[], float]]] = {}
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(_Collector(self))

    def add_gauge(self, name: str, documentation: str, read: Callable[[], float]) -> None:
        """Expose a value read at scrape time (registrations, live calls, ...)."""
        self.gauges[name] = (documentation, read)

    def render(self) -> bytes:
        return generate_latest(self.registry)


class _Collector:
    def __init__(self, metrics: SwitchMetrics) -> None:
        self.metrics = metrics

    def collect(self) -> Iterator[Metric]:
        m = self.metrics
        msgs_in = CounterMetricFamily(
            "softswitch_sip_messages_received",
            "SIP messages received, by method (requests) or status (responses)",
            labels=["kind", "method", "status"],
        )
        msgs_out = CounterMetricFamily(
            "softswitch_sip_messages_sent",
            "SIP messages sent, by method (requests) or status (responses)",
            labels=["kind", "method", "status"],
        )
        for family, requests, responses in (
            (msgs_in, m.requests_in, m.responses_in),
            (msgs_out, m.requests_out, m.responses_out),
        ):
            for method, count in requests.items():
                family.add_metric(["request", method, ""], count)
            for status, count in responses.items():
                family.add_metric(["response", "", str(status)], count)
        yield msgs_in
        yield msgs_out
        errors = CounterMetricFamily(
            "softswitch_sip_parse_errors",
            "Malformed messages, by the status answered (or dropped)",
            labels=["outcome"],
        )
        for outcome, count in m.parse_errors.items():
            errors.add_metric([outcome], count)
        yield errors
        yield GaugeMetricFamily(
            "softswitch_sip_transactions_alive",
            "SIP transactions currently held",
            value=m.transactions_alive(),
        )
        yield GaugeMetricFamily(
            "softswitch_event_loop_lag_seconds",
            "How late the event loop ran a timer, last sample",
            value=m.loop_lag_seconds,
        )
        for name, (doc, read) in m.gauges.items():
            yield GaugeMetricFamily(name, doc, value=read())
