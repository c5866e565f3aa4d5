"""The real WeChat channel wired to the loopback puppet service, for `steward sim`, tests and the benchmark.

Everything between the pipeline and the service is the production path: python-wechaty's client over
gRPC on 127.0.0.1, the channel's conversion, the Runner's ordering and pacing.
"""
from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING, AsyncIterator

from agent.testing.puppet import LoopbackPuppet
from agent.channels.runner import Observer
from agent.pipeline import Pipeline
from agent.settings import Settings

if TYPE_CHECKING:  # imported for real inside on_loopback: importing wechaty has side effects
    from agent.channels.wechaty import WechatyChannel


@contextlib.asynccontextmanager
async def on_loopback(settings: Settings, pipeline: Pipeline, *, puppet: LoopbackPuppet | None = None,
                      observer: Observer | None = None, workers: int = 4, login_timeout: float = 10.0,
                      **channel_options) -> AsyncIterator[tuple[LoopbackPuppet, "WechatyChannel"]]:
    """Start a loopback service for `settings.groups` (unless given), connect the channel, wait for login.
    On exit: stop the channel (finishing in-flight work) and the service."""
    from agent.channels.wechaty import WechatyChannel

    puppet = puppet or LoopbackPuppet(list(settings.groups.values()))
    endpoint = await puppet.start()
    channel = WechatyChannel(settings, pipeline, endpoint=endpoint, token=puppet.token, workers=workers,
                             observer=observer, **channel_options)
    stop = asyncio.Event()
    task = asyncio.create_task(channel.run(stop), name="channel")
    try:
        await asyncio.wait_for(channel.wait_logged_in(), login_timeout)
        yield puppet, channel
    finally:
        stop.set()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, 30)
        await puppet.close()
