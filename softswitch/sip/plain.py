"""The received request in its plain, everyday shape, read in one pass (sans-IO).

Why: `parse_message` and the checks of `InboundFilter` (Via, stamping, `check_request`) are
written for every shape the grammar allows, and went through about a hundred calls per
request; they were the largest single cost of a REGISTER. Nearly every request a phone sends
is plain: CRLF line ends, a `METHOD sip:... SIP/2.0` line, no folded lines, one value per Via
and Contact line, header names already met once, no Require. `read_plain_request` reads that
shape in one function, with the same value parsers (`parse_uri`, `parse_via`,
`parse_address`, `parse_cseq`), and returns exactly the `Request` the full path returns: the
same fields, the top Via stamped the same way, the same parsed values remembered. Anything
else, including everything the full path would refuse, gives None and takes the full path,
which then says precisely what is wrong. A property test holds the two paths to this.
"""

from __future__ import annotations

from collections.abc import Collection

from softswitch.sip.builders import stamped_via
from softswitch.sip.errors import RemoteProtocolError
from softswitch.sip.headers import Headers
from softswitch.sip.message import KNOWN_METHODS, Request
from softswitch.sip.parser import cut_body, known_header_key
from softswitch.sip.uri import SipURI, parse_uri
from softswitch.sip.validate import (
    SINGLE_VALUED,
    SUPPORTED_SCHEMES,
    contact_refusal,
    loops_back,
    max_forwards_refusal,
)
from softswitch.sip.values import (
    MAGIC_COOKIE,
    Address,
    parse_address,
    parse_cseq,
    parse_name_addr,
    parse_via,
)

__all__ = ["read_plain_request"]

# Known methods as their Request-Line starts; others (and responses) take the full path,
# told apart before anything is decoded.
_METHOD_STARTS = {f"{method} ".encode(): method for method in KNOWN_METHODS}
_REQUIRED = ("from", "to", "call-id", "cseq")
# Keys whose presence the full path must judge (420 for an unknown option tag).
_FULL_PATH_KEYS = frozenset({"require", "proxy-require"})


def read_plain_request(
    data: bytes,
    host: str,
    port: int,
    local_sent_by: Collection[tuple[str, int]],
) -> Request | None:
    """The accepted, stamped request when ``data`` is plain and valid; else None."""
    method = _METHOD_STARTS.get(data[: data.find(b" ", 0, 10) + 1])
    end = data.find(b"\r\n\r\n")
    if method is None or end < 0:
        return None
    head = data[:end].decode("utf-8", "surrogateescape")
    bare = head.replace("\r\n", "")
    if "\n" in bare or "\r" in bare:
        return None  # a bare LF or CR: the full parser's line rules apply
    lines = head.split("\r\n")
    uri_text, sp, version = lines[0][len(method) + 1 :].partition(" ")
    if not sp or version != "SIP/2.0" or not uri_text:
        return None
    fields: list[tuple[str, str, str]] = []
    single: set[str] = set()
    via_values: list[str] = []
    values: dict[str, str] = {}
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if not colon or not line or line[0] in " \t":
            return None
        name = name.rstrip(" \t")
        key = known_header_key(name)
        if key is None or key in _FULL_PATH_KEYS:
            return None
        value = value.strip()
        if key in SINGLE_VALUED:
            if key in single:
                return None
            single.add(key)
        if key == "via":
            if "," in value:
                return None
            via_values.append(value)
        elif key not in values:
            values[key] = value
        fields.append((key, name, value))
    if not via_values or not all(values.get(key) for key in _REQUIRED):
        return None
    headers = Headers(fields)
    try:
        body = cut_body(headers, data[end + 4 :])
        uri = parse_uri(uri_text)
        vias = [parse_via(value) for value in via_values]
        cseq = parse_cseq(values["cseq"])
        from_ = parse_name_addr(values["from"])
        to = parse_name_addr(values["to"])
        contacts = _contacts(fields)
    except RemoteProtocolError:
        return None
    if (
        not isinstance(uri, SipURI)
        or uri.scheme not in SUPPORTED_SCHEMES
        or uri.headers
        or vias[0].branch == MAGIC_COOKIE
        or cseq.method != method
        or contacts is None
        or contact_refusal(method, contacts) is not None
        or ("max-forwards" in values
            and max_forwards_refusal(values["max-forwards"], method) is not None)
        or loops_back(vias, local_sent_by)
    ):
        return None
    top = stamped_via(vias[0], host, port)
    if top is not vias[0]:
        vias[0] = top
        headers.replace_first("via", str(top))
    headers.prime("vias", vias)
    headers.prime("cseq", cseq)
    headers.prime("from", from_)
    headers.prime("to", to)
    headers.prime("contacts", contacts)
    return Request(method, uri, headers, body)


def _contacts(fields: list[tuple[str, str, str]]) -> list[Address] | None:
    """Each Contact line's one value; None when a line holds a list or nothing (full path)."""
    contacts = []
    for key, _, value in fields:
        if key == "contact":
            if not value or "," in value:
                return None
            contacts.append(parse_address(value))
    return contacts
