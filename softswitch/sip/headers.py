"""Header names (compact forms, canonical spelling) and the ordered `Headers` container.

Headers keep the order and spelling they arrived with, so a message we do not understand still
round-trips. Lookups are case-insensitive and accept compact forms (`i` is Call-ID). Values of
the headers that RFC 3261 defines as comma-separated lists are split on demand by `get_list`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from softswitch.sip.grammar import split_outside_quotes

__all__ = ["Headers", "canonical_key", "display_name", "COMPACT_FORMS", "LIST_HEADERS"]

# RFC 3261 section 7.3.3 plus the compact forms of later extensions (3265, 3515, 3841, 4028, ...).
COMPACT_FORMS: dict[str, str] = {
    "i": "call-id",
    "m": "contact",
    "e": "content-encoding",
    "l": "content-length",
    "c": "content-type",
    "f": "from",
    "s": "subject",
    "k": "supported",
    "t": "to",
    "v": "via",
    "o": "event",
    "r": "refer-to",
    "b": "referred-by",
    "u": "allow-events",
    "x": "session-expires",
    "a": "accept-contact",
    "j": "reject-contact",
    "d": "request-disposition",
    "y": "identity",
}

_SPECIAL_SPELLING = {
    "call-id": "Call-ID",
    "cseq": "CSeq",
    "www-authenticate": "WWW-Authenticate",
    "mime-version": "MIME-Version",
    "rseq": "RSeq",
    "rack": "RAck",
    "sip-etag": "SIP-ETag",
    "sip-if-match": "SIP-If-Match",
}

# Headers whose grammar is a comma-separated list (RFC 3261 section 7.3.1). Authorization-style
# headers and Date contain commas but are not lists.
LIST_HEADERS = frozenset(
    {
        "via", "contact", "route", "record-route", "allow", "supported", "require",
        "proxy-require", "unsupported", "accept", "accept-encoding", "accept-language",
        "allow-events", "content-encoding", "content-language", "in-reply-to", "path",
        "service-route", "p-associated-uri", "alert-info", "call-info", "error-info",
        "reason", "security-client", "security-server", "security-verify",
    }
)

_CANONICAL_CACHE: dict[str, str] = {}

T = TypeVar("T")


def canonical_key(name: str) -> str:
    """Lower-case lookup key of a header name, resolving compact forms."""
    key = _CANONICAL_CACHE.get(name)
    if key is None:
        lowered = name.lower()
        key = COMPACT_FORMS.get(lowered, lowered)
        if len(_CANONICAL_CACHE) < 4096:
            _CANONICAL_CACHE[name] = key
    return key


def display_name(key: str) -> str:
    """Conventional spelling of a header key, for headers we add ourselves."""
    special = _SPECIAL_SPELLING.get(key)
    if special:
        return special
    return "-".join(part[:1].upper() + part[1:] for part in key.split("-"))


class Headers:
    """An ordered multi-map of header fields: a list of (key, name as written, value)."""

    __slots__ = ("_fields", "_memo")

    def __init__(self, fields: list[tuple[str, str, str]] | None = None) -> None:
        self._fields: list[tuple[str, str, str]] = fields if fields is not None else []
        self._memo: dict[str, Any] | None = None

    def memo(self, slot: str, compute: Callable[[], T]) -> T:
        """Cache a value derived from the headers (a parsed Via list...) until they change.

        A message is parsed once but its Via, CSeq and From are read by several layers; the
        cache makes the second read free. Every mutating method clears it.
        """
        memo = self._memo
        if memo is None:
            memo = self._memo = {}
        elif slot in memo:
            return memo[slot]  # type: ignore[no-any-return]
        value = memo[slot] = compute()
        return value

    def prime(self, slot: str, value: object) -> None:
        """Seed the cache after a mutation whose parsed result the caller already knows."""
        if self._memo is None:
            self._memo = {}
        self._memo[slot] = value

    @classmethod
    def from_pairs(cls, pairs: list[tuple[str, str]]) -> Headers:
        return cls([(canonical_key(n), n, v) for n, v in pairs])

    def __iter__(self) -> Iterator[tuple[str, str]]:
        for _, name, value in self._fields:
            yield name, value

    def __len__(self) -> int:
        return len(self._fields)

    def __contains__(self, name: str) -> bool:
        key = canonical_key(name)
        return any(k == key for k, _, _ in self._fields)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Headers):
            return NotImplemented
        return [(k, v) for k, _, v in self._fields] == [(k, v) for k, _, v in other._fields]

    def __repr__(self) -> str:
        return f"Headers({list(self)!r})"

    def copy(self) -> Headers:
        return Headers(list(self._fields))

    def get(self, name: str, default: str | None = None) -> str | None:
        """First value of the header, or `default`."""
        key = canonical_key(name)
        for k, _, v in self._fields:
            if k == key:
                return v
        return default

    def get_all(self, name: str) -> list[str]:
        """Every field value of the header as written (no comma splitting)."""
        key = canonical_key(name)
        return [v for k, _, v in self._fields if k == key]

    def get_list(self, name: str) -> list[str]:
        """Every element of a list header, split on commas outside quotes and <>."""
        key = canonical_key(name)
        out: list[str] = []
        for k, _, v in self._fields:
            if k == key:
                if key in LIST_HEADERS and "," in v:
                    out.extend(p.strip() for p in split_outside_quotes(v, ",") if p.strip())
                elif v.strip():
                    out.append(v.strip())
        return out

    def add(self, name: str, value: str) -> None:
        """Append a field at the end."""
        self._memo = None
        key = canonical_key(name)
        self._fields.append((key, display_name(key) if name == key else name, value))

    def prepend(self, name: str, value: str) -> None:
        """Insert a field before the first field of the same header (e.g. a new top Via)."""
        self._memo = None
        key = canonical_key(name)
        spelled = display_name(key) if name == key else name
        for i, (k, _, _) in enumerate(self._fields):
            if k == key:
                self._fields.insert(i, (key, spelled, value))
                return
        self._fields.insert(0, (key, spelled, value))

    def set(self, name: str, value: str) -> None:
        """Replace every field of the header with one value, kept at the first one's place."""
        self._memo = None
        key = canonical_key(name)
        for i, (k, n, _) in enumerate(self._fields):
            if k == key:
                self._fields[i] = (key, n, value)
                self._fields[i + 1 :] = [f for f in self._fields[i + 1 :] if f[0] != key]
                return
        self.add(name, value)

    def remove(self, name: str) -> None:
        self._memo = None
        key = canonical_key(name)
        self._fields = [f for f in self._fields if f[0] != key]

    def pop_first(self, name: str) -> str | None:
        """Remove the first element of a list header (e.g. the top Via) and return it."""
        self._memo = None
        key = canonical_key(name)
        for i, (k, n, v) in enumerate(self._fields):
            if k == key:
                parts = split_outside_quotes(v, ",") if key in LIST_HEADERS else [v]
                if len(parts) > 1:
                    self._fields[i] = (k, n, ",".join(parts[1:]).strip())
                else:
                    del self._fields[i]
                return parts[0].strip()
        return None

    def replace_first(self, name: str, value: str) -> None:
        """`pop_first` then `prepend` of ``value``, in one pass when the first field holds one
        element (the top Via, restamped on every received request)."""
        key = canonical_key(name)
        for i, (k, _, v) in enumerate(self._fields):
            if k == key:
                if key in LIST_HEADERS and "," in v:
                    break
                self._memo = None
                self._fields[i] = (key, display_name(key) if name == key else name, value)
                return
        self.pop_first(name)
        self.prepend(name, value)

    def fields(self) -> list[tuple[str, str, str]]:
        """(key, name, value) triples, for serializers."""
        return self._fields
