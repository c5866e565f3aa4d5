"""The owners' example bank of agent.moderation.feedback: rows, upserts and the trimming policy."""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa

from agent.state.tables import feedback as f

if TYPE_CHECKING:
    from agent.state.store import Store


def file(store: Store, group_id: str, kind: str, label: int, text: str, vector: bytes, decided_by: str, source: str,
         now: datetime, expire_before: datetime, keep: int) -> int:
    """File an example (the same text filed again takes the latest label) and trim the group's bank
    to examples after `expire_before`, at most `keep` of them; returns the example's id."""
    values = dict(label=label, vector=vector, decided_by=decided_by, source=source, ts=now)
    upsert = store.insert(f).values(group_id=group_id, kind=kind, text=text, **values)
    upsert = upsert.on_conflict_do_update(index_elements=["group_id", "kind", "text"], set_=values)
    with store.transaction() as conn:
        conn.execute(upsert)
        example = conn.execute(sa.select(f.c.id).where(f.c.group_id == group_id, f.c.kind == kind,
                                                       f.c.text == text)).scalar_one()
        conn.execute(f.delete().where(f.c.group_id == group_id, f.c.ts < expire_before))
        kept = sa.select(f.c.id).where(f.c.group_id == group_id).order_by(f.c.ts.desc(), f.c.id.desc()).limit(keep)
        conn.execute(f.delete().where(f.c.group_id == group_id, f.c.id.not_in(kept.scalar_subquery())))
    return int(example)


def examples(store: Store, group_id: str, since: datetime | None = None) -> list[sa.RowMapping]:
    """The group's examples, oldest first (from `since` on, when given)."""
    query = sa.select(f).where(f.c.group_id == group_id)
    if since is not None:
        query = query.where(f.c.ts >= since)
    return store.rows(query.order_by(f.c.id))


def stamp(store: Store, group_id: str, since: datetime) -> tuple:
    """What changes whenever the group's live examples do: (count, last id, last time)."""
    return tuple(store.rows(store.prepared(_stamp), {"group_id": group_id, "since": since})[0].values())


def _stamp(store: Store):
    return sa.select(sa.func.count(), sa.func.max(f.c.id), sa.func.max(f.c.ts)).where(
        f.c.group_id == sa.bindparam("group_id"), f.c.ts >= sa.bindparam("since", type_=f.c.ts.type))


def copy(source: Store, target: Store, group_id: str) -> int:
    """Copy a group's examples (vectors included) into another store; returns how many."""
    rows = [dict(r) for r in examples(source, group_id)]
    if rows:
        with target.transaction() as conn:
            conn.execute(f.insert(), rows)
    return len(rows)
