"""HTTP API routers of the registrar area, built over the switch's open database.

Each factory takes what its routes need (no globals), so tests can mount them on their own
app; `create_app(routers=[...])` puts them under /api behind the admin token.
"""

from softswitch.web.routes.registrations import registrations_router
from softswitch.web.routes.security_events import security_events_router
from softswitch.web.routes.users import users_router

__all__ = ["registrations_router", "security_events_router", "users_router"]
