"""HTTP edge: the JSON API for staff and the HIS, health and metrics (FastAPI, served in-process)."""

from softswitch.web.app import create_app
from softswitch.web.server import HttpServer

__all__ = ["create_app", "HttpServer"]
