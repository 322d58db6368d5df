"""atheris (libFuzzer) entry point for the SIP receive path.

    .venv/bin/python -m tests.fuzz.fuzz_parser -max_total_time=600 [libFuzzer flags] [dirs]

Every input goes through what a transport calls on a datagram: `parse_message`, then for a
request `check_request` and, when refused, `make_response` and `serialize()`; accepted messages
are re-serialized and parsed again (tests/sip/receive.py `exercise`), and the transports' own
`InboundFilter` gets the same bytes. Only `ProtocolError` is an expected failure of the parse
path (and the filter must not raise at all): any other exception, or a broken promise
(AssertionError), is a crash that libFuzzer saves to reproduce.

Without corpus directories on the command line, the fuzzer works in $SIP_FUZZ_DIR (default
/tmp/softswitch-fuzz/parser; new inputs and crash files go there) seeded read-only from the
RFC 4475 torture corpus in tests/sip/torture.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import atheris

with atheris.instrument_imports(include=["softswitch.sip", "tests.sip.receive"]):
    from softswitch.metrics import SwitchMetrics
    from softswitch.sip.destination import Destination
    from softswitch.sip.inbound import InboundFilter, retransmission_key
    from tests.sip.receive import LOCAL_SENT_BY, SUPPORTED, exercise

SEEDS = Path(__file__).resolve().parent.parent / "sip" / "torture"
SOURCE = Destination("192.0.2.250", 5060, "UDP")
FILTER_RENEWAL = 10_000  # a fresh filter now and then: its counters are keyed by peer methods


class _Target:
    def __init__(self) -> None:
        self.runs = 0
        self.filter = self._new_filter()

    @staticmethod
    def _new_filter() -> InboundFilter:
        return InboundFilter(SwitchMetrics(), supported=SUPPORTED, local_sent_by=LOCAL_SENT_BY)

    def __call__(self, data: bytes) -> None:
        self.runs += 1
        if self.runs % FILTER_RENEWAL == 0:
            self.filter = self._new_filter()
        exercise(data)
        exercise(data, max_size=512)  # the 513 path: answering from a truncated header block
        self.filter.accept(data, SOURCE)  # returns a verdict for every input; never raises
        retransmission_key(data)  # the pre-parse absorber's key: a key or None, never raises


def main(argv: list[str]) -> None:
    args = list(argv)
    if not any(not arg.startswith("-") for arg in args[1:]):
        work = Path(os.environ.get("SIP_FUZZ_DIR", "/tmp/softswitch-fuzz/parser"))
        work.mkdir(parents=True, exist_ok=True)
        args += [str(work), str(SEEDS)]
        if not any(arg.startswith("-artifact_prefix=") for arg in args):
            args.append(f"-artifact_prefix={work}/")
    atheris.Setup(args, _Target())
    atheris.Fuzz()


if __name__ == "__main__":
    main(sys.argv)
