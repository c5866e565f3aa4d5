"""The recent transcript a catch-up summary is written from: group messages with the pipeline's
verdict on each, kept for `summary.keep_hours` and then purged (the summary never reaches further
back than a day; the rest is margin for "since yesterday").

Private chats are never written. A violation is written only as hidden (its text is not stored),
so the transcript can never hand an ad or an insult to a summary; a recall hides a row the same way.
"""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa

from agent.state.tables import transcript as tr

HIDDEN = "hidden"  # the kind of a row whose words are gone (agent.summary.compose.EntryKind.HIDDEN)

if TYPE_CHECKING:
    from agent.state.store import Store


def record(store: Store, group_id: str, message_id: str, ts: datetime, sender_id: str, sender_name: str,
           kind: str, text: str = "", answer: str = "", source: str = "") -> None:
    hidden = kind == HIDDEN
    values = dict(group_id=group_id, message_id=message_id, ts=ts, sender_id=sender_id, sender_name=sender_name,
                  kind=kind, text="" if hidden else text, answer="" if hidden else answer,
                  source="" if hidden else source)
    with store.transaction() as conn:  # a redelivered message is recorded once
        conn.execute(store.insert(tr).values(**values).on_conflict_do_nothing(index_elements=["message_id"]))


def hide(store: Store, message_id: str) -> None:
    """A recalled message: its row stays (it was said) but its words are gone."""
    with store.transaction() as conn:
        conn.execute(tr.update().where(tr.c.message_id == message_id)
                     .values(kind=HIDDEN, text="", answer="", source=""))


def window(store: Store, group_id: str, start: datetime, end: datetime) -> list[sa.RowMapping]:
    """The group's rows from `start` up to (not including) `end`, in time order."""
    return store.rows(sa.select(tr).where(tr.c.group_id == group_id, tr.c.ts >= start, tr.c.ts < end)
                      .order_by(tr.c.ts, tr.c.id))


def last_spoke(store: Store, group_id: str, member_id: str, before: datetime) -> datetime | None:
    rows = store.rows(sa.select(sa.func.max(tr.c.ts).label("last"))
                      .where(tr.c.group_id == group_id, tr.c.sender_id == member_id, tr.c.ts < before))
    return rows[0]["last"] if rows else None


def purge(store: Store, before: datetime) -> int:
    with store.transaction() as conn:
        return conn.execute(tr.delete().where(tr.c.ts < before)).rowcount
