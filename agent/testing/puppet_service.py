"""The `/wechaty.Puppet/<Method>` gRPC handlers of the loopback puppet service, over its world
(agent.testing.puppet), and a grpclib Server that can drop its connections as a crashed service would."""
from __future__ import annotations

import asyncio
import base64
import json
import time
from typing import TYPE_CHECKING, Any, Awaitable, Callable

from grpclib.const import Cardinality, Handler, Status
from grpclib.exceptions import GRPCError
from grpclib.server import Server, Stream
from wechaty_grpc.wechaty import puppet as pb

from agent.events import Kind
from agent.testing.wire import DROP, NODE_TYPE, Msg, Room, Sent

if TYPE_CHECKING:
    from agent.testing.puppet import LoopbackPuppet


class ResettableServer(Server):
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



class Handlers:
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
            if self.w.refuse.get(name):
                self.w.refuse[name] -= 1
                raise GRPCError(Status[self.w.refuse_status], "refused by the test")
            response = fn(request)
            if asyncio.iscoroutine(response):
                response = await response
            if self.w.answer_delay_s:
                await asyncio.sleep(self.w.answer_delay_s)
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
            while (event := await queue.get()) is not DROP:
                type_, payload = event
                await self.w._answering.wait()
                await stream.send_message(pb.EventResponse(type=type_, payload=json.dumps(payload)))
                if type_ == pb.EventType.EVENT_TYPE_SCAN and payload.get("status") == 2:
                    self.w.scan_shown.set()
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

    def _message(self, message_id: str) -> Msg:
        msg = self.w.messages.get(message_id)
        if msg is None:
            raise GRPCError(Status.NOT_FOUND, f"no message {message_id}")
        return msg

    def message_payload(self, r: pb.MessagePayloadRequest) -> pb.MessagePayloadResponse:
        m = self._message(r.id)
        return pb.MessagePayloadResponse(id=m.id, filename=m.filename, text=m.text, timestamp=m.ts, type=m.type,
                                         from_id=m.from_id, room_id=m.room_id, to_id=m.to_id,
                                         mention_ids=list(m.mentions))

    def _filebox(self, m: Msg) -> str:
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
