"""New members on probation (one row per member the bot saw join) and the decisions about them.

A member's row is made by their join and removed when they leave, so a member who joined before the
bot saw them has none and is never on probation; an owner's vouch outlives a leave and rejoin. Every
decision (joined on probation, agreed to the rules, vouched for by an owner, a case a stricter check
opened) is an event row, for `steward cases` and the weekly digest.
"""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa

from agent.state.tables import probation as p
from agent.state.tables import probation_events as e

if TYPE_CHECKING:
    from agent.state.store import Store


def joined(store: Store, group_id: str, member_id: str, name: str, ts: datetime, agree: bool) -> None:
    """A (re)join starts a fresh probation, unless an owner vouched for the member on an earlier stay:
    a vouch is for the person (their contact id), and leaving by mistake should not undo it."""
    values = dict(group_id=group_id, member_id=member_id, name=name, joined_ts=ts, messages=0, agree=agree,
                  agreed_ts=None, trusted_by=None, trusted_ts=None)
    with store.transaction() as conn:
        vouch = conn.execute(sa.select(e.c.by, e.c.ts).where(e.c.group_id == group_id, e.c.member_id == member_id,
                                                             e.c.event == "trust").order_by(e.c.ts.desc()).limit(1)).first()
        if vouch is not None:
            values |= dict(trusted_by=vouch.by, trusted_ts=vouch.ts)
        conn.execute(p.delete().where(p.c.group_id == group_id, p.c.member_id == member_id))
        conn.execute(p.insert().values(**values))
        conn.execute(e.insert().values(group_id=group_id, member_id=member_id, event="join", ts=ts))


def left(store: Store, group_id: str, member_id: str) -> None:
    with store.transaction() as conn:
        conn.execute(p.delete().where(p.c.group_id == group_id, p.c.member_id == member_id))


def row(store: Store, group_id: str, member_id: str) -> sa.RowMapping | None:
    """The member's probation row (None: not seen joining, or left since). On every member message."""
    rows = store.rows(store.prepared(_row), {"gid": group_id, "mid": member_id})
    return rows[0] if rows else None


def spoke(store: Store, group_id: str, member_id: str) -> None:
    """Count one more message of a member who has a row (a no-op for everyone else)."""
    with store.transaction() as conn:
        conn.execute(store.prepared(_count), {"gid": group_id, "mid": member_id})


def agreed(store: Store, group_id: str, member_id: str, ts: datetime) -> bool:
    """Record the member's agreement to the rules, once: False if they had none pending."""
    with store.transaction() as conn:
        done = conn.execute(p.update().where(p.c.group_id == group_id, p.c.member_id == member_id, p.c.agree.is_(True),
                                             p.c.agreed_ts.is_(None)).values(agreed_ts=ts))
        if done.rowcount != 1:
            return False
        conn.execute(e.insert().values(group_id=group_id, member_id=member_id, event="agree", ts=ts))
    return True


def trust(store: Store, group_id: str, member_id: str, owner_id: str, ts: datetime) -> bool:
    """An owner vouches for the member: probation ends now. False if they had no row or were trusted."""
    with store.transaction() as conn:
        done = conn.execute(p.update().where(p.c.group_id == group_id, p.c.member_id == member_id,
                                             p.c.trusted_ts.is_(None)).values(trusted_by=owner_id, trusted_ts=ts))
        if done.rowcount != 1:
            return False
        conn.execute(e.insert().values(group_id=group_id, member_id=member_id, event="trust", by=owner_id, ts=ts))
    return True


def case_opened(store: Store, group_id: str, member_id: str, case_id: int, ts: datetime) -> None:
    """A case a stricter check opened: held for the decision's transaction, like its strike."""
    store.write(e, dict(group_id=group_id, member_id=member_id, event="case", case_id=case_id, ts=ts))


def members(store: Store, group_id: str) -> list[sa.RowMapping]:
    """The group's rows not vouched for, earliest join first."""
    return store.rows(sa.select(p).where(p.c.group_id == group_id, p.c.trusted_ts.is_(None)).order_by(p.c.joined_ts))


def events(store: Store, group_id: str | None = None, start: datetime | None = None,
           end: datetime | None = None) -> list[sa.RowMapping]:
    query = sa.select(e)
    if group_id:
        query = query.where(e.c.group_id == group_id)
    if start is not None:
        query = query.where(e.c.ts >= start)
    if end is not None:
        query = query.where(e.c.ts < end)
    return store.rows(query.order_by(e.c.ts, e.c.id))


# ---- the statements every member message runs, built once per store (Store.prepared) ----
def _row(store: Store):
    return sa.select(p).where(p.c.group_id == sa.bindparam("gid"), p.c.member_id == sa.bindparam("mid"))


def _count(store: Store):
    return (p.update().where(p.c.group_id == sa.bindparam("gid"), p.c.member_id == sa.bindparam("mid"))
            .values(messages=p.c.messages + 1))
