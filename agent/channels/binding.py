"""Which WeChat room is which group: bound by id, never guessed from a topic.

Anyone can name a room like a managed group, so a topic only makes a room a *candidate*. A candidate
becomes the group's room when one of the group's configured owners (by contact id) says /bind in it, or
when the operator runs `steward rooms --bind`. The binding is kept in the store, so it survives a
restart; every other room with the topic is ignored and reported to the owners once. A `room_id` in
the group's config is a binding too, and wins over a stored one.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timezone

from agent.settings import GroupConfig
from agent.store import Store

log = logging.getLogger("steward.rooms")

_BOUND = "room_binding:"  # + group id -> {"room_id", "by", "at"}
_SEEN = "room_seen:"  # + group id -> {room id: {"topic", "owner_id", "members", "at", "reported"}}


class BindError(ValueError):
    """A binding that cannot be made; the message says why, in the operator's terms."""


@dataclass(frozen=True)
class RoomInfo:
    """What the channel knows of a WeChat room when it has to decide whose it is."""

    room_id: str
    topic: str
    owner_id: str = ""
    members: int = 0


class RoomBook:
    """Bindings (config, then store) and the same-topic rooms seen for each group.

    Lookups of bound rooms are answered from memory; a room not bound in memory re-reads the store
    first, so a binding made by `steward rooms --bind` while the bot runs takes effect at that room's
    next event."""

    def __init__(self, groups: dict[str, GroupConfig], store: Store):
        self.groups = groups
        self.store = store
        self._bound: dict[str, str] = {}  # group id -> room id
        self.refresh()

    # ---- bindings ----
    def refresh(self) -> None:
        bound = {g.id: g.room_id for g in self.groups.values() if g.room_id}
        claimed = set(bound.values())
        for g in self.groups.values():
            if g.room_id:
                continue
            record = self.store.get(_BOUND + g.id)
            room_id = record.get("room_id") if isinstance(record, dict) else None
            if room_id and room_id not in claimed:
                bound[g.id] = room_id
                claimed.add(room_id)
        self._bound = bound

    def bound(self) -> dict[str, str]:
        """group id -> room id, for every group whose room is known."""
        return dict(self._bound)

    def room_of(self, group_id: str) -> str | None:
        return self._bound.get(group_id)

    def group_of(self, room_id: str) -> str | None:
        """The group bound to this room, if any."""
        found = self._lookup(room_id)
        if found is None:
            self.refresh()
            found = self._lookup(room_id)
        return found

    def _lookup(self, room_id: str) -> str | None:
        return next((gid for gid, rid in self._bound.items() if rid == room_id), None)

    def candidate(self, topic: str) -> GroupConfig | None:
        """The configured group whose topic this is (config guarantees at most one)."""
        if not topic:
            return None
        return next((g for g in self.groups.values() if g.topic == topic), None)

    def bind(self, group_id: str, room_id: str, by: str) -> None:
        """Store `room_id` as the group's room. `by` is the owner's contact id or the tool that did it."""
        group = self.groups.get(group_id)
        if group is None:
            raise BindError(f"no group {group_id!r} in the config")
        if group.room_id:
            raise BindError(f"group {group_id} has room_id {group.room_id} in its config file: change it there")
        other = next((gid for gid, rid in self._bound.items() if rid == room_id and gid != group_id), None)
        if other is not None:
            raise BindError(f"room {room_id} is already the room of group {other}")
        at = datetime.now(timezone.utc).isoformat(timespec="seconds")
        self.store.put(_BOUND + group_id, {"room_id": room_id, "by": by, "at": at})
        self._bound[group_id] = room_id
        log.warning("group %s is now bound to room %s (by %s)", group_id, room_id, by)

    def binding(self, group_id: str) -> dict | None:
        """The stored binding record (who bound it and when), None for config or unbound groups."""
        record = self.store.get(_BOUND + group_id)
        return record if isinstance(record, dict) else None

    # ---- same-topic rooms ----
    def seen(self, group_id: str) -> dict[str, dict]:
        """Rooms seen with the group's topic that are not its room, by room id."""
        rooms = self.store.get(_SEEN + group_id) or {}
        return {rid: r for rid, r in rooms.items() if rid != self._bound.get(group_id)}

    def first_report(self, group_id: str, room: RoomInfo) -> bool:
        """Record a same-topic room that is not the group's room; True the first time, when the owners
        should hear of it (once per room, across restarts)."""
        rooms = self.store.get(_SEEN + group_id) or {}
        entry = rooms.get(room.room_id)
        if entry is not None and entry.get("reported"):
            return False
        rooms[room.room_id] = {"topic": room.topic, "owner_id": room.owner_id, "members": room.members,
                               "at": datetime.now(timezone.utc).isoformat(timespec="seconds"), "reported": True}
        self.store.put(_SEEN + group_id, rooms)
        return True

    def group_seeing(self, room_id: str) -> str | None:
        """The one group that has seen this room with its topic (for `steward rooms --bind ROOM`)."""
        found = [gid for gid in self.groups if room_id in self.seen(gid)]
        return found[0] if len(found) == 1 else None
