"""Reading form and query values: every malformed value becomes a `FormError` whose message is
shown on the page (never a 422 JSON body or a traceback)."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation

from fastapi import Request

__all__ = ["FormError", "choice", "digits", "integer", "iso_date", "money", "read_form", "text"]

_MAX_FORM_BYTES = 16_384


class FormError(ValueError):
    """A form or query value the page cannot use; the message names the field."""


async def read_form(request: Request) -> dict[str, str]:
    """The posted fields as plain strings (the last value of a repeated field wins).

    Only small url-encoded forms are accepted: these pages post nothing else."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/x-www-form-urlencoded":
        raise FormError("the form was not sent as a web form; please use the page's buttons")
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > _MAX_FORM_BYTES:
        raise FormError("the form is too large")
    try:
        form = await request.form(max_files=0, max_fields=50)
    except Exception as error:  # any parser failure is the sender's bad input
        raise FormError(f"the form could not be read ({type(error).__name__})") from None
    return {key: value for key, value in form.items() if isinstance(value, str)}


def text(values: Mapping[str, str], name: str, label: str, *, max_len: int = 100,
         required: bool = True) -> str:
    value = values.get(name, "").strip()
    if not value:
        if required:
            raise FormError(f"{label} is missing")
        return ""
    if len(value) > max_len:
        raise FormError(f"{label} is too long (at most {max_len} characters)")
    if any(ord(c) < 32 for c in value):
        raise FormError(f"{label} contains control characters")
    return value


def digits(values: Mapping[str, str], name: str, label: str, *, max_len: int = 32) -> str:
    """A keypad value (card number, PIN): digits only, as on the phone."""
    value = text(values, name, label, max_len=max_len)
    if not (value.isascii() and value.isdigit()):
        raise FormError(f"{label} must contain digits only")
    return value


def choice(values: Mapping[str, str], name: str, label: str, options: tuple[str, ...]) -> str:
    value = text(values, name, label)
    if value not in options:
        raise FormError(f"{label} must be one of: {', '.join(options)}")
    return value


def integer(values: Mapping[str, str], name: str, label: str, *, low: int, high: int) -> int:
    value = text(values, name, label, max_len=12)
    if not (value.isascii() and value.lstrip("-").isdigit()):
        raise FormError(f"{label} must be a whole number")
    number = int(value)
    if not low <= number <= high:
        raise FormError(f"{label} must be between {low} and {high}")
    return number


def money(values: Mapping[str, str], name: str, label: str, *,
          high: Decimal = Decimal("100000")) -> Decimal:
    """An amount in yuan with at most two decimal places."""
    value = text(values, name, label, max_len=16)
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise FormError(f"{label} must be an amount such as 50 or 12.50") from None
    if not amount.is_finite() or amount < 0 or amount >= high:
        raise FormError(f"{label} must be between 0 and {high}")
    if amount != amount.quantize(Decimal("0.01")):
        raise FormError(f"{label} has more than two decimal places")
    return amount.quantize(Decimal("0.01"))


def iso_date(values: Mapping[str, str], name: str, label: str) -> datetime.date:
    value = text(values, name, label, max_len=10)
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise FormError(f"{label} must be a date such as 2026-03-01") from None
