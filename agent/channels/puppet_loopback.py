"""A Wechaty puppet service on 127.0.0.1, in Python, for tests, benchmarks and `steward sim`.

It speaks the same gRPC protocol (`/wechaty.Puppet/<Method>`, wechaty-grpc's betterproto types over
grpclib) as a real puppet service, so the real python-wechaty client talks to it unchanged. It holds a
small world built from group configs — rooms, contacts, owners, members, the bot's own account — and
gives the driver what WeChat cannot: inject a room message, a private message, a join or a leave,
redeliver a message, drop the event stream or the whole server, and read back everything the bot
did (texts with mentions, private messages, files, kicks) with monotonic timestamps.

It does not import wechaty (only the protocol package), so the channel's import rule holds.
"""
from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import socket
import time
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable

from grpclib.const import Cardinality, Handler, Status
from grpclib.exceptions import GRPCError
from grpclib.server import Server, Stream
from wechaty_grpc.wechaty import puppet as pb

from agent.events import Kind
from agent.settings import GroupConfig

# Node wechaty-puppet numbering, which is what puppet services put on the wire (text = 7).
NODE_TYPE = {
    Kind.FILE: 1, Kind.VOICE: 2, Kind.CONTACT_CARD: 3, Kind.EMOJI: 5, Kind.IMAGE: 6, Kind.TEXT: 7,
    Kind.MINI_PROGRAM: 9, Kind.RED_PACKET: 12, Kind.LINK: 14, Kind.VIDEO: 15, Kind.SYSTEM: 0,
}
AT_SEP = "\u2005"  # WeChat puts this after "@name"

_DROP = object()


@dataclass
class Contact:
    id: str
    name: str


@dataclass
class Room:
    id: str
    topic: str
    owner_id: str
    member_ids: list[str]
    aliases: dict[str, str] = field(default_factory=dict)


@dataclass
class Sent:
    """One thing the bot did, as the service saw it. `t` is time.monotonic()."""

    kind: str  # text | file | kick
    room_id: str | None  # the room, or None for a private chat
    to_id: str | None  # the contact for a private chat, or the kicked member
    text: str = ""
    mentions: tuple[str, ...] = ()
    file_name: str = ""
    file_bytes: bytes = b""
    t: float = 0.0


@dataclass
class _Msg:
    id: str
    from_id: str
    room_id: str
    to_id: str
    text: str
    type: int
    ts: int
    mentions: list[str]
    filename: str = ""
    url: str = ""
    title: str = ""
    card_id: str = ""
    data: bytes = b""


