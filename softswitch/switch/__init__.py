"""The switching core: everything between the SIP transaction layer and the features.

Modules are imported directly (``from softswitch.switch.core import SipCore``) so that a CLI
command that needs only the directory does not load the media engine:

- ``core``: asyncio adapter of the transaction layer; dispatch of requests by method.
- ``registrar``, ``registration``: REGISTER (RFC 3261 10.3) with durable bindings.
- ``auth``, ``directory``, ``readcache``, ``abuse``, ``security_log``: who may do what, digest
  authentication, brute-force blocking and the security event log.
- ``location``, ``qualify``: where to reach a phone, and keeping that knowledge fresh.
- ``dialplan``: numbers to routes, class of service.
- ``b2bua``, ``legs``, ``call``: calls between extensions, with media anchored in ``media``.
"""

__all__ = [
    "abuse", "auth", "b2bua", "call", "core", "dialplan", "directory", "legs", "location",
    "qualify", "readcache", "registrar", "registration", "security_log",
]
