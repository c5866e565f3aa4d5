"""`steward run`'s clock (scheduled posts, digests) starts at the account's login: a post claimed
before it would have no account to be written in the outbox for, and a kill or a slow login (a QR
scan) would lose it."""
from __future__ import annotations

import asyncio

from agent.channels import serve


class Channel:
    def __init__(self):
        self.logged_in = asyncio.Event()
        self.runner = self
        self.ticks = 0

    async def wait_logged_in(self):
        await self.logged_in.wait()

    def clock(self, job):
        self.ticks += 1


async def test_the_clock_waits_for_the_login(monkeypatch):
    monkeypatch.setattr(serve, "TICK_S", 0.01)
    channel, stop = Channel(), asyncio.Event()
    clock = asyncio.create_task(serve._clock(channel, None, stop))
    await asyncio.sleep(0.1)
    assert channel.ticks == 0
    channel.logged_in.set()
    await asyncio.sleep(0.1)
    assert channel.ticks >= 2
    stop.set()
    await asyncio.wait_for(clock, 1)


async def test_a_stop_before_the_login_ends_the_clock():
    channel, stop = Channel(), asyncio.Event()
    clock = asyncio.create_task(serve._clock(channel, None, stop))
    stop.set()
    await asyncio.wait_for(clock, 1)
    assert channel.ticks == 0
