"""The FastAPI application: /health and /metrics are open, everything under /api needs the token.

Routers of later features (users, registrations, calls, hospital modules) are included by
`create_app` from the switch's `api_routers`, so this module does not grow with each feature.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response

from softswitch.metrics import SwitchMetrics
from softswitch.web.auth import require_token

__all__ = ["create_app"]


def create_app(
    *,
    admin_token: str,
    metrics: SwitchMetrics,
    status: Callable[[], dict[str, Any]],
    routers: Iterable[APIRouter] = (),
    pages: Iterable[APIRouter] = (),
) -> FastAPI:
    """Build the app. `status()` is the switch's summary, served by /health and /api/status.

    `pages` are web pages (patient, kiosk, staff) mounted at the root, outside /api and its
    token: they authenticate their users themselves."""
    app = FastAPI(title="softswitch", version="0.1.0", docs_url="/api/docs", redoc_url=None,
                  openapi_url="/api/openapi.json")
    app.state.admin_token = admin_token

    @app.exception_handler(RequestValidationError)
    async def _bad_input(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"field": ".".join(str(p) for p in err.get("loc", ())), "error": err.get("msg", "")}
            for err in exc.errors()
        ]
        return JSONResponse({"detail": "invalid request", "errors": errors}, status_code=422)

    @app.get("/health")
    async def health() -> dict[str, Any]:
        return {"status": "ok", **status()}

    @app.get("/metrics")
    async def prometheus() -> Response:
        return Response(metrics.render(), media_type="text/plain; version=0.0.4")

    api = APIRouter(prefix="/api", dependencies=[Depends(require_token)])

    @api.get("/status")
    async def api_status() -> dict[str, Any]:
        return status()

    for router in routers:
        api.include_router(router)
    app.include_router(api)
    for page_router in pages:
        app.include_router(page_router)
    return app
