"""`softswitch run`: start the switch."""


def run() -> None:
    """Start the switch (placeholder)."""
