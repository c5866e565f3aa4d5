"""The funnel's figures: counts per group and local day, messages per member per day, joins and leaves,
and the names reports show. Never message text."""
from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa

from agent.state.tables import activity, counts, members, membership

if TYPE_CHECKING:
    from agent.state.store import Store


def _bump_statement(store: Store):
    statement = store.insert(counts)
    return statement.on_conflict_do_update(index_elements=["group_id", "day", "counter"],
                                           set_={"value": counts.c.value + statement.excluded.value})


def _spoke_statement(store: Store):
    statement = store.insert(activity).values(messages=1)
    return statement.on_conflict_do_update(index_elements=["group_id", "day", "member_id"],
                                           set_={"messages": activity.c.messages + 1})


def _name_statement(store: Store):
    statement = store.insert(members)
    return statement.on_conflict_do_update(index_elements=["group_id", "member_id"],
                                           set_={"name": statement.excluded.name})


def _bump(store: Store, conn: sa.Connection, group_id: str, day: date, counter: str, by: int) -> None:
    conn.execute(store.prepared(_bump_statement), {"group_id": group_id, "day": day, "counter": counter, "value": by})


def _name(store: Store, conn: sa.Connection, group_id: str, member_id: str, name: str) -> None:
    conn.execute(store.prepared(_name_statement), {"group_id": group_id, "member_id": member_id, "name": name})


def record_message(store: Store, group_id: str, day: date, bumps: Mapping[str, int], member_id: str | None,
                   name: str | None) -> None:
    """One decided message's counters, and (a group message) its sender's activity and name."""
    with store.transaction() as conn:
        conn.execute(store.prepared(_bump_statement),  # one executemany for all of them
                     [{"group_id": group_id, "day": day, "counter": c, "value": by} for c, by in bumps.items()])
        if member_id is not None:
            conn.execute(store.prepared(_spoke_statement), {"group_id": group_id, "day": day, "member_id": member_id})
            if name:
                _name(store, conn, group_id, member_id, name)


def record_membership(store: Store, group_id: str, member_id: str, name: str | None, event: str, ts: datetime,
                      day: date) -> None:
    with store.transaction() as conn:
        conn.execute(membership.insert().values(group_id=group_id, member_id=member_id, event=event, ts=ts, day=day))
        _bump(store, conn, group_id, day, "members.joined" if event == "join" else "members.left", 1)
        if name:
            _name(store, conn, group_id, member_id, name)


def daily_counts(store: Store, group_id: str, since: date, until: date) -> list[sa.RowMapping]:
    return store.rows(sa.select(counts.c.day, counts.c.counter, counts.c.value)
                      .where(counts.c.group_id == group_id, counts.c.day.between(since, until)))


def activity_until(store: Store, group_id: str, until: date) -> list[sa.RowMapping]:
    return store.rows(sa.select(activity.c.day, activity.c.member_id, activity.c.messages)
                      .where(activity.c.group_id == group_id, activity.c.day <= until))


def membership_until(store: Store, group_id: str, until: date) -> list[sa.RowMapping]:
    """Joins and leaves up to `until`, in time order."""
    return store.rows(sa.select(membership.c.member_id, membership.c.event, membership.c.day)
                      .where(membership.c.group_id == group_id, membership.c.day <= until)
                      .order_by(membership.c.ts, membership.c.id))


def names(store: Store, group_id: str) -> dict[str, str]:
    return {r["member_id"]: r["name"] for r in store.rows(
        sa.select(members.c.member_id, members.c.name).where(members.c.group_id == group_id))}