class _Server(Server):
    """grpclib's Server, able to reset its open connections as a crashed service would
    (its own close() cancels the handlers but leaves the connections open)."""

    def __init__(self, handlers: list) -> None:
        super().__init__(handlers)
        self.transports: list[asyncio.BaseTransport] = []

    def _protocol_factory(self):  # type: ignore[override]
        protocol = super()._protocol_factory()
        made = protocol.connection_made

        def connection_made(transport: asyncio.BaseTransport) -> None:
            self.transports.append(transport)
            made(transport)

        protocol.connection_made = connection_made  # type: ignore[method-assign]
        return protocol

    def reset(self) -> None:
        for transport in self.transports:
            transport.abort()
        self.transports.clear()


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
        self.messages: dict[str, _Msg] = {}
        self.sent: list[Sent] = []
        self.calls: dict[str, int] = {}
        self.connects = 0  # event streams opened (1 + reconnects)
        self.port = 0
        self._server: _Server | None = None
        self._streams: list[asyncio.Queue] = []
        self._backlog: list[tuple[int, dict]] = []
        self._seq = 0
        self._changed: asyncio.Condition | None = None
        self._answering: asyncio.Event | None = None
        self.connected_at: list[float] = []
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
        self._server = _Server([_Handlers(self)])
        await self._server.start("127.0.0.1", self.port)
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
            queue.put_nowait(_DROP)
        self._streams.clear()

    def mute(self) -> None:
        """Stop answering calls and sending events while keeping connections open (a half-open link)."""
        assert self._answering is not None, "start() first"
        self._answering.clear()

    def unmute(self) -> None:
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
        return self._inject(_Msg(message_id or self._next_id("m"), sender_id, room_id, "", text, NODE_TYPE[kind],
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
        return self._inject(_Msg(message_id or self._next_id("m"), sender_id, "", self.bot_id, text,
                                 NODE_TYPE[Kind.TEXT], int(time.time() * 1000), []))

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

    def _inject(self, msg: _Msg) -> str:
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
        msg = _Msg(self._next_id("sent"), self.bot_id, room_id, "" if room_id else conversation_id, text, type_,
                   int(time.time() * 1000), mentions)
        self.messages[msg.id] = msg
        if self.echo_self:
            self._emit(pb.EventType.EVENT_TYPE_MESSAGE, {"messageId": msg.id})
        return msg.id


class _Handlers:
    """The `/wechaty.Puppet/<Method>` handlers the python client calls, over the world above."""

    def __init__(self, world: LoopbackPuppet):
        self.w = world

    def __mapping__(self) -> dict[str, Handler]:
        unary = {
            "Start": (pb.StartRequest, self.start), "Stop": (pb.StopRequest, self.stop),
            "Logout": (pb.LogoutRequest, lambda r: pb.LogoutResponse()),
            "Ding": (pb.DingRequest, self.ding), "Version": (pb.VersionRequest, self.version),
            "DirtyPayload": (pb.DirtyPayloadRequest, lambda r: pb.DirtyPayloadResponse()),
            "ContactPayload": (pb.ContactPayloadRequest, self.contact_payload),
            "ContactList": (pb.ContactListRequest, lambda r: pb.ContactListResponse(ids=list(self.w.contacts))),
            "RoomList": (pb.RoomListRequest, lambda r: pb.RoomListResponse(ids=list(self.w.rooms))),
            "RoomPayload": (pb.RoomPayloadRequest, self.room_payload),
            "RoomMemberList": (pb.RoomMemberListRequest, self.room_member_list),
            "RoomMemberPayload": (pb.RoomMemberPayloadRequest, self.room_member_payload),
            "RoomDel": (pb.RoomDelRequest, self.room_del),
            "MessagePayload": (pb.MessagePayloadRequest, self.message_payload),
            "MessageSendText": (pb.MessageSendTextRequest, self.send_text),
            "MessageSendFile": (pb.MessageSendFileRequest, self.send_file),
            "MessageImage": (pb.MessageImageRequest, self.message_image),
            "MessageFile": (pb.MessageFileRequest, self.message_file),
            "MessageUrl": (pb.MessageUrlRequest, self.message_url),
            "MessageMiniProgram": (pb.MessageMiniProgramRequest, self.message_mini_program),
            "MessageContact": (pb.MessageContactRequest, self.message_contact),
        }
        mapping = {}
        for name, (request_type, fn) in unary.items():
            response_type = getattr(pb, f"{name}Response")
            mapping[f"/wechaty.Puppet/{name}"] = Handler(self._unary(name, fn), Cardinality.UNARY_UNARY,
                                                         request_type, response_type)
        mapping["/wechaty.Puppet/Event"] = Handler(self.event, Cardinality.UNARY_STREAM, pb.EventRequest,
                                                   pb.EventResponse)
        return mapping

    def _unary(self, name: str, fn: Callable[[Any], Any]) -> Callable[[Stream], Awaitable[None]]:
        async def handle(stream: Stream) -> None:
            request = await stream.recv_message()
            await self.w._answering.wait()
            self.w.calls[name] = self.w.calls.get(name, 0) + 1
            response = fn(request)
            if asyncio.iscoroutine(response):
                response = await response
            await stream.send_message(response)
        return handle

    # ---- lifecycle and events ----
    def start(self, r: pb.StartRequest) -> pb.StartResponse:
        return pb.StartResponse()

    def stop(self, r: pb.StopRequest) -> pb.StopResponse:
        return pb.StopResponse()

    def version(self, r: pb.VersionRequest) -> pb.VersionResponse:
        return pb.VersionResponse(version="loopback")

    def ding(self, r: pb.DingRequest) -> pb.DingResponse:
        self.w._emit(pb.EventType.EVENT_TYPE_DONG, {"data": r.data})
        return pb.DingResponse()

    async def event(self, stream: Stream) -> None:
        await stream.recv_message()
        queue: asyncio.Queue = asyncio.Queue()
        if self.w.logged_in:  # as a service whose account stays online across client reconnects
            queue.put_nowait((int(pb.EventType.EVENT_TYPE_LOGIN), {"contactId": self.w.bot_id}))
            queue.put_nowait((int(pb.EventType.EVENT_TYPE_READY), {"data": "ready"}))
        else:  # status 2: waiting for a scan
            queue.put_nowait((int(pb.EventType.EVENT_TYPE_SCAN), {"status": 2, "qrcode": self.w.qrcode}))
        for event in self.w._backlog:
            queue.put_nowait(event)
        self.w._backlog.clear()
        self.w._streams.append(queue)
        self.w.connects += 1
        self.w.connected_at.append(time.monotonic())
        await self.w._touch()
        try:
            while (event := await queue.get()) is not _DROP:
                type_, payload = event
                await self.w._answering.wait()
                await stream.send_message(pb.EventResponse(type=type_, payload=json.dumps(payload)))
        finally:
            if queue in self.w._streams:
                self.w._streams.remove(queue)

    # ---- payloads ----
    def contact_payload(self, r: pb.ContactPayloadRequest) -> pb.ContactPayloadResponse:
        c = self.w.contacts.get(r.id)
        if c is None:
            raise GRPCError(Status.NOT_FOUND, f"no contact {r.id}")
        return pb.ContactPayloadResponse(id=c.id, name=c.name, type=pb.ContactType.CONTACT_TYPE_PERSONAL,
                                         friend=True)

    def _room(self, room_id: str) -> Room:
        room = self.w.rooms.get(room_id)
        if room is None:
            raise GRPCError(Status.NOT_FOUND, f"no room {room_id}")
        return room

    def room_payload(self, r: pb.RoomPayloadRequest) -> pb.RoomPayloadResponse:
        room = self._room(r.id)
        return pb.RoomPayloadResponse(id=room.id, topic=room.topic, owner_id=room.owner_id,
                                      member_ids=list(room.member_ids))

    def room_member_list(self, r: pb.RoomMemberListRequest) -> pb.RoomMemberListResponse:
        return pb.RoomMemberListResponse(member_ids=list(self._room(r.id).member_ids))

    def room_member_payload(self, r: pb.RoomMemberPayloadRequest) -> pb.RoomMemberPayloadResponse:
        room = self._room(r.id)
        c = self.w.contacts.get(r.member_id)
        if c is None or r.member_id not in room.member_ids:
            raise GRPCError(Status.NOT_FOUND, f"{r.member_id} is not in room {r.id}")
        return pb.RoomMemberPayloadResponse(id=c.id, name=c.name, room_alias=room.aliases.get(c.id, ""))

    def _message(self, message_id: str) -> _Msg:
        msg = self.w.messages.get(message_id)
        if msg is None:
            raise GRPCError(Status.NOT_FOUND, f"no message {message_id}")
        return msg

    def message_payload(self, r: pb.MessagePayloadRequest) -> pb.MessagePayloadResponse:
        m = self._message(r.id)
        return pb.MessagePayloadResponse(id=m.id, filename=m.filename, text=m.text, timestamp=m.ts, type=m.type,
                                         from_id=m.from_id, room_id=m.room_id, to_id=m.to_id,
                                         mention_ids=list(m.mentions))

    def _filebox(self, m: _Msg) -> str:
        return json.dumps({"boxType": 1, "name": m.filename or f"{m.id}.jpg",
                           "base64": base64.b64encode(m.data).decode()})

    def message_image(self, r: pb.MessageImageRequest) -> pb.MessageImageResponse:
        return pb.MessageImageResponse(filebox=self._filebox(self._message(r.id)))

    def message_file(self, r: pb.MessageFileRequest) -> pb.MessageFileResponse:
        return pb.MessageFileResponse(filebox=self._filebox(self._message(r.id)))

    def message_url(self, r: pb.MessageUrlRequest) -> pb.MessageUrlResponse:
        m = self._message(r.id)
        return pb.MessageUrlResponse(url_link=json.dumps({"url": m.url, "title": m.title, "description": m.text}))

    def message_mini_program(self, r: pb.MessageMiniProgramRequest) -> pb.MessageMiniProgramResponse:
        m = self._message(r.id)
        return pb.MessageMiniProgramResponse(mini_program=json.dumps(
            {"appid": "wx-loopback", "title": m.title, "pagePath": m.url, "description": m.text}))

    def message_contact(self, r: pb.MessageContactRequest) -> pb.MessageContactResponse:
        return pb.MessageContactResponse(id=self._message(r.id).card_id)

    # ---- what the bot does ----
    async def send_text(self, r: pb.MessageSendTextRequest) -> pb.MessageSendTextResponse:
        in_room = r.conversation_id in self.w.rooms
        await self.w._record(Sent("text", r.conversation_id if in_room else None,
                                  None if in_room else r.conversation_id, r.text, tuple(r.mentonal_ids),
                                  t=time.monotonic()))
        return pb.MessageSendTextResponse(id=self.w._outgoing(r.conversation_id, r.text, NODE_TYPE[Kind.TEXT],
                                                              list(r.mentonal_ids)))

    async def send_file(self, r: pb.MessageSendFileRequest) -> pb.MessageSendFileResponse:
        box = json.loads(r.filebox)
        data = base64.b64decode(box["base64"]) if "base64" in box else b""
        in_room = r.conversation_id in self.w.rooms
        await self.w._record(Sent("file", r.conversation_id if in_room else None,
                                  None if in_room else r.conversation_id, file_name=box.get("name", ""),
                                  file_bytes=data, t=time.monotonic()))
        return pb.MessageSendFileResponse(id=self.w._outgoing(r.conversation_id, "", NODE_TYPE[Kind.FILE], []))

    async def room_del(self, r: pb.RoomDelRequest) -> pb.RoomDelResponse:
        room = self._room(r.id)
        await self.w._record(Sent("kick", room.id, r.contact_id, t=time.monotonic()))
        if r.contact_id in room.member_ids:
            self.w.leave(room.id, r.contact_id, remover_id=self.w.bot_id)
        return pb.RoomDelResponse()
