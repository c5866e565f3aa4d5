"""What every live channel provides, so the runner (pacing, ordering, shutdown) is written once.

A channel turns platform events into `agent.events.Message`s for the Runner and carries out the
actions the pipeline decides. The console and memory channels may skip the Runner; a channel that
faces real people (WeChat) must go through it to keep order and pacing.
"""
from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Protocol

from agent.events import Action, Kick, Message, Say, SendImage, Whisper


class Sender(Protocol):
    """Carries out one action on the platform, returning the sent message's id where there is one.
    Raises on failure; the Runner logs and moves on."""

    async def perform(self, action: Action) -> str | None: ...


class Channel(Protocol):
    """A live connection: runs until `stop` is set, then finishes in-flight work and returns."""

    async def run(self, stop: asyncio.Event) -> None: ...


def conversation_of(action: Action) -> str:
    """The conversation an action lands in: pacing and ordering are kept per conversation."""
    if isinstance(action, (Say, Kick)):
        return action.group_id
    if isinstance(action, Whisper):
        return f"dm:{action.contact_id}"
    if isinstance(action, SendImage):
        return action.group_id if action.group_id else f"dm:{action.contact_id}"
    raise TypeError(f"not an action: {action!r}")


def scrub(text: str) -> str:
    """A lone surrogate (half an emoji, cut by a client or escaped in a JSON payload) cannot be encoded
    as UTF-8, so every later write of it (SQLite, a log line, a model call) would fail: it becomes
    U+FFFD here, once, where text enters. Paired surrogates become the character they encode."""
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


def scrubbed(message: Message) -> Message:
    """The message with every platform-supplied string scrubbed."""
    sender = message.sender
    return replace(message, id=scrub(message.id), text=scrub(message.text),
                   sender=replace(sender, id=scrub(sender.id), name=scrub(sender.name)),
                   quote=scrub(message.quote) if message.quote is not None else None,
                   url=scrub(message.url) if message.url is not None else None)
