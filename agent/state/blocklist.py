"""The operator's blocklist: contact ids removed from one managed group for a scam or an ad, raised
as a case (or removed) wherever they turn up next.

Every member message asks whether its sender is listed, so the ids are kept in memory per store and
read again at most every REFRESH_S seconds (a `steward blocklist` edit from another process is seen
within that); this process's own edits refresh them at once.
"""
from __future__ import annotations

import json
import time
import weakref
from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa

from agent.state.tables import blocklist as b, cases as c

if TYPE_CHECKING:
    from agent.state.store import Store

REFRESH_S = 60.0
SOURCES = ("kick", "case", "import")
_ids: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # store → (read at, frozenset of ids)


def listed(store: Store, contact_id: str) -> bool:
    """Whether `contact_id` is on the blocklist: a set lookup, the table read at most every REFRESH_S."""
    cached = _ids.get(store)
    if cached is None or time.monotonic() - cached[0] > REFRESH_S:
        ids = frozenset(row["contact_id"] for row in store.rows(sa.select(b.c.contact_id)))
        cached = _ids[store] = (time.monotonic(), ids)
    return contact_id in cached[1]


def _changed(store: Store) -> None:
    _ids.pop(store, None)


def add(store: Store, contact_id: str, reason: str, evidence: list[str], group_id: str, added_by: str, source: str,
        ts: datetime) -> bool:
    """List a contact id (False: it was listed already; a kick's entry then replaces an imported one,
    so what this operator decided is what counts)."""
    assert source in SOURCES, source
    values = dict(contact_id=contact_id, reason=reason, evidence=json.dumps(evidence), group_id=group_id,
                  added_by=added_by, source=source, ts=ts)
    with store.transaction() as conn:
        known = conn.execute(sa.select(b.c.source).where(b.c.contact_id == contact_id)).scalar()
        if known is None:
            conn.execute(b.insert().values(**values))
        elif known == "import" and source != "import":
            conn.execute(b.update().where(b.c.contact_id == contact_id).values(**values))
    _changed(store)
    return known is None


def remove(store: Store, contact_id: str) -> bool:
    with store.transaction() as conn:
        gone = conn.execute(b.delete().where(b.c.contact_id == contact_id)).rowcount == 1
    _changed(store)
    return gone


def entry(store: Store, contact_id: str) -> dict | None:
    rows = store.rows(sa.select(b).where(b.c.contact_id == contact_id))
    return _plain(rows[0]) if rows else None


def entries(store: Store) -> list[dict]:
    return [_plain(row) for row in store.rows(sa.select(b).order_by(b.c.ts))]


def settled(store: Store, group_id: str, member_id: str, listed_at: datetime) -> bool:
    """Whether the group's owners have this listed member in hand already: a blocklist case of theirs
    is open, or they kept the member (dismissed one) since the entry was made."""
    rows = store.rows(sa.select(c.c.id).where(
        c.c.group_id == group_id, c.c.member_id == member_id, c.c.kind == "blocklist",
        (c.c.status == "open") | ((c.c.decision == "dismiss") & (c.c.ts >= listed_at))).limit(1))
    return bool(rows)


def open_cases(store: Store, member_id: str) -> list[sa.RowMapping]:
    return store.rows(sa.select(c).where(c.c.member_id == member_id, c.c.kind == "blocklist", c.c.status == "open"))


def week(store: Store, group_id: str, start: datetime, end: datetime) -> dict[str, int]:
    """For the digest: contacts listed from this group in [start, end), and the blocklist cases opened
    here then, by decision."""
    added = store.rows(sa.select(sa.func.count().label("n")).select_from(b).where(
        b.c.group_id == group_id, b.c.ts >= start, b.c.ts < end))[0]["n"]
    rows = store.rows(sa.select(c.c.decision).where(c.c.group_id == group_id, c.c.kind == "blocklist",
                                                    c.c.ts >= start, c.c.ts < end))
    out = {"added": added, "cases": len(rows), "kick": 0, "dismiss": 0, "open": 0}
    for row in rows:
        decision = row["decision"] or "open"
        out[decision] = out.get(decision, 0) + 1
    return out


def _plain(row) -> dict:
    return {**row, "evidence": json.loads(row["evidence"] or "[]")}
