"""Booking web pages: patient booking (/book), kiosk ticket printing (/kiosk) and the staff
roster (/staff/roster), server-rendered with Jinja2 and working without JavaScript."""

from softswitch.hospital.booking.web.pages import booking_pages

__all__ = ["booking_pages"]
