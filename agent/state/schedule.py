"""Drafts and posts, so a restart resumes the review queue and never posts the same slot twice.

A draft is one (group, schedule, slot): unique, so a slot is drafted once however many ticks or
processes see it. A one-off added from chat is a draft too (schedule id "chat:<message id>", its text
approved by the owner who wrote it), so /schedule list, /skip and cancel speak of one kind of id.
A post is one (target group, draft): its primary key, claimed in the same transaction that decides to
send it. Unique (group, slot) would also do that, but would silently drop a second schedule that shares
a slot with the first in the same group.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from agent.events import Action
from agent.state import outbox
from agent.state.store import Store
from agent.state.tables import drafts as d, posts as p

OPEN = ("pending", "approved")  # drafts that may still be posted
FIELDS = {"status", "text", "editor", "told", "post_at"}  # what `update` may change


@dataclass(frozen=True)
class Draft:
    id: int
    group_id: str
    schedule_id: str
    slot: datetime
    post_at: datetime
    text: str
    sources: list[str]
    targets: list[str]
    status: str
    editor: str | None
    told: str | None

    @classmethod
    def of(cls, row: sa.RowMapping) -> Draft:
        return cls(row["id"], row["group_id"], row["schedule_id"], row["slot"], row["post_at"], row["text"],
                   json.loads(row["sources"]), json.loads(row["targets"]), row["status"], row["editor"], row["told"])

    @property
    def from_chat(self) -> bool:
        return self.schedule_id.startswith("chat:")


class ScheduleStore:
    def __init__(self, store: Store):
        self.store = store

    def add(self, group_id: str, schedule_id: str, slot: datetime, text: str, sources: list[str],
            targets: list[str], status: str, editor: str | None, now: datetime,
            post_at: datetime | None = None) -> int | None:
        """A new draft's id; None when this (group, schedule, slot) already has one."""
        statement = self.store.insert(d).values(
            group_id=group_id, schedule_id=schedule_id, slot=slot, post_at=post_at or slot, text=text,
            sources=json.dumps(sources, ensure_ascii=False), targets=json.dumps(targets), status=status,
            editor=editor, created=now, updated=now).on_conflict_do_nothing().returning(d.c.id)
        with self.store.transaction() as conn:
            made = conn.execute(statement).scalar()
        return None if made is None else int(made)

    def get(self, draft_id: int) -> Draft | None:
        rows = self.store.rows(sa.select(d).where(d.c.id == draft_id))
        return Draft.of(rows[0]) if rows else None

    def last_slot(self, group_id: str, schedule_id: str, before: datetime) -> datetime | None:
        """The latest drafted slot up to `before` (later ones may be owners' cancellations ahead)."""
        rows = self.store.rows(sa.select(sa.func.max(d.c.slot).label("s")).where(
            d.c.group_id == group_id, d.c.schedule_id == schedule_id, d.c.slot <= before))
        return rows[0]["s"] if rows else None

    def has(self, group_id: str, schedule_id: str, slot: datetime) -> bool:
        return bool(self.store.rows(sa.select(d.c.id).where(d.c.group_id == group_id, d.c.schedule_id == schedule_id,
                                                            d.c.slot == slot)))

    def open_drafts(self, group_id: str | None = None, due_by: datetime | None = None) -> list[Draft]:
        """Pending and approved drafts, by post time; of one group and/or due by a time."""
        query = sa.select(d).where(d.c.status.in_(OPEN))
        if group_id is not None:
            query = query.where(d.c.group_id == group_id)
        if due_by is not None:
            query = query.where(d.c.post_at <= due_by)
        return [Draft.of(r) for r in self.store.rows(query.order_by(d.c.post_at, d.c.id))]

    def recent_sources(self, group_id: str, schedule_id: str, n: int = 20) -> list[list[str]]:
        """Sources of the schedule's last drafts, newest first (for rotating the tip of the week)."""
        rows = self.store.rows(sa.select(d.c.sources).where(d.c.group_id == group_id, d.c.schedule_id == schedule_id)
                               .order_by(d.c.slot.desc()).limit(n))
        return [json.loads(r["sources"]) for r in rows]

    def update(self, draft_id: int, now: datetime, *, expect: tuple[str, ...] = OPEN, **fields) -> bool:
        """Change a draft only while its status is one of `expect` (compare-and-set: a skip and a
        post racing each other cannot both win). Fields: status, text, editor, told, post_at."""
        if unknown := set(fields) - FIELDS:
            raise ValueError(f"a draft has no field {sorted(unknown)}")
        with self.store.transaction() as conn:
            done = conn.execute(d.update().where(d.c.id == draft_id, d.c.status.in_(expect))
                                .values(**fields, updated=now))
            return done.rowcount == 1

    # ---- posts ----
    def posts(self, draft_id: int) -> dict[str, sa.RowMapping]:
        """target group id → its post row (sent or missed) for this draft."""
        return {r["group_id"]: r for r in self.store.rows(sa.select(p).where(p.c.draft_id == draft_id))}

    def claim(self, draft: Draft, group_id: str, status: str, now: datetime, send: Action | None = None) -> bool:
        """Record the post to `group_id` before it is sent; False if it already was, the draft is no
        longer approved, or (PostgreSQL) another process is claiming it right now. `send`, the post
        itself, goes into the outbox in the same transaction, so a crash between this and the send has
        the restarted runner send it (agent.state.outbox), once."""
        approved = sa.select(d.c.status).where(d.c.id == draft.id)
        if self.store.dialect == "postgresql":
            # another process claiming this draft holds its row: skip it rather than queue behind it
            # (False here; the next tick looks again); an owner's skip waits for the claim, or wins first
            approved = approved.with_for_update(skip_locked=True)
        with self.store.transaction() as conn:
            if conn.execute(approved).scalar() != "approved":
                return False
            claim = self.store.insert(p).values(group_id=group_id, draft_id=draft.id, slot=draft.slot, status=status,
                                                ts=now).on_conflict_do_nothing().returning(p.c.draft_id)
            if conn.execute(claim).scalar() is None:
                return False
            if send is not None:
                outbox.add(self.store, conn, outbox.key_of_post(draft.id, group_id), send, now)
            return True
