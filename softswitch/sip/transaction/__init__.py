"""SIP transactions (RFC 3261 section 17, RFC 6026), sans-IO.

`TransactionLayer` owns the transactions: feed it parsed messages with the current time, send
the `Transmit` outputs, give the other outputs to the core, and call `handle_timers(now)` at
`next_deadline()`. Each of the four machines is an enum of states plus a total transition table
(`{(state, input): (next_state, action)}`); `describe(table)` renders one as text.

State machines
--------------
Generated from the tables by `describe` (a test keeps this text in step with them). Each block
is a state; `--INPUT/action--> STATE` is a transition; inputs a state absorbs (the RFC's
"ignore": retransmissions, stale timers) and TU calls it refuses with TransactionError are
listed after the arrows. Timers C and L/M, Accepted and the 100 Trying timer come from RFC 3261
16.6/17.2.1 and RFC 6026; see `client.py` and `server.py` for why.

::

    InviteClientTransaction
    CALLING
      --PROVISIONAL/proceed--> PROCEEDING
      --SUCCESS/accept--> ACCEPTED
      --FAILURE/complete--> COMPLETED
      --CANCEL/defer_cancel--> CALLING
      --TIMER_A/retransmit--> CALLING
      --TIMER_B/timeout--> TERMINATED
      --TRANSPORT_ERROR/fail--> TERMINATED
      ignores: TIMER_C, TIMER_D, TIMER_M
    PROCEEDING
      --PROVISIONAL/pass_up--> PROCEEDING
      --SUCCESS/accept--> ACCEPTED
      --FAILURE/complete--> COMPLETED
      --CANCEL/guard_cancel--> PROCEEDING
      --TIMER_C/timeout--> TERMINATED
      --TRANSPORT_ERROR/fail--> TERMINATED
      ignores: TIMER_A, TIMER_B, TIMER_D, TIMER_M
    COMPLETED
      --FAILURE/resend--> COMPLETED
      --TIMER_D/terminate--> TERMINATED
      --TRANSPORT_ERROR/fail--> TERMINATED
      ignores: PROVISIONAL, SUCCESS, CANCEL, TIMER_A, TIMER_B, TIMER_C, TIMER_M
    ACCEPTED
      --SUCCESS/pass_up--> ACCEPTED
      --TIMER_M/terminate--> TERMINATED
      --TRANSPORT_ERROR/fail--> TERMINATED
      ignores: PROVISIONAL, FAILURE, CANCEL, TIMER_A, TIMER_B, TIMER_C, TIMER_D
    TERMINATED
      ignores: PROVISIONAL, SUCCESS, FAILURE, CANCEL, TIMER_A, TIMER_B, TIMER_C, TIMER_D, TIMER_M, TRANSPORT_ERROR

    NonInviteClientTransaction
    TRYING
      --PROVISIONAL/pass_up--> PROCEEDING
      --FINAL/complete--> COMPLETED
      --TIMER_E/retransmit--> TRYING
      --TIMER_F/timeout--> TERMINATED
      --TRANSPORT_ERROR/fail--> TERMINATED
      ignores: TIMER_K
    PROCEEDING
      --PROVISIONAL/pass_up--> PROCEEDING
      --FINAL/complete--> COMPLETED
      --TIMER_E/retransmit--> PROCEEDING
      --TIMER_F/timeout--> TERMINATED
      --TRANSPORT_ERROR/fail--> TERMINATED
      ignores: TIMER_K
    COMPLETED
      --TIMER_K/terminate--> TERMINATED
      --TRANSPORT_ERROR/fail--> TERMINATED
      ignores: PROVISIONAL, FINAL, TIMER_E, TIMER_F
    TERMINATED
      ignores: PROVISIONAL, FINAL, TIMER_E, TIMER_F, TIMER_K, TRANSPORT_ERROR

    InviteServerTransaction
    PROCEEDING
      --REQUEST/resend--> PROCEEDING
      --SEND_PROVISIONAL/send--> PROCEEDING
      --SEND_SUCCESS/accept--> ACCEPTED
      --SEND_FAILURE/complete--> COMPLETED
      --TIMER_TRYING/send_trying--> PROCEEDING
      --TRANSPORT_ERROR/fail--> TERMINATED
      ignores: ACK, TIMER_G, TIMER_H, TIMER_I, TIMER_L
    COMPLETED
      --REQUEST/resend--> COMPLETED
      --ACK/confirm--> CONFIRMED
      --TIMER_G/retransmit--> COMPLETED
      --TIMER_H/timeout--> TERMINATED
      --TRANSPORT_ERROR/fail--> TERMINATED
      ignores: TIMER_TRYING, TIMER_I, TIMER_L
      rejects: SEND_PROVISIONAL, SEND_SUCCESS, SEND_FAILURE
    CONFIRMED
      --TIMER_I/terminate--> TERMINATED
      --TRANSPORT_ERROR/fail--> TERMINATED
      ignores: REQUEST, ACK, TIMER_TRYING, TIMER_G, TIMER_H, TIMER_L
      rejects: SEND_PROVISIONAL, SEND_SUCCESS, SEND_FAILURE
    ACCEPTED
      --ACK/pass_ack--> ACCEPTED
      --SEND_SUCCESS/send--> ACCEPTED
      --TIMER_L/terminate--> TERMINATED
      --TRANSPORT_ERROR/fail--> TERMINATED
      ignores: REQUEST, TIMER_TRYING, TIMER_G, TIMER_H, TIMER_I
      rejects: SEND_PROVISIONAL, SEND_FAILURE
    TERMINATED
      ignores: REQUEST, ACK, TIMER_TRYING, TIMER_G, TIMER_H, TIMER_I, TIMER_L, TRANSPORT_ERROR
      rejects: SEND_PROVISIONAL, SEND_SUCCESS, SEND_FAILURE

    NonInviteServerTransaction
    TRYING
      --SEND_PROVISIONAL/send--> PROCEEDING
      --SEND_FINAL/complete--> COMPLETED
      --TRANSPORT_ERROR/fail--> TERMINATED
      ignores: REQUEST, TIMER_J
    PROCEEDING
      --REQUEST/resend--> PROCEEDING
      --SEND_PROVISIONAL/send--> PROCEEDING
      --SEND_FINAL/complete--> COMPLETED
      --TRANSPORT_ERROR/fail--> TERMINATED
      ignores: TIMER_J
    COMPLETED
      --REQUEST/resend--> COMPLETED
      --TIMER_J/terminate--> TERMINATED
      --TRANSPORT_ERROR/fail--> TERMINATED
      rejects: SEND_PROVISIONAL, SEND_FINAL
    TERMINATED
      ignores: REQUEST, TIMER_J, TRANSPORT_ERROR
      rejects: SEND_PROVISIONAL, SEND_FINAL
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
from softswitch.sip.transaction.timers import Timers, TimerSettings

__all__ = [
    "INVITE_CLIENT_TABLE",
    "INVITE_SERVER_TABLE",
    "NON_INVITE_CLIENT_TABLE",
    "NON_INVITE_SERVER_TABLE",
    "AckReceived",
    "Action",
    "ClientTransaction",
    "Destination",
    "InviteClientInput",
    "InviteClientState",
    "InviteClientTransaction",
    "InviteServerInput",
    "InviteServerState",
    "InviteServerTransaction",
    "NonInviteClientInput",
    "NonInviteClientState",
    "NonInviteClientTransaction",
    "NonInviteServerInput",
    "NonInviteServerState",
    "NonInviteServerTransaction",
    "Observer",
    "Output",
    "RequestReceived",
    "ResponseReceived",
    "ServerTransaction",
    "StrayAck",
    "StrayResponse",
    "Table",
    "TimerSettings",
    "Timers",
    "Transaction",
    "TransactionLayer",
    "TransactionTerminated",
    "TransactionTimeout",
    "Transmit",
    "TransportFailure",
    "build_ack",
    "build_cancel",
    "describe",
]
