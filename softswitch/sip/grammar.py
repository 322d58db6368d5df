"""Low-level lexical helpers shared by the header and URI parsers (RFC 3261 section 25).

These work on `str` values that were decoded from the wire with UTF-8 + surrogateescape, so any
byte sequence round-trips.
"""

from __future__ import annotations

import re

from softswitch.sip.errors import RemoteProtocolError

__all__ = [
    "TOKEN_CHARS",
    "TOKEN_RE",
    "is_token",
    "is_digits",
    "split_outside_quotes",
    "parse_params",
    "format_params",
    "unquote",
    "quote",
]

TOKEN_CHARS = frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.!%*_+`'~"
)


TOKEN_RE = re.compile(r"[A-Za-z0-9\-.!%*_+`'~]+")


def is_digits(text: str) -> bool:
    """ASCII digits only: str.isdigit() also accepts '²' and other digits int() rejects."""
    return text.isascii() and text.isdigit()


def is_token(text: str) -> bool:
    """True when `text` is a non-empty RFC 3261 token."""
    return TOKEN_RE.fullmatch(text) is not None


# `name[=value]` parameters joined by ';' (no leading ';'), values without quotes, brackets,
# separators or blanks: the form `parse_params` can read with a plain split.
_PLAIN_PARAMS = re.compile(r"[A-Za-z0-9\-.!%*_+`'~]+(?:=[^;\"<>\s]*)?(?:;[A-Za-z0-9\-.!%*_+`'~]+(?:=[^;\"<>\s]*)?)*")

_QUOTED = r'"(?:[^"\\]|\\.)*"'
_SPLITTERS: dict[str, re.Pattern[str]] = {}


def _splitter(sep: str) -> re.Pattern[str]:
    """Scanner for `sep`: quoted strings and <...> are skipped whole; group 1 is a separator,
    group 2 an unterminated quote, group 3 an unterminated '<'."""
    pattern = _SPLITTERS.get(sep)
    if pattern is None:
        pattern = _SPLITTERS[sep] = re.compile(
            f'{_QUOTED}|<(?:[^>"]|{_QUOTED})*>|({re.escape(sep)})|(")|(<)', re.S
        )
    return pattern


def split_outside_quotes(text: str, sep: str) -> list[str]:
    """Split `text` on `sep`, ignoring separators inside quotes or angle brackets.

    Used for comma-joined header values and for `;` parameter lists. Raises on an unterminated
    quoted string, because guessing where it ends could misroute a message. After an
    unterminated '<' nothing more is split.
    """
    if '"' not in text and "<" not in text:
        return text.split(sep)
    parts: list[str] = []
    start = 0
    for match in _splitter(sep).finditer(text):
        if match.group(1) is not None:
            parts.append(text[start : match.start()])
            start = match.end()
        elif match.group(2) is not None:
            raise RemoteProtocolError("Unterminated quoted string")
        elif match.group(3) is not None:
            break
    parts.append(text[start:])
    return parts


def parse_params(text: str) -> dict[str, str | None]:
    """Parse `;name=value;flag` (leading `;` optional) into an ordered dict.

    Names are case-insensitive in SIP, so keys are lower-cased; values keep their case (quoted
    values keep their quotes so they serialize back unchanged). A parameter without `=` maps to
    None.
    """
    params: dict[str, str | None] = {}
    text = text.strip()
    if not text:
        return params
    if text[0] == ";":
        text = text[1:]
    if _PLAIN_PARAMS.fullmatch(text):
        # The everyday form (`branch=z9hG4bK..;rport`): no quotes, brackets or blanks, every
        # name a token. One match checks it all; then a plain split gives the same result.
        for part in text.split(";"):
            name, eq, value = part.partition("=")
            params[name.lower()] = value if eq else None
        return params
    return _parse_params_in_full(text)


def _parse_params_in_full(text: str) -> dict[str, str | None]:
    """`parse_params` for any form (quoted values, blanks), of stripped text without its
    leading ';'."""
    params: dict[str, str | None] = {}
    for part in split_outside_quotes(text, ";"):
        part = part.strip()
        if not part:
            raise RemoteProtocolError("Empty parameter")
        name, eq, value = part.partition("=")
        name = name.strip()
        if not is_token(name):
            raise RemoteProtocolError(f"Invalid parameter name {name!r}")
        params[name.lower()] = value.strip() if eq else None
    return params


def format_params(params: dict[str, str | None]) -> str:
    """Serialize parameters as `;name=value;flag`."""
    return "".join(f";{k}" if v is None else f";{k}={v}" for k, v in params.items())


def unquote(text: str) -> str:
    """Remove surrounding quotes and resolve backslash escapes; plain tokens pass through."""
    text = text.strip()
    if len(text) >= 2 and text[0] == '"' and text[-1] == '"':
        inner = text[1:-1]
        if "\\" not in inner:
            return inner
        out: list[str] = []
        i = 0
        while i < len(inner):
            ch = inner[i]
            if ch == "\\" and i + 1 < len(inner):
                i += 1
                ch = inner[i]
            out.append(ch)
            i += 1
        return "".join(out)
    return text


def quote(text: str) -> str:
    """Quote a string for a quoted-string production, escaping `"` and `\\`."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
