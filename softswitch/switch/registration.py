"""The rules of RFC 3261 section 10.3 for one REGISTER, as pure functions (sans-IO).

Given the request, the authenticated extension, the AOR's current bindings, where the request
came from and ``now``, :func:`plan_registration` says what to store and what the 200 OK lists,
or raises :class:`RegistrationError` carrying the reply (400, 403, 423, 500). The registrar
applies the plan to the store; tests drive these functions with a fake clock.

Extensions to section 10.3 kept here: Path (RFC 3327) is stored per binding and echoed;
+sip.instance and reg-id (RFC 5626, RFC 5627) identify a binding across Contact changes.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from email.utils import formatdate
from functools import lru_cache

from softswitch.sip.destination import Destination
from softswitch.sip.errors import RemoteProtocolError
from softswitch.sip.grammar import is_digits, unquote
from softswitch.sip.message import Request
from softswitch.sip.uri import SipURI
from softswitch.sip.values import Address
from softswitch.store.records import Binding, binding_key

__all__ = [
    "MAX_EXPIRES_VALUE",
    "ContactUpdate",
    "RegistrationError",
    "RegistrationPlan",
    "RegistrationPolicy",
    "authorised_aor",
    "normalise_contact",
    "ok_headers",
    "parse_contacts",
    "plan_registration",
]

MAX_EXPIRES_VALUE = 2**32 - 1


class RegistrationError(Exception):
    """The REGISTER is refused; ``status``, ``reason`` and ``headers`` are the reply."""

    def __init__(
        self, status: int, reason: str | None = None, headers: tuple[tuple[str, str], ...] = ()
    ) -> None:
        super().__init__(f"{status} {reason or ''}".strip())
        self.status = status
        self.reason = reason
        self.headers = headers


@dataclass(frozen=True, slots=True)
class RegistrationPolicy:
    """Expiry limits (seconds) and how many contacts one extension may register."""

    min_expires: int = 60
    default_expires: int = 3600
    max_expires: int = 7200
    max_contacts: int = 10

    def __post_init__(self) -> None:
        if not 0 < self.min_expires <= self.default_expires <= self.max_expires:
            raise ValueError("need 0 < min_expires <= default_expires <= max_expires")
        if self.max_contacts < 1:
            raise ValueError("max_contacts must be positive")


@dataclass(frozen=True, slots=True)
class ContactUpdate:
    """One Contact of the REGISTER: the normalised URI and what it asks for."""

    contact: str
    expires: int
    q: float | None = None
    instance_id: str | None = None
    reg_id: int | None = None

    @property
    def key(self) -> str:
        return binding_key(self.contact, self.instance_id, self.reg_id)


@dataclass(frozen=True, slots=True)
class RegistrationPlan:
    """What to write (``upserts``, ``removals``) and the AOR's bindings afterwards."""

    aor: str
    upserts: tuple[Binding, ...]
    removals: tuple[str, ...]
    bindings: tuple[Binding, ...]

    @property
    def changes(self) -> bool:
        return bool(self.upserts or self.removals)


def authorised_aor(request: Request, extension: str) -> str:
    """The AOR the REGISTER is for, which must be the authenticated user's (else 403).

    RFC 3261 10.3 step 4: a user may only register their own address of record here.
    """
    uri = request.to.uri
    if not isinstance(uri, SipURI) or uri.user is None:
        raise RegistrationError(403, "Not Your Address")
    if uri.user.split(";", 1)[0] != extension:
        raise RegistrationError(403, "Not Your Address")
    return extension


def _expires_header(request: Request) -> int | None:
    value = request.headers.get("expires")
    if value is None:
        return None
    value = value.strip()
    return min(int(value), MAX_EXPIRES_VALUE) if is_digits(value) else None


def _expiry(requested: int | None, policy: RegistrationPolicy) -> int:
    """RFC 3261 10.3 step 7: 423 below the minimum, shortened above the maximum."""
    expires = policy.default_expires if requested is None else requested
    if 0 < expires < policy.min_expires:
        raise RegistrationError(423, headers=(("Min-Expires", str(policy.min_expires)),))
    return min(expires, policy.max_expires)


def _q_value(value: str | None) -> float | None:
    """qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )  (RFC 3261 section 25.1)."""
    if value is None:
        return None
    whole, dot, fraction = value.partition(".")
    if whole not in ("0", "1") or len(fraction) > 3 or (fraction and not is_digits(fraction)):
        raise RegistrationError(400, "Bad q-value")
    q = float(value if not dot or fraction else whole)
    if q > 1.0:
        raise RegistrationError(400, "Bad q-value")
    return q


def normalise_contact(address: Address) -> str:
    """The Contact URI as a binding stores it: host lower-cased, the rest as the phone sent it."""
    uri = address.uri
    if isinstance(uri, SipURI) and uri.host != uri.host.lower():
        return str(replace(uri, host=uri.host.lower()))  # the copy only when it changes
    return str(uri)


