"""Drafts and posts in the bot's SQLite file, so a restart resumes the review queue and never posts
the same slot twice.

A draft is one (group, schedule, slot): UNIQUE, so a slot is drafted once however many ticks or
processes see it. A one-off added from chat is a draft too (schedule id "chat:<message id>", its text
approved by the owner who wrote it), so /schedule list, /skip and cancel speak of one kind of id.
A post is one (target group, draft): UNIQUE, and claimed in the same transaction that decides to send
it. UNIQUE(group, slot) would also do that, but would silently drop a second schedule that shares a
slot with the first in the same group.
"""
from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timezone

from agent.store import Store

_TABLES = (
    """CREATE TABLE IF NOT EXISTS drafts (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        group_id TEXT NOT NULL,
        schedule_id TEXT NOT NULL,
        slot TEXT NOT NULL,         -- the schedule's slot, UTC ISO
        post_at TEXT NOT NULL,      -- when to post, UTC ISO: the slot, unless an owner moved it
        text TEXT NOT NULL,
        sources TEXT NOT NULL DEFAULT '[]',
        targets TEXT NOT NULL,      -- group ids to post to, home group first
        status TEXT NOT NULL,       -- pending | approved | rejected | skipped | posted | missed
        editor TEXT,                -- who approved, edited or skipped it ("auto" for auto approval)
        told TEXT,                  -- what owners were last told about it at its slot: due | missed
        created TEXT NOT NULL,
        updated TEXT NOT NULL,
        UNIQUE (group_id, schedule_id, slot)
    )""",
    """CREATE TABLE IF NOT EXISTS posts (
        group_id TEXT NOT NULL,
        draft_id INTEGER NOT NULL REFERENCES drafts (id),
        slot TEXT NOT NULL,
        status TEXT NOT NULL,       -- sent | missed
        ts TEXT NOT NULL,
        UNIQUE (group_id, draft_id)
    )""",
    "CREATE INDEX IF NOT EXISTS drafts_due ON drafts (status, post_at)",
)
OPEN = ("pending", "approved")  # drafts that may still be posted


def utc(ts: datetime) -> str:
    """One text form for every stored time, so SQL can compare them as strings."""
    return ts.astimezone(timezone.utc).isoformat(timespec="seconds")


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
    def of(cls, row: sqlite3.Row) -> Draft:
        return cls(row["id"], row["group_id"], row["schedule_id"], datetime.fromisoformat(row["slot"]),
                   datetime.fromisoformat(row["post_at"]), row["text"], json.loads(row["sources"]),
                   json.loads(row["targets"]), row["status"], row["editor"], row["told"])

    @property
    def from_chat(self) -> bool:
        return self.schedule_id.startswith("chat:")


class ScheduleStore:
    def __init__(self, store: Store):
        self.store = store
        with store.tx() as db:
            for sql in _TABLES:
                db.execute(sql)

    def add(self, group_id: str, schedule_id: str, slot: datetime, text: str, sources: list[str],
            targets: list[str], status: str, editor: str | None, now: datetime,
            post_at: datetime | None = None) -> int | None:
        """A new draft's id; None when this (group, schedule, slot) already has one."""
        with self.store.tx() as db:
            cur = db.execute(
                "INSERT OR IGNORE INTO drafts (group_id, schedule_id, slot, post_at, text, sources, targets, "
                "status, editor, created, updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (group_id, schedule_id, utc(slot), utc(post_at or slot), text,
                 json.dumps(sources, ensure_ascii=False), json.dumps(targets), status, editor, utc(now), utc(now)))
            return int(cur.lastrowid) if cur.rowcount == 1 else None

    def get(self, draft_id: int) -> Draft | None:
        rows = self.store.query("SELECT * FROM drafts WHERE id = ?", (draft_id,))
        return Draft.of(rows[0]) if rows else None

    def last_slot(self, group_id: str, schedule_id: str, before: datetime) -> datetime | None:
        """The latest drafted slot up to `before` (later ones may be owners' cancellations ahead)."""
        rows = self.store.query("SELECT MAX(slot) AS s FROM drafts WHERE group_id = ? AND schedule_id = ? AND slot <= ?",
                                (group_id, schedule_id, utc(before)))
        return datetime.fromisoformat(rows[0]["s"]) if rows and rows[0]["s"] else None

    def has(self, group_id: str, schedule_id: str, slot: datetime) -> bool:
        return bool(self.store.query("SELECT 1 FROM drafts WHERE group_id = ? AND schedule_id = ? AND slot = ?",
                                     (group_id, schedule_id, utc(slot))))

    def open_drafts(self, group_id: str | None = None, due_by: datetime | None = None) -> list[Draft]:
        """Pending and approved drafts, by post time; of one group and/or due by a time."""
        sql, params = "SELECT * FROM drafts WHERE status IN ('pending', 'approved')", []
        if group_id is not None:
            sql, params = sql + " AND group_id = ?", [*params, group_id]
        if due_by is not None:
            sql, params = sql + " AND post_at <= ?", [*params, utc(due_by)]
        return [Draft.of(r) for r in self.store.query(sql + " ORDER BY post_at, id", tuple(params))]

    def recent_sources(self, group_id: str, schedule_id: str, n: int = 20) -> list[list[str]]:
        """Sources of the schedule's last drafts, newest first (for rotating the tip of the week)."""
        rows = self.store.query("SELECT sources FROM drafts WHERE group_id = ? AND schedule_id = ? "
                                "ORDER BY slot DESC LIMIT ?", (group_id, schedule_id, n))
        return [json.loads(r["sources"]) for r in rows]

    def update(self, draft_id: int, now: datetime, *, expect: tuple[str, ...] = OPEN, **fields) -> bool:
        """Change a draft only while its status is one of `expect` (compare-and-set: a skip and a
        post racing each other cannot both win). Fields: status, text, editor, told, post_at."""
        if "post_at" in fields:
            fields["post_at"] = utc(fields["post_at"])
        sets = ", ".join(f"{k} = ?" for k in fields)
        marks = ", ".join("?" for _ in expect)
        with self.store.tx() as db:
            cur = db.execute(f"UPDATE drafts SET {sets}, updated = ? WHERE id = ? AND status IN ({marks})",
                             (*fields.values(), utc(now), draft_id, *expect))
            return cur.rowcount == 1

    # ---- posts ----
    def posts(self, draft_id: int) -> dict[str, sqlite3.Row]:
        """target group id → its post row (sent or missed) for this draft."""
        return {r["group_id"]: r for r in self.store.query("SELECT * FROM posts WHERE draft_id = ?", (draft_id,))}

    def claim(self, draft: Draft, group_id: str, status: str, now: datetime) -> bool:
        """Record the post to `group_id` before it is sent; False if it already was, or the draft is
        no longer approved. At most once: a crash between this and the send loses the post rather
        than doubling it, because a doubled broadcast is the worse failure for an owner."""
        with self.store.tx() as db:
            if db.execute("SELECT status FROM drafts WHERE id = ?", (draft.id,)).fetchone()["status"] != "approved":
                return False
            cur = db.execute("INSERT OR IGNORE INTO posts (group_id, draft_id, slot, status, ts) VALUES (?, ?, ?, ?, ?)",
                             (group_id, draft.id, utc(draft.slot), status, utc(now)))
            return cur.rowcount == 1
