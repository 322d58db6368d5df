"""Pieces of the booking phone line (the flow itself is ``softswitch.hospital.booking.flow``)."""

from softswitch.hospital.booking.phone.settings import PhoneSettings, phone_settings_from
from softswitch.hospital.booking.phone.speech import BookingSpeech, key_piece

__all__ = ["BookingSpeech", "PhoneSettings", "key_piece", "phone_settings_from"]
