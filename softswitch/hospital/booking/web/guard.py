"""The last line of defence: a failure nobody foresaw (the disk full, a bug) shows a polite
page with 503 and is logged with its traceback, never shown to a patient."""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.routing import APIRoute

__all__ = ["GuardedRoute"]

log = logging.getLogger(__name__)

_SORRY = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Please try again</title><link rel="stylesheet" href="/static/booking.css"></head>
<body><main><p class="message error" role="alert">The booking service cannot answer right now.
Nothing was charged twice: please try again in a minute, or ask at the registration desk.</p>
<p><a href="{home}">Start again</a></p></main></body></html>"""


class GuardedRoute(APIRoute):
    """An APIRoute whose handler turns any unexpected exception into the sorry page."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        home = "/" + self.path.strip("/").split("/")[0]

        async def guarded(request: Request) -> Response:
            try:
                return await handler(request)
            except HTTPException:
                raise
            except Exception:
                log.exception("booking page %s %s failed", request.method, request.url.path)
                return HTMLResponse(_SORRY.format(home=home), status_code=503,
                                    headers={"Cache-Control": "no-store"})

        return guarded
