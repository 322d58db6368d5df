"""Templates (Jinja2, autoescaped) and the one stylesheet, packaged beside this module."""

from __future__ import annotations

import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_context, select_autoescape
from jinja2.runtime import Context

from softswitch.hospital.booking.web.i18n import day_label

__all__ = ["Renderer"]

_HERE = Path(__file__).parent
_HALVES = {"morning": "Morning", "afternoon": "Afternoon"}
_KINDS = {"general": "General clinic", "expert": "Expert clinic", "exam": "Examination"}


def _money(amount: Decimal | int | float | str) -> str:
    return f"¥{Decimal(str(amount)).quantize(Decimal('0.01'))}"


@pass_context
def _day(context: Context, value: datetime.date) -> str:
    return day_label(context.get("lang", "en"), value)


@pass_context
def _half(context: Context, half: str) -> str:
    return context["_"](_HALVES.get(half, half))


@pass_context
def _kind(context: Context, kind: str) -> str:
    return context["_"](_KINDS.get(kind, kind))


class Renderer:
    """Render a named template to an HTML response; serve the stylesheet."""

    def __init__(self) -> None:
        self._env = Environment(
            loader=FileSystemLoader(_HERE / "templates"),
            autoescape=select_autoescape(["html"]),
            undefined=StrictUndefined,
            trim_blocks=True, lstrip_blocks=True,
        )
        self._env.filters.update(money=_money, day=_day, half=_half, kind=_kind)
        self._css = (_HERE / "static" / "booking.css").read_bytes()

    def page(self, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        """`context` must hold `lang` and its translator `_` (PageContext.page adds them)."""
        html = self._env.get_template(name).render(**context)
        return HTMLResponse(html, status_code=status_code,
                            headers={"Cache-Control": "no-store",
                                     "X-Frame-Options": "DENY",
                                     "Referrer-Policy": "same-origin"})

    def stylesheet(self) -> Response:
        return Response(self._css, media_type="text/css",
                        headers={"Cache-Control": "public, max-age=300"})
