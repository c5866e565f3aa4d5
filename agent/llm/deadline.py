"""The moment a message's reply must go out, shared by every model call made for that message.

A member waits for the whole message, not for one call: a moderation judge, then an answer, each
with its own timeout and retries, would add up. The pipeline opens one deadline per message
(`per_message`); a model call reads the time left (`until`). A call made outside any message (a
scheduled draft) gets a deadline of its own, starting when it is made.
"""
from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_until: ContextVar[float | None] = ContextVar("reply_deadline", default=None)


@contextmanager
def per_message(seconds: float) -> Iterator[None]:
    """Every model call inside the block must be done `seconds` from now (time.monotonic)."""
    token = _until.set(time.monotonic() + seconds)
    try:
        yield
    finally:
        _until.reset(token)


def until(seconds: float) -> float:
    """The current message's deadline, or `seconds` from now when no message is being decided."""
    current = _until.get()
    return current if current is not None else time.monotonic() + seconds
