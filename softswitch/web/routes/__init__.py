"""HTTP API routers (users, registrations, security events, calls and CDRs).

Each factory takes what its routes need (no globals), so tests can mount them on their own
app; `create_app(routers=[...])` puts them under /api behind the admin token.
"""

from softswitch.web.routes.calls import calls_router, cdr_router
from softswitch.web.routes.registrations import registrations_router
from softswitch.web.routes.security_events import security_events_router
from softswitch.web.routes.users import users_router

__all__ = [
    "calls_router", "cdr_router", "registrations_router", "security_events_router", "users_router",
]
