"""wechaty's messages as the platform-neutral Message the pipeline reads: kind, text without the
mentions' "@name", a quoted reply split off, the url or bytes moderation looks at, an aware time."""
from __future__ import annotations

import base64
import contextlib
import logging
import re
from datetime import datetime
from typing import Any

from agent import patterns
from agent.channels.binding import RoomInfo
from agent.channels.wechaty_rooms import RoomRouter, room_info
from agent.events import Kind, Member, Message, Recall, Role

log = logging.getLogger("steward.wechat")

MAX_IMAGE_BYTES = 5 * 1024 * 1024  # larger images are passed on without bytes (moderation sees the kind)
# A quoted reply as WeChat puppets render it in the text: 「name：quoted」, a dashed line, the reply.
_QUOTE = patterns.compile(r"^「(?:[^：:\n]{1,64}[：:])?(?P<quote>.*?)」\n(?:- ?){3,}-?\n(?P<text>.*)$", re.S)


def kind_table() -> dict[Any, Kind]:
    from wechaty_puppet import MessageType as T

    return {
        T.MESSAGE_TYPE_TEXT: Kind.TEXT, T.MESSAGE_TYPE_IMAGE: Kind.IMAGE, T.MESSAGE_TYPE_URL: Kind.LINK,
        T.MESSAGE_TYPE_MINI_PROGRAM: Kind.MINI_PROGRAM, T.MESSAGE_TYPE_CONTACT: Kind.CONTACT_CARD,
        T.MESSAGE_TYPE_ATTACHMENT: Kind.FILE, T.MESSAGE_TYPE_RED_ENVELOPE: Kind.RED_PACKET,
        T.MESSAGE_TYPE_TRANSFER: Kind.RED_PACKET,  # money either way, for moderation
        T.MESSAGE_TYPE_EMOTICON: Kind.EMOJI, T.MESSAGE_TYPE_AUDIO: Kind.VOICE, T.MESSAGE_TYPE_VIDEO: Kind.VIDEO,
    }


class Converter:
    """Converts for one account: who the bot is (set at login) decides what mentions it and what is ours."""

    def __init__(self, rooms: RoomRouter):
        self.rooms = rooms
        self.kinds = kind_table()
        from wechaty_puppet import MessageType

        self.recalled_type = MessageType.MESSAGE_TYPE_RECALLED
        self.self_id: str | None = None
        self.self_name = ""

    async def convert(self, bot: Any, msg: Any) -> tuple[Message, RoomInfo | None] | None:
        """The platform-neutral message, and its room (None in a private chat). A room message's group
        and the sender's role are set when it is handed on (in stream order)."""
        p = msg.payload
        if p.from_id == self.self_id:
            return None  # our own message, reported back by the service
        talker = msg.talker()
        room = msg.room()
        kind = self.kinds.get(msg.type(), Kind.SYSTEM)
        text, quote = p.text or "", None
        mentions = tuple(p.mention_ids or ())
        info = None
        if room is not None:
            info = room_info(room)
            if not self.rooms.concerns_us(info):
                return None
            group_id, role = None, Role.MEMBER
            to_bot = self.self_id in mentions or self._names_bot(text)
            text = await self._strip_mentions(bot, room, text, mentions)
        else:
            owned = self.rooms.owned_groups(p.from_id)
            if not owned:
                log.debug("ignoring a private message from %s: not an owner of a managed group", p.from_id)
                return None
            group_id = owned[0] if len(owned) == 1 else None  # ambiguous: the command route asks which group
            role, to_bot = Role.MEMBER, True  # the pipeline stamps owners by id
        if msg.type() == self.recalled_type:  # its text is the recalled message's id (wechaty's to_recalled)
            recall = Recall(id=msg.message_id, group_id=None, sender=Member(talker.contact_id, talker.name), text="",
                            ts=date(p.timestamp), kind=Kind.SYSTEM, recalled=(p.text or "").strip())
            return (recall, info) if room is not None else None
        if kind == Kind.TEXT and (m := _QUOTE.match(text)):
            text, quote = m.group("text").strip(), m.group("quote")
        url, payload = None, None
        try:
            text, url, payload = await _extras(msg, kind, text)
        except Exception as exc:  # the kind alone is what moderation needs most
            log.info("could not read the %s content of message %s: %s", kind, msg.message_id, exc)
        message = Message(id=msg.message_id, group_id=group_id, sender=Member(talker.contact_id, talker.name, role),
                          text=text, ts=date(p.timestamp), kind=kind, mentions=mentions, to_bot=to_bot,
                          private=room is None, quote=quote, url=url, payload=payload)
        return message, info

    def _names_bot(self, text: str) -> bool:
        """Fallback for services that leave mention ids empty: "@<bot name>" in the text."""
        return bool(self.self_name) and patterns.search(f"@{re.escape(self.self_name)}(\u2005|\\s|$)", text) is not None

    async def _strip_mentions(self, bot: Any, room: Any, text: str, mentions: tuple[str, ...]) -> str:
        """Mentions travel as ids; drop their "@name" from the text so routes read only the words."""
        names = {self.self_name} if self.self_name else set()
        for contact_id in mentions:
            contact = bot.Contact.load(contact_id)
            with contextlib.suppress(Exception):
                await contact.ready()
                names.add(contact.name)
            with contextlib.suppress(Exception):
                names.add(await room.alias(contact) or "")
        for name in sorted(filter(None, names), key=len, reverse=True):
            text = patterns.sub(f"@{re.escape(name)}(\u2005|\\s|$)", "", text)
        return text.strip()


async def _extras(msg: Any, kind: Kind, text: str) -> tuple[str, str | None, bytes | None]:
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


def date(timestamp: Any) -> datetime:
    """Aware local time, as the other channels give (routes convert to the group's timezone).
    Services send seconds or milliseconds."""
    if not timestamp:
        return datetime.now().astimezone()
    seconds = timestamp / 1000 if timestamp > 10**11 else timestamp
    return datetime.fromtimestamp(seconds).astimezone()
