"""Which group a WeChat room's event belongs to, as the channel sees rooms go by: the bound room only
(agent.channels.binding), a same-topic room reported to the group's owners once, `/bind` from a
configured owner, and who may speak to the bot privately as an owner."""
from __future__ import annotations

import contextlib
import logging
from typing import Any, Callable

from agent.channels.binding import RoomBook, RoomInfo
from agent.commands.parse import parse
from agent.events import Message, Role, Whisper
from agent.llm.prompts import Prompts
from agent.settings import GroupConfig
from agent.store import Store

log = logging.getLogger("steward.wechat")


def room_info(room: Any) -> RoomInfo:
    """What a loaded wechaty Room says about itself."""
    p = room.payload
    return RoomInfo(room.room_id, p.topic or "", p.owner_id or "", len(p.member_ids or []))


class RoomRouter:
    """Rooms to groups for one account. `notify` sends whispers to owners (the Runner's)."""

    def __init__(self, groups: dict[str, GroupConfig], store: Store, prompts: Prompts,
                 notify: Callable[[list[Whisper]], None]):
        self.groups = groups
        self.book = RoomBook(groups, store)
        self.prompts = prompts
        self.notify = notify
        self._room_owner: dict[str, str] = {}  # bound room id -> the room's WeChat owner, as last seen
        self._unmanaged: set[str] = set()
        for g in groups.values():
            if not g.room_id and not g.topic:
                log.warning("group %s has neither room_id nor topic in its config: no room can be bound to it",
                            g.id)

    def bound(self) -> dict[str, str]:
        return self.book.bound()

    def room_of(self, group_id: str) -> str | None:
        return self.book.room_of(group_id)

    def room_id(self, group_id: str) -> str:
        """The room to send a group's posts to; an unbound group cannot be posted to."""
        room_id = self.book.room_of(group_id)
        if room_id is None:
            raise LookupError(f"group {group_id} has no bound room yet: an owner says /bind in it, "
                              "or run `steward rooms --bind`")
        return room_id

    async def survey(self, bot: Any) -> None:
        """Look at every room once at login, so the owners hear of same-topic rooms before anyone talks."""
        if not any(g.topic for g in self.groups.values()):
            return
        try:
            room_ids = await bot.puppet.room_search()
        except Exception as exc:
            log.warning("could not list rooms to look for the groups' topics: %s", exc)
            return
        for room_id in room_ids:
            with contextlib.suppress(Exception):
                room = bot.Room.load(room_id)
                await room.ready()
                self.group_for(room_info(room))

    def concerns_us(self, room: RoomInfo) -> bool:
        """Bound to a group, or carrying a group's topic (to be bound, or reported). Other rooms' events
        are not even loaded."""
        if self.book.group_of(room.room_id) or self.book.candidate(room.topic):
            return True
        if room.room_id not in self._unmanaged:
            self._unmanaged.add(room.room_id)
            log.info("ignoring room %r (%s): not a configured group", room.topic, room.room_id)
        return False

    def group_for(self, room: RoomInfo) -> str | None:
        """The group bound to this room. A room that only carries a group's topic is not that group:
        it is reported to the group's owners once and otherwise ignored."""
        group_id = self.book.group_of(room.room_id)
        if group_id is not None:
            if room.owner_id:
                self._room_owner[room.room_id] = room.owner_id
            return group_id
        group = self.book.candidate(room.topic)
        if group is not None and self.book.first_report(group.id, room):
            self._report(group, room)
        return None

    def _report(self, group: GroupConfig, room: RoomInfo) -> None:
        bound = self.book.room_of(group.id)
        name = "room_ignored" if bound else "room_unbound"
        text = self.prompts.render(name, group.language, group=group.name or group.id, topic=room.topic,
                                   room=room.room_id, owner=room.owner_id or "?", members=room.members)
        log.warning("room %s has the topic of group %s but %s; owners told", room.room_id, group.id,
                    f"the group is bound to {bound}" if bound else "the group is not bound yet")
        self.notify([Whisper(o.id, text) for o in group.owners])

    def bind_from_chat(self, room: RoomInfo, message: Message) -> str | None:
        """`/bind` said in an unbound room with a group's topic, by one of that group's configured
        owners (contact id), makes it the group's room. Nobody else's /bind does anything."""
        group = self.book.candidate(room.topic)
        if group is None or self.book.room_of(group.id) or group.role_of(message.sender.id) != Role.OWNER:
            return None
        parsed = parse(message, group)
        if parsed is None or parsed.spec.name != "bind":
            return None
        self.book.bind(group.id, room.room_id, by=message.sender.id)
        return group.id

    def owned_groups(self, contact_id: str) -> list[str]:
        """Managed groups where this contact is a configured owner/admin, or the WeChat owner of the
        group's bound room where the group's config trusts that."""
        return [g.id for g in self.groups.values()
                if g.role_of(contact_id) != Role.MEMBER
                or (g.trust_room_owner and self._room_owner.get(self.book.room_of(g.id) or "") == contact_id)]
