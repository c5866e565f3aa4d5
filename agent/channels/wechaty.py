"""The WeChat channel: python-wechaty against a puppet service (WECHATY_PUPPET_SERVICE_ENDPOINT/TOKEN).

With the compat shim and agent/channels/account.py (login and room listing without the bot), the only
module that imports wechaty. It uses the client's puppet (gRPC) and its Room/Contact/Message classes,
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
import base64
import contextlib
import logging
import random
import re
import time
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Awaitable, Callable

from agent import patterns
from agent import quoting
from agent.channels import wechaty_compat
from agent.channels.account import NotConnected, connection, ending, puppet_options, what_to_check
from agent.channels.base import scrub, scrubbed
from agent.channels.binding import RoomBook, RoomInfo
from agent.channels.runner import Observer, Runner
from agent.commands.parse import parse
from agent.events import Action, Kick, Kind, Member, Message, Role, Say, SendImage, Whisper
from agent.pipeline import Pipeline
from agent.settings import GroupConfig, Settings

log = logging.getLogger("steward.wechat")

MAX_IMAGE_BYTES = 5 * 1024 * 1024  # larger images are passed on without bytes (moderation sees the kind)
# A quoted reply as WeChat puppets render it in the text: 「name：quoted」, a dashed line, the reply.
_QUOTE = patterns.compile(r"^「(?:[^：:\n]{1,64}[：:])?(?P<quote>.*?)」\n(?:- ?){3,}-?\n(?P<text>.*)$", re.S)


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


def _kind_table() -> dict[Any, Kind]:
    from wechaty_puppet import MessageType as T

    return {
        T.MESSAGE_TYPE_TEXT: Kind.TEXT, T.MESSAGE_TYPE_IMAGE: Kind.IMAGE, T.MESSAGE_TYPE_URL: Kind.LINK,
        T.MESSAGE_TYPE_MINI_PROGRAM: Kind.MINI_PROGRAM, T.MESSAGE_TYPE_CONTACT: Kind.CONTACT_CARD,
        T.MESSAGE_TYPE_ATTACHMENT: Kind.FILE, T.MESSAGE_TYPE_RED_ENVELOPE: Kind.RED_PACKET,
        T.MESSAGE_TYPE_TRANSFER: Kind.RED_PACKET,  # money either way, for moderation
        T.MESSAGE_TYPE_EMOTICON: Kind.EMOJI, T.MESSAGE_TYPE_AUDIO: Kind.VOICE, T.MESSAGE_TYPE_VIDEO: Kind.VIDEO,
    }


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
        self.runner = Runner(pipeline, self, settings.pacing, workers=workers, observer=observer)
        self.backoff = backoff
        self.probe_s = probe_s
        self.send_timeout_s = send_timeout_s
        self._loads = asyncio.Semaphore(load_concurrency)
        self._kinds = _kind_table()
        self.self_id: str | None = None
        self.self_name = ""
        self.rooms = RoomBook(self.groups, pipeline.services.store)
        self._room_owner: dict[str, str] = {}  # bound room id -> the room's WeChat owner, as last seen
        self._unmanaged: set[str] = set()
        for g in self.groups.values():
            if not g.room_id and not g.topic:
                log.warning("group %s has neither room_id nor topic in its config: no room can be bound to it",
                            g.id)
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

    def _on_login(self, payload: Any) -> None:
        self.self_id = payload.contact_id
        self.login_at.append(time.monotonic())
        self._online.set()
        asyncio.ensure_future(self._after_login())

    async def _after_login(self) -> None:
        bot = self._bot
        me = bot.Contact.load(self.self_id)
        with contextlib.suppress(Exception):
            await me.ready()
            self.self_name = me.name
        await self._survey_rooms()
        managed = ", ".join(f"{g.name or g.id} ({self.rooms.room_of(g.id) or 'room not bound yet'})"
                            for g in self.groups.values()) or "no groups"
        log.info("logged in as %s (%s); managing %s", self.self_name or "?", self.self_id, managed)
        self._ready.set()

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

    async def _survey_rooms(self) -> None:
        """Look at every room once at login, so the owners hear of same-topic rooms before anyone talks."""
        if not any(g.topic for g in self.groups.values()):
            return
        try:
            room_ids = await self._bot.puppet.room_search()
        except Exception as exc:
            log.warning("could not list rooms to look for the groups' topics: %s", exc)
            return
        for room_id in room_ids:
            with contextlib.suppress(Exception):
                room = self._bot.Room.load(room_id)
                await room.ready()
                self._group_for(_info(room))

    def _concerns_us(self, room: RoomInfo) -> bool:
        """Bound to a group, or carrying a group's topic (to be bound, or reported). Other rooms' events
        are not even loaded."""
        if self.rooms.group_of(room.room_id) or self.rooms.candidate(room.topic):
            return True
        if room.room_id not in self._unmanaged:
            self._unmanaged.add(room.room_id)
            log.info("ignoring room %r (%s): not a configured group", room.topic, room.room_id)
        return False

    def _group_for(self, room: RoomInfo) -> str | None:
        """The group bound to this room. A room that only carries a group's topic is not that group:
        it is reported to the group's owners once and otherwise ignored."""
        group_id = self.rooms.group_of(room.room_id)
        if group_id is not None:
            if room.owner_id:
                self._room_owner[room.room_id] = room.owner_id
            return group_id
        group = self.rooms.candidate(room.topic)
        if group is not None and self.rooms.first_report(group.id, room):
            self._report_room(group, room)
        return None

    def _report_room(self, group: GroupConfig, room: RoomInfo) -> None:
        bound = self.rooms.room_of(group.id)
        name = "room_ignored" if bound else "room_unbound"
        prompts = self.runner.pipeline.services.prompts
        text = prompts.render(name, group.language, group=group.name or group.id, topic=room.topic,
                              room=room.room_id, owner=room.owner_id or "?", members=room.members)
        log.warning("room %s has the topic of group %s but %s; owners told", room.room_id, group.id,
                    f"the group is bound to {bound}" if bound else "the group is not bound yet")
        self.runner.notify([Whisper(o.id, text) for o in group.owners])

    def _bind_from_chat(self, room: RoomInfo, message: Message) -> str | None:
        """`/bind` said in an unbound room with a group's topic, by one of that group's configured
        owners (contact id), makes it the group's room. Nobody else's /bind does anything."""
        group = self.rooms.candidate(room.topic)
        if group is None or self.rooms.room_of(group.id) or group.role_of(message.sender.id) != Role.OWNER:
            return None
        parsed = parse(message, group.bot_name)
        if parsed is None or parsed.spec.name != "bind":
            return None
        self.rooms.bind(group.id, room.room_id, by=message.sender.id)
        return group.id

    def _owned_groups(self, contact_id: str) -> list[str]:
        """Managed groups where this contact is a configured owner/admin, or the WeChat owner of the
        group's bound room where the group's config trusts that."""
        return [g.id for g in self.groups.values()
                if g.role_of(contact_id) != Role.MEMBER
                or (g.trust_room_owner and self._room_owner.get(self.rooms.room_of(g.id) or "") == contact_id)]

    # ---- wechaty -> Message --------------------------------------------------------------------------
    async def _load_message(self, message_id: str) -> Callable[[], None] | None:
        async with self._loads:
            msg = self._bot.Message.load(message_id)
            await msg.ready()
            loaded = await self._convert(msg)
        if loaded is None:
            return None
        return lambda: self._hand_on(*loaded)

    def _hand_on(self, message: Message, room: RoomInfo | None) -> None:
        """Runs in stream order, so whose room it is is decided here: a /bind counts from its own
        place in the stream on, never for messages that arrived before it."""
        if room is not None:
            group_id = self._group_for(room) or self._bind_from_chat(room, message)
            if group_id is None:
                return
            group = self.groups[group_id]
            trusted = group.trust_room_owner and room.owner_id == message.sender.id
            sender = Member(message.sender.id, message.sender.name, Role.OWNER if trusted else Role.MEMBER)
            message = replace(message, group_id=group_id, sender=sender)
        self.last_message_at = message.ts
        self.runner.message(scrubbed(message))

    async def _convert(self, msg: Any) -> tuple[Message, RoomInfo | None] | None:
        """The platform-neutral message, and its room (None in a private chat). A room message's group
        and the sender's role are set when it is handed on."""
        p = msg.payload
        if p.from_id == self.self_id:
            return None  # our own message, reported back by the service
        talker = msg.talker()
        room = msg.room()
        kind = self._kinds.get(msg.type(), Kind.SYSTEM)
        text, quote = p.text or "", None
        mentions = tuple(p.mention_ids or ())
        info = None
        if room is not None:
            info = _info(room)
            if not self._concerns_us(info):
                return None
            group_id, role = None, Role.MEMBER
            to_bot = self.self_id in mentions or self._names_bot(text)
            text = await self._strip_mentions(room, text, mentions)
        else:
            owned = self._owned_groups(p.from_id)
            if not owned:
                log.debug("ignoring a private message from %s: not an owner of a managed group", p.from_id)
                return None
            group_id = owned[0] if len(owned) == 1 else None  # ambiguous: the command route asks which group
            role, to_bot = Role.MEMBER, True  # the pipeline stamps owners by id
        if kind == Kind.TEXT and (m := _QUOTE.match(text)):
            text, quote = m.group("text").strip(), m.group("quote")
        url, payload = None, None
        try:
            text, url, payload = await self._extras(msg, kind, text)
        except Exception as exc:  # the kind alone is what moderation needs most
            log.info("could not read the %s content of message %s: %s", kind, msg.message_id, exc)
        message = Message(id=msg.message_id, group_id=group_id, sender=Member(talker.contact_id, talker.name, role),
                          text=text, ts=_date(p.timestamp), kind=kind, mentions=mentions, to_bot=to_bot,
                          private=room is None, quote=quote, url=url, payload=payload)
        return message, info

    def _names_bot(self, text: str) -> bool:
        """Fallback for services that leave mention ids empty: "@<bot name>" in the text."""
        return bool(self.self_name) and patterns.search(f"@{re.escape(self.self_name)}(\u2005|\\s|$)", text) is not None

    async def _strip_mentions(self, room: Any, text: str, mentions: tuple[str, ...]) -> str:
        """Mentions travel as ids; drop their "@name" from the text so routes read only the words."""
        names = {self.self_name} if self.self_name else set()
        for contact_id in mentions:
            contact = self._bot.Contact.load(contact_id)
            with contextlib.suppress(Exception):
                await contact.ready()
                names.add(contact.name)
            with contextlib.suppress(Exception):
                names.add(await room.alias(contact) or "")
        for name in sorted(filter(None, names), key=len, reverse=True):
            text = patterns.sub(f"@{re.escape(name)}(\u2005|\\s|$)", "", text)
        return text.strip()

    async def _extras(self, msg: Any, kind: Kind, text: str) -> tuple[str, str | None, bytes | None]:
        """Text, url and bytes for the non-text kinds moderation looks at."""
        if kind == Kind.IMAGE:
            box = await msg.to_file_box()
            raw = getattr(box, "base64", None)  # never fetch a remote url: offline by design
            data = base64.b64decode(raw) if raw else None
            if data is not None and len(data) > MAX_IMAGE_BYTES:
                data = None
            return text, getattr(box, "remoteUrl", None), data
        if kind == Kind.LINK:
            link = (await msg.to_url_link()).payload
            return " ".join(filter(None, [link.title, link.description])) or text, link.url or None, None
        # cards and mini-programs carry their identity (contact id, appid) as the url: the group's
        # allow_accounts matches on it, never on a display name anyone can copy
        if kind == Kind.MINI_PROGRAM:
            mp = (await msg.to_mini_program()).payload
            return " ".join(filter(None, [mp.title, mp.description])) or text, mp.appid or mp.username or None, None
        if kind == Kind.CONTACT_CARD:
            card = await msg.to_contact()
            return card.name or card.contact_id, card.contact_id, None
        if kind == Kind.FILE:
            return msg.payload.filename or text, None, None
        return text, None, None

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
            info = _info(room)
            if not self._concerns_us(info):
                return None
            members = []
            for contact_id in ids:
                if contact_id == self.self_id:
                    continue
                contact = self._bot.Contact.load(contact_id)
                with contextlib.suppress(Exception):
                    await contact.ready()
                members.append(Member(contact_id, scrub(contact.name) if contact.is_ready() else ""))
        ts = _date(timestamp)
        hand_on = self.runner.joined if joined else self.runner.left

        def submit() -> None:  # in stream order, like messages: whose room it is is decided now
            group_id = self._group_for(info)
            if group_id is None:
                return
            for m in members:
                log.info("%s %s %s", m.name or m.id, "joined" if joined else "left", group_id)
                hand_on(group_id, m, ts)

        return submit

    # ---- Action -> wechaty ---------------------------------------------------------------------------
    async def perform(self, action: Action) -> None:
        """Carry out one action; after a dropped connection, wait for the next session and retry once."""
        for attempt in (1, 2):
            await asyncio.wait_for(self._online.wait(), self.send_timeout_s)
            try:
                await asyncio.wait_for(self._perform(action), self.send_timeout_s)
                return
            except (OSError, ConnectionError, asyncio.TimeoutError, _stream_errors()) as exc:
                if attempt == 2:
                    raise
                log.info("sending failed (%s); retrying after reconnect", str(exc) or type(exc).__name__)
                await asyncio.sleep(0.05)

    async def _mentionable(self, contact_id: str) -> bool:
        """WeChat writes "@<display name>" into the post: a name that advertises (a link, handle, @all,
        number; agent.quoting) is not mentioned, or the bot would post the member's advert itself."""
        contact = self._bot.Contact.load(contact_id)
        with contextlib.suppress(Exception):
            await contact.ready()
        return quoting.contact_free(contact.name if contact.is_ready() else "")

    async def _perform(self, action: Action) -> None:
        from wechaty_puppet import FileBox

        bot = self._bot
        if isinstance(action, Say):
            room = bot.Room.load(self._room_id(action.group_id))
            mentions = [c for c in action.mentions if await self._mentionable(c)]
            await room.say(action.text, mention_ids=mentions or None)
        elif isinstance(action, Whisper):
            contact = bot.Contact.load(action.contact_id)
            await contact.ready()
            await contact.say(action.text)
        elif isinstance(action, SendImage):
            box = FileBox.from_file(action.path)
            if action.group_id:
                await bot.Room.load(self._room_id(action.group_id)).say(box)
            else:
                await bot.Contact.load(action.contact_id).say(box)
        elif isinstance(action, Kick):
            room = bot.Room.load(self._room_id(action.group_id))
            await room.delete(bot.Contact.load(action.contact_id))
            log.info("removed %s from %s", action.contact_id, action.group_id)
        else:
            raise TypeError(f"unknown action {action!r}")

    def _room_id(self, group_id: str) -> str:
        room_id = self.rooms.room_of(group_id)
        if room_id is None:
            raise LookupError(f"group {group_id} has no bound room yet: an owner says /bind in it, "
                              "or run `steward rooms --bind`")
        return room_id


def _info(room: Any) -> RoomInfo:
    p = room.payload
    return RoomInfo(room.room_id, p.topic or "", p.owner_id or "", len(p.member_ids or []))


def _stream_errors() -> tuple[type[BaseException], ...]:
    from grpclib.exceptions import GRPCError, StreamTerminatedError

    return (GRPCError, StreamTerminatedError)


def _date(timestamp: Any) -> datetime:
    """Aware local time, as the other channels give (routes convert to the group's timezone).
    Services send seconds or milliseconds."""
    if not timestamp:
        return datetime.now().astimezone()
    seconds = timestamp / 1000 if timestamp > 10**11 else timestamp
    return datetime.fromtimestamp(seconds).astimezone()
