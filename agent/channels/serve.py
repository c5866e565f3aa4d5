"""`steward run`'s event loop: the WeChat channel, the bot's clock (scheduled posts, digests) and the
knowledge watcher, until Ctrl-C or SIGTERM."""
from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime


TICK_S = 30.0  # how often scheduled posts and digests are looked at


async def serve(channel, built) -> None:
    """The channel, plus the bot's own clock (scheduled posts, digests) and the knowledge watcher."""
    from agent.channels.runner import stop_on_signals
    from agent.kb.watch import watch_knowledge

    stop = asyncio.Event()
    undo = stop_on_signals(stop)
    background = [
        asyncio.create_task(_clock(channel.runner, built, stop)),
        asyncio.create_task(watch_knowledge(built.kb, built.settings.kb.knowledge_dir, built.sources, stop)),
    ]
    try:
        await channel.run(stop)
    finally:
        stop.set()
        await asyncio.gather(*background, return_exceptions=True)
        undo()


async def _clock(runner, built, stop: asyncio.Event) -> None:
    while not stop.is_set():
        runner.clock(lambda: built.tick(datetime.now().astimezone()))
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(stop.wait(), TICK_S)
