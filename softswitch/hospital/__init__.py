"""Hospital modules: call flows, scheduled jobs and web routes built on the switch.

Each module is a subpackage (``booking`` first); this package itself exports nothing.
"""

__all__: list[str] = []
