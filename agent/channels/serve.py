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
        asyncio.create_task(_clock(channel, built, stop)),
        asyncio.create_task(watch_knowledge(built.kb, built.settings.kb.knowledge_dir, built.sources, stop)),
    ]
    try:
        await channel.run(stop)
    finally:
        stop.set()
        await asyncio.gather(*background, return_exceptions=True)
        undo()


async def _clock(channel, built, stop: asyncio.Event) -> None:
    """Every TICK_S from the account's login on: a post claimed before the login has no account to
    be written in the outbox for, so a kill (or a login slower than the send timeout) would lose it."""
    waits = [asyncio.create_task(channel.wait_logged_in()), asyncio.create_task(stop.wait())]
    await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    for task in waits:
        task.cancel()
    while not stop.is_set():
        channel.runner.clock(lambda: built.tick(datetime.now().astimezone()))
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(stop.wait(), TICK_S)