def _contact_update(address: Address, header_expires: int | None,
                    policy: RegistrationPolicy) -> ContactUpdate:
    params = address.params
    raw_expires = params.get("expires")
    requested = header_expires
    if raw_expires is not None and is_digits(raw_expires.strip()):
        requested = min(int(raw_expires.strip()), MAX_EXPIRES_VALUE)
    instance = params.get("+sip.instance")
    instance_id = unquote(instance) if instance else None
    reg_id: int | None = None
    raw_reg_id = params.get("reg-id")
    if raw_reg_id is not None and instance_id:
        if not is_digits(raw_reg_id) or not 0 < int(raw_reg_id) < 2**31:
            raise RegistrationError(400, "Bad reg-id")
        reg_id = int(raw_reg_id)
    return ContactUpdate(
        contact=normalise_contact(address),
        expires=_expiry(requested, policy),
        q=_q_value(params.get("q")),
        instance_id=instance_id or None,
        reg_id=reg_id,
    )


def parse_contacts(request: Request, policy: RegistrationPolicy) -> list[ContactUpdate] | None:
    """The Contact updates of a REGISTER; None for ``Contact: *`` (remove all).

    An empty list is a query: the 200 OK just lists the current bindings (RFC 3261 10.2.3).
    ``*`` is valid only alone and with ``Expires: 0`` (RFC 3261 10.2.2), else 400.
    """
    try:
        contacts = request.contacts
    except RemoteProtocolError:
        raise RegistrationError(400, "Malformed Contact") from None
    if any(address.wildcard for address in contacts):
        if len(contacts) != 1 or _expires_header(request) != 0 or contacts[0].params:
            raise RegistrationError(400, "Wildcard Contact Needs Expires 0")
        return None
    header_expires = _expires_header(request)
    return [_contact_update(address, header_expires, policy) for address in contacts]


def _out_of_order(binding: Binding, call_id: str, cseq: int) -> bool:
    """RFC 3261 10.3 step 7: same Call-ID with a CSeq not higher than stored."""
    return binding.call_id == call_id and cseq <= binding.cseq


def plan_registration(
    request: Request,
    aor: str,
    updates: list[ContactUpdate] | None,
    existing: list[Binding],
    source: Destination,
    policy: RegistrationPolicy,
    now: float,
) -> RegistrationPlan:
    """Apply the REGISTER to the AOR's live ``existing`` bindings (steps 6 to 8 of 10.3).

    An out-of-order request aborts the whole update with 500: nothing of it is applied.
    """
    call_id = request.call_id
    cseq = request.cseq.number
    live = {binding.key: binding for binding in existing if binding.expires_at > now}
    if updates is None:
        if any(_out_of_order(binding, call_id, cseq) for binding in live.values()):
            raise RegistrationError(500, "Out Of Order Request")
        return RegistrationPlan(aor, (), tuple(live), ())
    upserts: dict[str, Binding] = {}
    removals: list[str] = []
    path = tuple(request.headers.get_list("path"))
    user_agent = (request.headers.get("user-agent") or "")[:200]
    for update in updates:
        key = update.key
        current = live.get(key)
        if current is not None and _out_of_order(current, call_id, cseq):
            raise RegistrationError(500, "Out Of Order Request")
        if update.expires == 0:
            upserts.pop(key, None)
            if current is not None and key not in removals:
                removals.append(key)
            continue
        if key in removals:
            removals.remove(key)
        upserts[key] = Binding(
            aor=aor, contact=update.contact, expires_at=now + update.expires, call_id=call_id,
            cseq=cseq, source_host=source.host, source_port=source.port,
            transport=source.transport, q=update.q,
            connection_id=str(source.connection_id) if source.connection_id is not None else None,
            user_agent=user_agent, path=path, instance_id=update.instance_id,
            reg_id=update.reg_id, last_seen=now, reachable=True,
        )
    after = {key: b for key, b in live.items() if key not in removals}
    after.update(upserts)
    if len(after) > policy.max_contacts and upserts:
        raise RegistrationError(403, "Too Many Contacts")
    ordered = sorted(after.values(), key=lambda b: (-(b.q if b.q is not None else 1.0), -b.last_seen))
    return RegistrationPlan(aor, tuple(upserts.values()), tuple(removals), tuple(ordered))


@lru_cache(maxsize=4)
def _http_date(second: int) -> str:
    """The Date of a 200 OK, formatted once per second rather than once per REGISTER."""
    return formatdate(second, usegmt=True)


def ok_headers(plan: RegistrationPlan, request: Request, now: float) -> list[tuple[str, str]]:
    """Headers of the 200 OK: every current binding with its expires, Date, Path, outbound.

    RFC 3261 10.3 step 8 lists all bindings; RFC 3327 section 5.3 echoes Path when the UA
    supports it; RFC 5626 section 6 confirms outbound with ``Require: outbound``.
    """
    headers: list[tuple[str, str]] = []
    for binding in plan.bindings:
        params = f";expires={max(0, round(binding.expires_at - now))}"
        if binding.q is not None:
            params += f";q={binding.q:g}"
        if binding.instance_id is not None:
            params += f';+sip.instance="{binding.instance_id}"'
            if binding.reg_id is not None:
                params += f";reg-id={binding.reg_id}"
        headers.append(("Contact", f"<{binding.contact}>{params}"))
    headers.append(("Date", _http_date(int(now))))
    supported = {token.lower() for token in request.headers.get_list("supported")}
    path = request.headers.get_list("path")
    if path and "path" in supported:
        headers.extend(("Path", hop) for hop in path)
    if "outbound" in supported and any(b.reg_id is not None for b in plan.upserts):
        headers.append(("Require", "outbound"))
    return headers
