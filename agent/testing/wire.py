"""What the loopback puppet service holds and puts on the wire: its contacts, rooms and messages, and
what the bot did. Shared by the world (agent.testing.puppet) and its gRPC handlers
(agent.testing.puppet_service)."""
from __future__ import annotations

from dataclasses import dataclass, field

from agent.events import Kind

# Node wechaty-puppet numbering, which is what puppet services put on the wire (text = 7).
NODE_TYPE = {
    Kind.FILE: 1, Kind.VOICE: 2, Kind.CONTACT_CARD: 3, Kind.EMOJI: 5, Kind.IMAGE: 6, Kind.TEXT: 7,
    Kind.MINI_PROGRAM: 9, Kind.RED_PACKET: 12, Kind.LINK: 14, Kind.VIDEO: 15, Kind.SYSTEM: 0,
}
AT_SEP = "\u2005"  # WeChat puts this after "@name"

DROP = object()  # put on an event queue: the stream ends


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
class Msg:
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

