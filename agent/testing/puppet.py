"""A Wechaty puppet service on 127.0.0.1, in Python, for tests, benchmarks and `steward sim`.

It speaks the same gRPC protocol (`/wechaty.Puppet/<Method>`, wechaty-grpc's betterproto types over
grpclib) as a real puppet service, so the real python-wechaty client talks to it unchanged. It holds a
small world built from group configs — rooms, contacts, owners, members, the bot's own account — and
gives the driver what WeChat cannot: inject a room message, a private message, a join or a leave,
redeliver a message, drop the event stream or the whole server, and read back everything the bot
did (texts with mentions, private messages, files, kicks) with monotonic timestamps.

It does not import wechaty (only the protocol package), so the channel's import rule holds. The data it
holds is in agent.testing.wire, its gRPC handlers in agent.testing.puppet_service.
"""
from __future__ import annotations

import asyncio
import contextlib
import errno
import socket
import threading
import time
from typing import Any, Callable

from wechaty_grpc.wechaty import puppet as pb

from agent.events import Kind
from agent.settings import GroupConfig
from agent.testing.puppet_service import Handlers, ResettableServer
from agent.testing.wire import AT_SEP, DROP, NODE_TYPE, Contact, Msg, Room, Sent

RECALLED = 13  # Node wechaty-puppet's MessageType.Recalled, as on the wire
REBIND_TRIES = 40  # a restart waits up to 2 s for its old port (free ports are ephemeral ones: a client may hold one)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]



