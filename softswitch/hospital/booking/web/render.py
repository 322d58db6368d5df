"""Templates (Jinja2, autoescaped) and the one stylesheet, packaged beside this module."""

from __future__ import annotations

import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

__all__ = ["Renderer"]

_HERE = Path(__file__).parent
_HALVES = {"morning": "Morning", "afternoon": "Afternoon"}
_KINDS = {"general": "General clinic", "expert": "Expert clinic", "exam": "Examination"}


def _money(amount: Decimal | int | float | str) -> str:
    return f"¥{Decimal(str(amount)).quantize(Decimal('0.01'))}"


def _day(value: datetime.date) -> str:
    return f"{value.isoformat()} ({value.strftime('%a')})"


class Renderer:
    """Render a named template to an HTML response; serve the stylesheet."""

    def __init__(self) -> None:
        self._env = Environment(
            loader=FileSystemLoader(_HERE / "templates"),
            autoescape=select_autoescape(["html"]),
            undefined=StrictUndefined,
            trim_blocks=True, lstrip_blocks=True,
        )
        self._env.filters.update(money=_money, day=_day,
                                 half=lambda h: _HALVES.get(h, h),
                                 kind=lambda k: _KINDS.get(k, k))
        self._css = (_HERE / "static" / "booking.css").read_bytes()

    def page(self, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        html = self._env.get_template(name).render(**context)
        return HTMLResponse(html, status_code=status_code,
                            headers={"Cache-Control": "no-store",
                                     "X-Frame-Options": "DENY",
                                     "Referrer-Policy": "same-origin"})

    def stylesheet(self) -> Response:
        return Response(self._css, media_type="text/css",
                        headers={"Cache-Control": "public, max-age=300"})
