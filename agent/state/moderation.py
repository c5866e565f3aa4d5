"""Strikes, the cases they open, and the warnings owners can answer.

A strike opened by a case points at it (`strikes.case_id`, a foreign key), so a dismissed case
withdraws exactly its strike. The link is made when the case opens: during a decision the strike is
still held for the decision's transaction, so the held insert is given the case id.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING

import sqlalchemy as sa

from agent.state.tables import cases as c, strikes as s, warnings as w

if TYPE_CHECKING:
    from agent.state.store import Store


def add_strike(store: Store, group_id: str, member_id: str, kind: str, article: int | None, message_id: str,
               evidence: str, ts: datetime) -> int:
    return store.write(s, dict(group_id=group_id, member_id=member_id, kind=kind, article=article,
                               message_id=message_id, evidence=evidence, ts=ts))


def strikes(store: Store, group_id: str, member_id: str, since: datetime | None = None) -> list[sa.RowMapping]:
    """The member's strikes (from `since` on), oldest first: read on every violation, so prepared."""
    return store.rows(store.prepared(_strikes), {"group_id": group_id, "member_id": member_id,
                                                 "since": since or datetime.min.replace(tzinfo=timezone.utc)})


def _strikes(store: Store):
    return sa.select(s).where(s.c.group_id == sa.bindparam("group_id"), s.c.member_id == sa.bindparam("member_id"),
                              s.c.ts >= sa.bindparam("since", type_=s.c.ts.type)).order_by(s.c.id)


def strike_of(store: Store, group_id: str, member_id: str, message_id: str) -> sa.RowMapping | None:
    rows = store.rows(sa.select(s).where(s.c.group_id == group_id, s.c.member_id == member_id,
                                         s.c.message_id == message_id).order_by(s.c.id).limit(1))
    return rows[0] if rows else None


def open_case(store: Store, group_id: str, member_id: str, kind: str, article: int | None, suggested: str,
              ts: datetime) -> int:
    """A new case's id, linked to the member's strike of that moment (held or written). Written at
    once (the case file names its number), and removed again if the decision opening it is dropped."""
    with store.transaction() as conn:
        case_id = int(conn.execute(c.insert().values(group_id=group_id, member_id=member_id, kind=kind,
                                                     article=article, suggested=suggested, ts=ts))
                      .inserted_primary_key[0])
        store.if_dropped(c.delete().where(c.c.id == case_id))  # another delivery's decision won
        held = [v for v in store.held(s) if (v["group_id"], v["member_id"]) == (group_id, member_id)]
        if held:
            held[-1]["case_id"] = case_id
        else:
            latest = (sa.select(sa.func.max(s.c.id)).where(s.c.group_id == group_id, s.c.member_id == member_id,
                                                            s.c.ts == ts, s.c.case_id.is_(None)).scalar_subquery())
            conn.execute(s.update().where(s.c.id == latest).values(case_id=case_id))
    return case_id


def case(store: Store, case_id: int) -> sa.RowMapping | None:
    rows = store.rows(sa.select(c).where(c.c.id == case_id))
    return rows[0] if rows else None


def cases(store: Store, group_id: str | None = None, status: str | None = None) -> list[sa.RowMapping]:
    query = sa.select(c)
    if group_id:
        query = query.where(c.c.group_id == group_id)
    if status:
        query = query.where(c.c.status == status)
    return store.rows(query.order_by(c.c.id))


def evidence(store: Store, case_id: int) -> str:
    """The text of the message that opened the case (empty once purged or withdrawn)."""
    rows = store.rows(sa.select(s.c.evidence).where(s.c.case_id == case_id).order_by(s.c.id).limit(1))
    return rows[0]["evidence"] if rows else ""


def close_case(store: Store, case_id: int, decision: str, decider_id: str, now: datetime) -> bool:
    """Record the decision if the case is still open (False: someone decided it first); a dismissal
    withdraws the strike that opened it."""
    with store.transaction() as conn:
        done = conn.execute(c.update().where(c.c.id == case_id, c.c.status == "open")
                            .values(status="closed", decision=decision, decided_by=decider_id, decided_ts=now))
        if done.rowcount != 1:
            return False
        if decision == "dismiss":
            conn.execute(s.delete().where(s.c.case_id == case_id))
    return True


# ---- warnings an owner may answer ("这不是广告") ----
def remember_warning(store: Store, group_id: str, message_id: str, case_id: int | None, member_id: str,
                     member_name: str, kind: str, warning: str, ts: datetime, forget_before: datetime) -> None:
    """Keep a posted warning (held for the decision's transaction when one is being decided), and
    forget the group's warnings older than `forget_before`."""
    with store.transaction() as conn:
        conn.execute(w.delete().where(w.c.ts < forget_before))
    store.write(w, dict(group_id=group_id, message_id=message_id, case_id=case_id, member_id=member_id,
                        member_name=member_name, kind=kind, warning=warning, ts=ts))


def recent_warnings(store: Store, group_id: str, since: datetime) -> list[sa.RowMapping]:
    """The group's warnings from `since` on, newest first."""
    return store.rows(sa.select(w).where(w.c.group_id == group_id, w.c.ts >= since).order_by(w.c.id.desc()))


def close_warning(store: Store, warning: sa.RowMapping, withdraw: bool = True) -> bool:
    """Mark the warning answered and withdraw its strike, once: False if it was answered before."""
    with store.transaction() as conn:
        done = conn.execute(w.update().where(w.c.id == warning["id"], w.c.status == "open").values(status="dismissed"))
        if done.rowcount != 1:
            return False
        if withdraw:
            conn.execute(s.delete().where(s.c.group_id == warning["group_id"], s.c.member_id == warning["member_id"],
                                          s.c.message_id == warning["message_id"]))
    return True


def withdraw_strikes(store: Store, group_id: str, message_id: str) -> None:
    """Withdraw the strikes recorded for one message (an owner's dismissal outside a case)."""
    with store.transaction() as conn:
        conn.execute(s.delete().where(s.c.group_id == group_id, s.c.message_id == message_id))
