"""The WeChat channel: python-wechaty against a puppet service (WECHATY_PUPPET_SERVICE_ENDPOINT/TOKEN).

With the compat shim, agent/channels/account.py (login and room listing without the bot) and the
channel's parts (wechaty_rooms: whose room; wechaty_convert: messages in; wechaty_actions: actions out), the
only modules that import wechaty. It uses the client's puppet (gRPC) and its Room/Contact/Message classes,
but not `Wechaty.start()`'s event bridge, for three reasons found by reading the client: `start()`
swallows a dropped stream and sleeps a fixed 60 s before retrying; its async listeners resolve
messages as parallel tasks, so a group's messages can overtake each other; and its login path starts
a plugin web server/scheduler that fails when port 5000 is taken. Here the puppet's events are read in
stream order, payloads are loaded concurrently but handed on in arrival order, and a dropped stream
reconnects with backoff once the account has logged in (a first connection that ends before any login
raises NotConnected: retrying a wrong endpoint or token forever would only hide it). Every message then
goes through the Runner (per-group order, bounded concurrency, paced sends) and the Pipeline (which
drops seen ids, so a redelivery after a reconnect is handled once).
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Awaitable, Callable

from agent.channels import wechaty_actions, wechaty_compat
from agent.channels.account import NotConnected, connection, ending, puppet_options, what_to_check
from agent.channels.base import scrub, scrubbed
from agent.channels.binding import RoomInfo
from agent.channels.runner import Observer, Runner
from agent.channels.wechaty_convert import Converter, date
from agent.channels.wechaty_rooms import RoomRouter, room_info
from agent.events import Action, Member, Message, Role
from agent.pipeline import Pipeline
from agent.settings import GroupConfig, Settings

log = logging.getLogger("steward.wechat")



class ChannelConfigError(Exception):
    """The channel cannot start with this configuration; the message says what to set."""


@dataclass(frozen=True)
class Backoff:
    """Reconnect delays: at once, then `first` doubling with jitter up to `cap`; the count starts over
    after a session that lasted `healthy_s` (a service restart is usually over in a second)."""

    first: float = 0.5
    cap: float = 30.0
    healthy_s: float = 60.0

    def delay(self, attempt: int) -> float:
        if attempt == 0:
            return 0.0
        return min(self.cap, self.first * 2 ** (attempt - 1)) * random.uniform(0.8, 1.2)


class WechatyChannel:
    """Connects one bot account to the pipeline. `await run(stop)` until `stop` is set."""

    def __init__(self, settings: Settings, pipeline: Pipeline, *, endpoint: str | None = None,
                 token: str | None = None, workers: int = 4, observer: Observer | None = None,
                 backoff: Backoff = Backoff(), probe_s: float = 60.0, send_timeout_s: float = 30.0,
                 load_concurrency: int = 32, on_scan: Callable[[int, str], None] | None = None):
        # the token travels as the gRPC authority and must be a string; a service reached by endpoint
        # accepts any. Without an endpoint the client would look it up in the cloud: never, offline first.
        # The token is masked in every log line from here on (agent.logmask).
        try:
            self.endpoint, self.token = connection(endpoint, token)
        except NotConnected as exc:
            raise ChannelConfigError(str(exc)) from None
        self.on_scan = on_scan  # (status, qrcode) while the account waits for a scan
        wechaty_compat.prepare(settings.data_dir / "wechaty")
        self.settings = settings
        self.groups: dict[str, GroupConfig] = dict(settings.groups)
        self.runner = Runner(pipeline, self, settings.pacing, workers=workers, observer=observer,
                             account=lambda: self.self_id)
        self.backoff = backoff
        self.probe_s = probe_s
        self.send_timeout_s = send_timeout_s
        self._loads = asyncio.Semaphore(load_concurrency)
        self.rooms = RoomRouter(self.groups, pipeline.services.store, pipeline.services.prompts, self.runner.notify)
        self.convert = Converter(self.rooms)
        self._bot: Any = None
        self._online = asyncio.Event()  # logged in on a live stream: sends may go out
        self._ready = asyncio.Event()  # and the configured groups' rooms were looked up
        self._ingest: asyncio.Queue[asyncio.Future] = asyncio.Queue()
        self._unsequenced = 0
        # figures for the operator, the tests and the benchmark (time.monotonic())
        self.sessions = 0
        self.login_at: list[float] = []
        self.dropped_at: list[float] = []
        self.last_message_at: datetime | None = None

    # ---- connection life -------------------------------------------------------------------------
    async def run(self, stop: asyncio.Event) -> None:
        """Connect, reconnect with backoff while the stream drops, and on `stop` finish in-flight work."""
        sequencer = asyncio.create_task(self._sequence(), name="wechat-sequencer")
        attempt = 0
        try:
            while not stop.is_set():
                started = time.monotonic()
                session = asyncio.create_task(self._session(), name="wechat-session")
                stopping = asyncio.create_task(stop.wait())
                await asyncio.wait({session, stopping}, return_when=asyncio.FIRST_COMPLETED)
                stopping.cancel()
                if not session.done():  # stop requested: cut intake, keep the connection for sending
                    session.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await session
                    await self._finish_work()
                    break
                reason = ending(session, cancelled="no answer to a ding", closed="the event stream ended")
                self._online.clear()
                self._ready.clear()
                self.dropped_at.append(time.monotonic())
                await self._close_puppet()
                if not self.login_at:  # never worked with this configuration: retrying would only hide it
                    raise NotConnected(what_to_check(self.endpoint, reason))
                if time.monotonic() - started >= self.backoff.healthy_s:
                    attempt = 0
                delay = self.backoff.delay(attempt)
                attempt += 1
                log.warning("lost the connection to the puppet service at %s (%s); reconnecting in %.1f s",
                            self.endpoint, reason, delay)
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(stop.wait(), delay)
            else:
                await self._finish_work()
        finally:
            sequencer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sequencer
            await self._close_puppet()
            log.info("stopped")

    async def _finish_work(self, timeout: float = 10.0) -> None:
        """Hand on what was already received, then decide and send it before disconnecting."""
        deadline = time.monotonic() + timeout
        while self._unsequenced and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        await self.runner.close()

    async def _session(self) -> None:
        """One connection: returns or raises when the event stream ends."""
        from wechaty import Wechaty, WechatyOptions

        if self._bot is None:
            # a fresh options object: WechatyOptions' default PuppetOptions is shared between bots
            options = WechatyOptions(name="qun-steward",
                                     puppet_options=puppet_options(self.endpoint, self.token))
            self._bot = Wechaty(options)
        bot = self._bot
        await bot.init_puppet()  # new Room/Contact/Message classes bound to this bot
        for cls in (bot.Contact, bot.ContactSelf, bot.Room, bot.Tag):
            cls._pool = {}  # the client's caches are class attributes shared by every bot: give ours its own
        puppet = bot.puppet
        self.sessions += 1
        puppet.on("login", self._on_login)
        puppet.on("logout", self._on_logout)
        puppet.on("scan", self._on_scan)
        puppet.on("error", self._on_error)
        puppet.on("message", lambda p: self._arrived(self._load_message(p.message_id)))
        puppet.on("room-join", lambda p: self._arrived(self._load_join(p)))
        puppet.on("room-leave", lambda p: self._arrived(self._load_leave(p)))
        probe = asyncio.create_task(self._probe(puppet, asyncio.current_task()))
        try:
            await puppet.start()  # Stop, Start, then reads the event stream until it ends
        finally:
            probe.cancel()

    async def _probe(self, puppet: Any, session: asyncio.Task | None) -> None:
        """A half-open connection delivers nothing and raises nothing: ding it, and give up if it is mute."""
        while True:
            await asyncio.sleep(self.probe_s)
            if puppet._puppet_stub is None:
                continue
            try:
                await asyncio.wait_for(puppet.ding("probe"), timeout=min(10.0, self.probe_s))
            except Exception as exc:
                log.warning("the puppet service did not answer a ding (%s)", str(exc) or type(exc).__name__)
                if session is not None:
                    session.cancel()
                return

    async def _close_puppet(self) -> None:
        if self._bot is None or self._bot._puppet is None:
            return
        puppet = self._bot.puppet
        with contextlib.suppress(Exception):
            await asyncio.wait_for(puppet.stop(), 1)  # a courtesy Stop call; the service may be gone
        if puppet.channel is not None:  # stop() skips this when its Stop call fails
            puppet.channel.close()
            puppet.channel = None
        puppet._puppet_stub = None

    # ---- events, in stream order -----------------------------------------------------------------
    def _arrived(self, load: Awaitable[Callable[[], None] | None]) -> None:
        """Called synchronously by the puppet's emitter, so the queue has stream order."""
        self._unsequenced += 1
        self._ingest.put_nowait(asyncio.ensure_future(load))

    async def _sequence(self) -> None:
        """Hand loaded events to the Runner in arrival order (loads themselves run concurrently)."""
        while True:
            future = await self._ingest.get()
            try:
                submit = await future
                if submit is not None:
                    submit()
            except Exception as exc:  # not marked seen, so a redelivery will be handled
                log.warning("could not read an event from the puppet service: %s", exc)
            finally:
                self._unsequenced -= 1

    @property
    def self_id(self) -> str | None:
        return self.convert.self_id

    def _on_login(self, payload: Any) -> None:
        self.convert.self_id = payload.contact_id
        self.login_at.append(time.monotonic())
        self._online.set()
        asyncio.ensure_future(self._after_login())

    async def _after_login(self) -> None:
        bot = self._bot
        me = bot.Contact.load(self.self_id)
        with contextlib.suppress(Exception):
            await me.ready()
            self.convert.self_name = me.name
        await self.rooms.survey(bot)
        managed = ", ".join(f"{g.name or g.id} ({self.rooms.room_of(g.id) or 'room not bound yet'})"
                            for g in self.groups.values()) or "no groups"
        log.info("logged in as %s (%s); managing %s", self.convert.self_name or "?", self.self_id, managed)
        self._ready.set()
        self.runner.resume()  # what this account decided before a crash and never sent

    async def wait_logged_in(self) -> None:
        """Until the account is logged in and the configured groups' rooms have been looked up."""
        await self._ready.wait()

    def _on_logout(self, payload: Any) -> None:
        self._online.clear()
        log.warning("the WeChat account %s logged out; waiting for it to log in again", payload.contact_id)

    def _on_scan(self, payload: Any) -> None:
        log.warning("the puppet service needs a QR scan to log in: %s (status %s)",
                    payload.qrcode or "(no code yet)", payload.status)
        if self.on_scan is not None:
            self.on_scan(int(payload.status.value), payload.qrcode or "")

    def health(self) -> dict:
        """For `steward run --health-port`: read from another thread, so plain values only."""
        return {"connected": self._online.is_set(), "account": self.self_id, "sessions": self.sessions,
                "last_message_at": self.last_message_at.isoformat(timespec="seconds") if self.last_message_at else None,
                "queue_depth": self.runner.pending}

    def _on_error(self, payload: Any) -> None:
        log.warning("the puppet service reported an error: %s", getattr(payload, "data", payload))

    # ---- rooms -> groups ---------------------------------------------------------------------------
    @property
    def room_of_group(self) -> dict[str, str]:
        return self.rooms.bound()


    # ---- wechaty -> Message --------------------------------------------------------------------------
    async def _load_message(self, message_id: str) -> Callable[[], None] | None:
        async with self._loads:
            msg = self._bot.Message.load(message_id)
            await msg.ready()
            loaded = await self.convert.convert(self._bot, msg)
        if loaded is None:
            return None
        return lambda: self._hand_on(*loaded)

    def _hand_on(self, message: Message, room: RoomInfo | None) -> None:
        """Runs in stream order, so whose room it is is decided here: a /bind counts from its own
        place in the stream on, never for messages that arrived before it."""
        if room is not None:
            group_id = self.rooms.group_for(room) or self.rooms.bind_from_chat(room, message)
            if group_id is None:
                return
            group = self.groups[group_id]
            trusted = group.trust_room_owner and room.owner_id == message.sender.id
            sender = Member(message.sender.id, message.sender.name, Role.OWNER if trusted else Role.MEMBER)
            message = replace(message, group_id=group_id, sender=sender)
        self.last_message_at = message.ts
        self.runner.message(scrubbed(message))

    # ---- joins and leaves ----------------------------------------------------------------------------
    async def _load_join(self, p: Any) -> Callable[[], None] | None:
        return await self._load_member_event(p.room_id, p.invited_ids, p.timestamp, joined=True)

    async def _load_leave(self, p: Any) -> Callable[[], None] | None:
        return await self._load_member_event(p.room_id, p.removed_ids, p.timestamp, joined=False)

    async def _load_member_event(self, room_id: str, ids: list[str], timestamp: Any, *,
                                 joined: bool) -> Callable[[], None] | None:
        async with self._loads:
            room = self._bot.Room.load(room_id)
            await room.ready()
            info = room_info(room)
            if not self.rooms.concerns_us(info):
                return None
            members = []
            for contact_id in ids:
                if contact_id == self.convert.self_id:
                    continue
                contact = self._bot.Contact.load(contact_id)
                with contextlib.suppress(Exception):
                    await contact.ready()
                members.append(Member(contact_id, scrub(contact.name) if contact.is_ready() else ""))
        ts = date(timestamp)
        hand_on = self.runner.joined if joined else self.runner.left

        def submit() -> None:  # in stream order, like messages: whose room it is is decided now
            group_id = self.rooms.group_for(info)
            if group_id is None:
                return
            for m in members:
                log.info("%s %s %s", m.name or m.id, "joined" if joined else "left", group_id)
                hand_on(group_id, m, ts)

        return submit

    # ---- Action -> wechaty ---------------------------------------------------------------------------
    async def perform(self, action: Action) -> str | None:
        """Carry out one action (the sent message's id); after a dropped connection (or UNAVAILABLE),
        wait for the next session and retry once. A send that timed out is not retried: the puppet may
        have sent it, and a second copy in the group is worse than a failure the log and the outbox row
        show (a cancelled call may surface as a stream error rather than a timeout, so the deadline is
        asked, not the type). Nor is one the service answered with another error (`retryable`)."""
        for attempt in (1, 2):
            await asyncio.wait_for(self._online.wait(), self.send_timeout_s)
            try:
                async with asyncio.timeout(self.send_timeout_s) as deadline:
                    return await wechaty_actions.perform(self._bot, action, self.rooms.room_id)
            except (OSError, ConnectionError, *wechaty_actions.stream_errors()) as exc:
                if deadline.expired():
                    raise asyncio.TimeoutError(f"no answer to the send within {self.send_timeout_s:g} s") from exc
                if attempt == 2 or not wechaty_actions.retryable(exc):
                    raise
                log.warning("sending failed (%s); retrying after reconnect", str(exc) or type(exc).__name__)
                await asyncio.sleep(0.05)
