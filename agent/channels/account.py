"""The bot's WeChat account through the puppet service, without the bot: `steward login` and
`steward rooms --live`.

Both need only the puppet's connection, its events (scan, login) and its room and contact payloads, so
they skip the app (knowledge, models, store) and start in a second. A first connection that fails is
an error with what to check, never a retry loop: nothing has ever worked with this configuration.
"""
from __future__ import annotations

import asyncio
import contextlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from agent import logmask
from agent.channels import wechaty_compat

DEFAULT_TOKEN = "steward"  # a service reached by endpoint accepts any token; the client needs a string


class NotConnected(Exception):
    """The puppet service could not be reached or used; the message says what to check."""


def what_to_check(endpoint: str, reason: str) -> str:
    return (f"could not connect to the puppet service at {endpoint or '(no endpoint)'}: {reason}. Check that\n"
            "  - the gateway is running and listening there (`docker compose ps`, its log);\n"
            "  - WECHATY_PUPPET_SERVICE_ENDPOINT is its host:port (environment or config/.env);\n"
            "  - WECHATY_PUPPET_SERVICE_TOKEN is the token the gateway was started with;\n"
            "  - the gateway runs with TLS disabled (WECHATY_PUPPET_SERVICE_NO_TLS_INSECURE_SERVER=true).")


def connection(endpoint: str | None = None, token: str | None = None) -> tuple[str, str]:
    """(endpoint, token) from the arguments or the environment; the token is masked in every log line."""
    endpoint = endpoint or os.environ.get("WECHATY_PUPPET_SERVICE_ENDPOINT", "")
    token = token or os.environ.get("WECHATY_PUPPET_SERVICE_TOKEN") or ""
    if not endpoint:
        raise NotConnected("set WECHATY_PUPPET_SERVICE_ENDPOINT to the puppet service's host:port (and "
                           "WECHATY_PUPPET_SERVICE_TOKEN to its token), in the environment or config/.env")
    logmask.protect(token)
    return endpoint, token or DEFAULT_TOKEN


def puppet_options(endpoint: str, token: str) -> Any:
    """A fresh PuppetOptions with only what the environment does not already say: python-wechaty warns
    about every value given both ways ("there are two tokens…"), which is noise when they agree."""
    from wechaty_puppet import PuppetOptions

    same_endpoint = endpoint == os.environ.get("WECHATY_PUPPET_SERVICE_ENDPOINT")
    same_token = token == os.environ.get("WECHATY_PUPPET_SERVICE_TOKEN")
    return PuppetOptions(end_point=None if same_endpoint else endpoint, token=None if same_token else token)


@dataclass
class RoomListing:
    room_id: str
    topic: str
    owner_id: str
    members: list[tuple[str, str]] = field(default_factory=list)  # (contact id, display name)


class Account:
    """One connection to the puppet service. `async with Account(...) as account:` connects and
    reads events; `await account.logged_in(on_scan)` waits for the login."""

    def __init__(self, endpoint: str, token: str, cache_dir: Path):
        self.endpoint, self.token = endpoint, token
        wechaty_compat.prepare(cache_dir)
        self.self_id: str | None = None
        self._login = asyncio.Event()
        self._scan: asyncio.Queue[tuple[int, str]] = asyncio.Queue()
        self._puppet: Any = None
        self._stream: asyncio.Task | None = None

    async def __aenter__(self) -> "Account":
        from wechaty_puppet_service import PuppetService

        self._puppet = PuppetService(puppet_options(self.endpoint, self.token))
        self._puppet.on("login", self._on_login)
        self._puppet.on("scan", lambda p: self._scan.put_nowait((int(p.status.value), p.qrcode or "")))
        self._stream = asyncio.create_task(self._puppet.start(), name="puppet-events")
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._stream is not None:
            self._stream.cancel()
            with contextlib.suppress(BaseException):
                await self._stream
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._puppet.stop(), 1)
        if self._puppet.channel is not None:
            self._puppet.channel.close()

    def _on_login(self, payload: Any) -> None:
        self.self_id = payload.contact_id
        self._login.set()

    async def logged_in(self, on_scan: Callable[[int, str], None] = lambda status, qr: None,
                        timeout: float = 300.0) -> str:
        """The account's contact id once logged in; `on_scan(status, qrcode)` for each QR event on the way.
        NotConnected when the connection ends first, TimeoutError when nobody scans in time."""
        assert self._stream is not None, "use `async with`"
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not self._login.is_set():
            waits = {asyncio.ensure_future(self._login.wait()), asyncio.ensure_future(self._scan.get()), self._stream}
            done, pending = await asyncio.wait(waits, timeout=max(0.0, deadline - loop.time()),
                                               return_when=asyncio.FIRST_COMPLETED)
            for task in pending - {self._stream}:
                task.cancel()
            if not done:
                raise TimeoutError(f"not logged in after {timeout:.0f} s")
            if self._stream in done and not self._login.is_set():
                raise NotConnected(what_to_check(self.endpoint, ending(self._stream)))
            for task in done - {self._stream}:
                if isinstance(result := task.result(), tuple):
                    on_scan(*result)
        assert self.self_id is not None
        return self.self_id

    async def name_of(self, contact_id: str) -> str:
        with contextlib.suppress(Exception):
            return (await self._puppet.contact_payload(contact_id)).name or ""
        return ""

    async def rooms(self, members: bool = True) -> list[RoomListing]:
        """Every room the logged-in account is in, with its members' ids and names."""
        out = []
        for room_id in await self._puppet.room_search():
            payload = await self._puppet.room_payload(room_id)
            listing = RoomListing(room_id, payload.topic or "", payload.owner_id or "")
            if members:
                for contact_id in await self._puppet.room_members(room_id):
                    listing.members.append((contact_id, await self.name_of(contact_id)))
            out.append(listing)
        return out


def ending(task: asyncio.Task, cancelled: str = "cancelled",
           closed: str = "the service closed the event stream") -> str:
    """How a finished stream task ended, in words for the operator's log or exit message."""
    if task.cancelled():
        return cancelled
    exc = task.exception()
    if exc is None:
        return closed
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
