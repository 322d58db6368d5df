"""What the switch itself says on a call: why a call is refused, and that its time is up.

A refused call hears its reason as early media (183 with SDP, RFC 3960's model: the caller's
phone plays what arrives before the final response), then gets the final 403/404; the dial
plan names the prompt (`Refused.prompt`). A call that reaches its class of service's maximum
duration hears `call_time_limit` on both sides before the BYE.

The switching core does not import the flows package (it sits above): the app hands in a
`PromptFinder` that turns a prompt name into a file, or None when there is none (the call is
then refused or ended at once, as before announcements existed).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from media import Bridge, MediaEngine
from media import Leg as MediaLeg

__all__ = ["LIMIT_PROMPT", "MAX_ANNOUNCEMENT", "PromptFinder", "announce"]

PromptFinder = Callable[[str], Path | None]
LIMIT_PROMPT = "call_time_limit"
MAX_ANNOUNCEMENT = 15.0  # seconds: a prompt longer than this is cut, the call still ends


async def announce(media: MediaEngine, target: MediaLeg | Bridge, prompt: Path,
                   stop: asyncio.Event | None = None,
                   timeout: float = MAX_ANNOUNCEMENT) -> bool:
    """Play ``prompt`` to a leg (or everyone in a bridge), no barge-in, at most ``timeout``.

    Returns False when ``stop`` was set first (the caller hung up): the prompt is cut then."""
    play = asyncio.ensure_future(media.play(target, [prompt], barge_in=False, timeout=timeout))
    if stop is None:
        await play
        return True
    stopped = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait([play, stopped], return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopped.cancel()
        if not play.done():
            media.stop_playback(target)
            play.cancel()
        await asyncio.gather(play, return_exceptions=True)  # cut: its CancelledError is ours
    return not stop.is_set()