class LoopbackPuppet:
    """The service plus its world. `await start()` returns the endpoint to give the client."""

    def __init__(self, groups: list[GroupConfig] | GroupConfig = (), *, bot_id: str = "bot",
                 bot_name: str = "小助手", token: str = "loopback", echo_self: bool = True,
                 logged_in: bool = True):
        self.bot_id = bot_id
        self.token = token
        # False: the account waits for a QR scan (each event stream first gets a scan event with
        # `qrcode`) until the driver calls `confirm_scan()`
        self.logged_in = logged_in
        self.qrcode = f"https://login.weixin.qq.com/l/loopback-{bot_id}"
        self.echo_self = echo_self  # real services also report the bot's own sends as messages
        self.contacts: dict[str, Contact] = {bot_id: Contact(bot_id, bot_name)}
        self.rooms: dict[str, Room] = {}
        self.messages: dict[str, Msg] = {}
        self.sent: list[Sent] = []
        self.calls: dict[str, int] = {}
        self.connects = 0  # event streams opened (1 + reconnects)
        self.port = 0
        self._server: ResettableServer | None = None
        self._streams: list[asyncio.Queue] = []
        self._backlog: list[tuple[int, dict]] = []
        self._seq = 0
        self._changed: asyncio.Condition | None = None
        self._answering: asyncio.Event | None = None
        self.answer_delay_s = 0.0  # carry out each call, then hold its answer this long (a lost reply)
        self.refuse: dict[str, int] = {}  # call name → how many of its next calls fail, not carried out
        self.refuse_status = "UNAVAILABLE"  # the gRPC status they fail with
        self.connected_at: list[float] = []
        # set once a client has been sent the QR code to scan (status 2): a driver scans after it, from
        # any thread, instead of sleeping until the client is probably listening
        self.scan_shown = threading.Event()
        for group in [groups] if isinstance(groups, GroupConfig) else list(groups):
            self.add_group(group)

    # ---- the world ----
    def add_contact(self, contact_id: str, name: str = "") -> None:
        self.contacts.setdefault(contact_id, Contact(contact_id, name or contact_id))

    def add_room(self, room_id: str, topic: str, owner_id: str, member_ids: list[str]) -> Room:
        for cid in [owner_id, *member_ids]:
            self.add_contact(cid)
        members = list(dict.fromkeys([owner_id, *member_ids, self.bot_id]))
        room = self.rooms[room_id] = Room(room_id, topic, owner_id, members)
        return room

    def add_group(self, group: GroupConfig, room_id: str | None = None) -> Room:
        """A room for a configured group: its first owner owns it; owners, admins, members are in it."""
        for p in [*group.owners, *group.admins, *group.members]:
            self.add_contact(p.id, p.name)
        owner = group.owners[0].id if group.owners else self.bot_id
        ids = [p.id for p in [*group.owners, *group.admins, *group.members]]
        return self.add_room(room_id or group.room_id or f"room-{group.id}", group.topic or group.name or group.id,
                             owner, ids)

    # ---- server life ----
    async def start(self, port: int | None = None) -> str:
        self.port = port or self.port or free_port()
        self._changed = asyncio.Condition()
        self._answering = asyncio.Event()
        self._answering.set()
        self._server = ResettableServer([Handlers(self)])
        for attempt in range(REBIND_TRIES):
            try:
                await self._server.start("127.0.0.1", self.port)
                break
            except OSError as exc:  # back on its old port after a restart: an outgoing connection elsewhere
                if exc.errno != errno.EADDRINUSE or attempt == REBIND_TRIES - 1:  # may hold it a moment
                    raise
                await asyncio.sleep(0.05)
        return self.endpoint

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.port}"

    async def close(self) -> None:
        self.drop_stream()
        if self._server is not None:
            self._server.close()
            self._server.reset()
            await self._server.wait_closed()
            self._server = None

    def drop_stream(self) -> None:
        """End every open event stream (the client sees its stream finish, as when a service restarts)."""
        for queue in self._streams:
            queue.put_nowait(DROP)
        self._streams.clear()

    def stall(self) -> None:
        """Stop answering calls and sending events while keeping connections open (a half-open link)."""
        assert self._answering is not None, "start() first"
        self._answering.clear()

    def resume(self) -> None:
        """Answer again after `stall`."""
        assert self._answering is not None, "start() first"
        self._answering.set()

    async def restart(self, down_s: float = 0.2) -> None:
        """Take the whole service down for `down_s` (connections reset, port closed), then bring it back."""
        await self.close()
        await asyncio.sleep(down_s)
        await self.start(self.port)

    # ---- driving ----
    def _next_id(self, prefix: str) -> str:
        self._seq += 1
        return f"{prefix}{self._seq}"

    def room_of(self, group: GroupConfig | str) -> str:
        if isinstance(group, GroupConfig):
            return group.room_id or f"room-{group.id}"
        return group if group in self.rooms else f"room-{group}"

    def say(self, room: GroupConfig | str, sender_id: str, text: str = "", *, mentions: tuple[str, ...] = (),
            kind: Kind = Kind.TEXT, message_id: str | None = None, url: str = "", title: str = "",
            filename: str = "", data: bytes = b"", card_id: str = "", ts: float | None = None) -> str:
        """Inject a room message. Mentions are contact ids; "@name" is prefixed to the text as WeChat does."""
        room_id = self.room_of(room)
        if mentions:
            text = "".join(f"@{self.contacts[c].name if c in self.contacts else c}{AT_SEP}" for c in mentions) + text
        return self._inject(Msg(message_id or self._next_id("m"), sender_id, room_id, "", text, NODE_TYPE[kind],
                                 int((ts or time.time()) * 1000), list(mentions), filename, url, title, card_id,
                                 data))

    def confirm_scan(self) -> None:
        """The owner scanned the QR code and confirmed on the phone: the account logs in."""
        self._emit(pb.EventType.EVENT_TYPE_SCAN, {"status": 3, "qrcode": self.qrcode})
        self.logged_in = True
        self._emit(pb.EventType.EVENT_TYPE_LOGIN, {"contactId": self.bot_id})
        self._emit(pb.EventType.EVENT_TYPE_READY, {"data": "ready"})

    def whisper(self, sender_id: str, text: str, *, message_id: str | None = None) -> str:
        """Inject a private message from `sender_id` to the bot."""
        return self._inject(Msg(message_id or self._next_id("m"), sender_id, "", self.bot_id, text,
                                 NODE_TYPE[Kind.TEXT], int(time.time() * 1000), []))

    def recall(self, room: GroupConfig | str, sender_id: str, message_id: str) -> str:
        """The sender takes back `message_id`: a Recalled message (Node type 13) whose text is that id,
        as services report a recall."""
        return self._inject(Msg(self._next_id("m"), sender_id, self.room_of(room), "", message_id, RECALLED,
                                 int(time.time() * 1000), []))

    def redeliver(self, message_id: str) -> None:
        """Report an already delivered message again, as services do after a reconnect."""
        self._emit(pb.EventType.EVENT_TYPE_MESSAGE, {"messageId": message_id})

    def join(self, room: GroupConfig | str, contact_id: str, name: str = "", inviter_id: str | None = None) -> None:
        r = self.rooms[self.room_of(room)]
        self.add_contact(contact_id, name)
        if contact_id not in r.member_ids:
            r.member_ids.append(contact_id)
        self._emit(pb.EventType.EVENT_TYPE_ROOM_JOIN, {
            "inviteeIdList": [contact_id], "inviterId": inviter_id or r.owner_id, "roomId": r.id,
            "timestamp": int(time.time() * 1000)})

    def leave(self, room: GroupConfig | str, contact_id: str, remover_id: str | None = None) -> None:
        r = self.rooms[self.room_of(room)]
        if contact_id in r.member_ids:
            r.member_ids.remove(contact_id)
        self._emit(pb.EventType.EVENT_TYPE_ROOM_LEAVE, {
            "removeeIdList": [contact_id], "removerId": remover_id or contact_id, "roomId": r.id,
            "timestamp": int(time.time() * 1000)})

    def _inject(self, msg: Msg) -> str:
        self.messages[msg.id] = msg
        self._emit(pb.EventType.EVENT_TYPE_MESSAGE, {"messageId": msg.id})
        return msg.id

    def _emit(self, type_: pb.EventType, payload: dict) -> None:
        event = (int(type_), payload)
        if not self._streams:  # nobody listening: keep it for the next stream, like a service's queue
            self._backlog.append(event)
        for queue in self._streams:
            queue.put_nowait(event)

    # ---- observing ----
    def texts(self, room: GroupConfig | str | None = None) -> list[Sent]:
        room_id = self.room_of(room) if room is not None else None
        return [s for s in self.sent if s.kind == "text" and s.room_id is not None
                and (room_id is None or s.room_id == room_id)]

    def private(self, contact_id: str | None = None) -> list[Sent]:
        return [s for s in self.sent if s.room_id is None and (contact_id is None or s.to_id == contact_id)]

    def kicks(self) -> list[Sent]:
        return [s for s in self.sent if s.kind == "kick"]

    def files(self) -> list[Sent]:
        return [s for s in self.sent if s.kind == "file"]

    async def wait_for(self, predicate: Callable[[], Any], timeout: float = 5.0) -> Any:
        """Wait until `predicate()` is truthy: re-checked whenever the service records something, and
        every 20 ms for state outside the service (a pipeline's decisions)."""
        assert self._changed is not None, "start() first"

        async def until() -> Any:
            async with self._changed:
                while not (result := predicate()):
                    with contextlib.suppress(asyncio.TimeoutError):
                        await asyncio.wait_for(self._changed.wait(), 0.02)
                return result

        return await asyncio.wait_for(until(), timeout)

    async def _record(self, sent: Sent) -> None:
        self.sent.append(sent)
        await self._touch()

    async def _touch(self) -> None:
        assert self._changed is not None
        async with self._changed:
            self._changed.notify_all()

    def _outgoing(self, conversation_id: str, text: str, type_: int, mentions: list[str]) -> str:
        room_id = conversation_id if conversation_id in self.rooms else ""
        msg = Msg(self._next_id("sent"), self.bot_id, room_id, "" if room_id else conversation_id, text, type_,
                   int(time.time() * 1000), mentions)
        self.messages[msg.id] = msg
        if self.echo_self:
            self._emit(pb.EventType.EVENT_TYPE_MESSAGE, {"messageId": msg.id})
        return msg.id
