"""What every live channel provides, so the runner (pacing, ordering, shutdown) is written once.

A channel turns platform events into `agent.events.Message`s for the Runner and carries out the
actions the pipeline decides. The console and memory channels may skip the Runner; a channel that
faces real people (WeChat) must go through it to keep order and pacing.
"""
from __future__ import annotations

import asyncio
from typing import Protocol

from agent.events import Action, Kick, Say, SendImage, Whisper


class Sender(Protocol):
    """Carries out one action on the platform. Raises on failure; the Runner logs and moves on."""

    async def perform(self, action: Action) -> None: ...


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
