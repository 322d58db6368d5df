"""SIP transactions (RFC 3261 section 17, RFC 6026), sans-IO.

`TransactionLayer` owns the transactions: feed it parsed messages with the current time, send
the `Transmit` outputs, give the other outputs to the core, and call `handle_timers(now)` at
`next_deadline()`. Each of the four machines is an enum of states plus a total transition table
(`{(state, input): (next_state, action)}`); `describe(table)` renders one as text.
"""

from softswitch.sip.destination import Destination
from softswitch.sip.transaction.base import Observer, Transaction
from softswitch.sip.transaction.client import (
    INVITE_CLIENT_TABLE,
    NON_INVITE_CLIENT_TABLE,
    ClientTransaction,
    InviteClientInput,
    InviteClientState,
    InviteClientTransaction,
    NonInviteClientInput,
    NonInviteClientState,
    NonInviteClientTransaction,
)
from softswitch.sip.transaction.derive import build_ack, build_cancel
from softswitch.sip.transaction.events import (
    AckReceived,
    Output,
    RequestReceived,
    ResponseReceived,
    StrayAck,
    StrayResponse,
    TransactionTerminated,
    TransactionTimeout,
    Transmit,
    TransportFailure,
)
from softswitch.sip.transaction.layer import TransactionLayer
from softswitch.sip.transaction.server import (
    INVITE_SERVER_TABLE,
    NON_INVITE_SERVER_TABLE,
    InviteServerInput,
    InviteServerState,
    InviteServerTransaction,
    NonInviteServerInput,
    NonInviteServerState,
    NonInviteServerTransaction,
    ServerTransaction,
)
from softswitch.sip.transaction.table import Action, Table, describe
from softswitch.sip.transaction.timers import TimerSettings, Timers

__all__ = [
    "AckReceived", "Action", "ClientTransaction", "Destination", "INVITE_CLIENT_TABLE",
    "INVITE_SERVER_TABLE", "InviteClientInput", "InviteClientState", "InviteClientTransaction",
    "InviteServerInput", "InviteServerState", "InviteServerTransaction",
    "NON_INVITE_CLIENT_TABLE", "NON_INVITE_SERVER_TABLE", "NonInviteClientInput",
    "NonInviteClientState", "NonInviteClientTransaction", "NonInviteServerInput",
    "NonInviteServerState", "NonInviteServerTransaction", "Observer", "Output",
    "RequestReceived", "ResponseReceived", "ServerTransaction", "StrayAck", "StrayResponse",
    "Table", "TimerSettings", "Timers", "Transaction", "TransactionLayer",
    "TransactionTerminated", "TransactionTimeout", "Transmit", "TransportFailure", "build_ack",
    "build_cancel", "describe",
]
