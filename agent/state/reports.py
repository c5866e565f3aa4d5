"""Member reports: one row per reported message (so several members' reports are one case with a count)
and one per member who filed it (a member counts once per message, and owners' dismissals of what a
member filed are counted for the rate limit)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa

from agent.state.tables import cases as c, report_filers as f, reports as r

if TYPE_CHECKING:
    from agent.state.store import Store


@dataclass(frozen=True)
class Filed:
    report_id: int
    count: int  # members who reported this message, this one included
    case_id: int | None  # the case already opened for it (None: the first report)
    again: bool  # this member had reported it before (nothing changed)


def file(store: Store, group_id: str, key: str, message_id: str | None, accused_id: str | None, text: str,
         reporter_id: str, reason: str, ts: datetime) -> Filed:
    """Record one member's report of a message, once per member and message."""
    with store.transaction() as conn:
        conn.execute(store.insert(r).values(group_id=group_id, key=key, message_id=message_id, accused_id=accused_id,
                                            text=text, count=0, ts=ts).on_conflict_do_nothing(
            index_elements=["group_id", "key"]))
        row = conn.execute(sa.select(r.c.id, r.c.case_id).where(r.c.group_id == group_id, r.c.key == key)).one()
        added = conn.execute(store.insert(f).values(report_id=row.id, reporter_id=reporter_id, reason=reason, ts=ts)
                             .on_conflict_do_nothing()).rowcount == 1
        if added:
            conn.execute(r.update().where(r.c.id == row.id).values(count=r.c.count + 1))
        count = conn.execute(sa.select(r.c.count).where(r.c.id == row.id)).scalar_one()
    return Filed(row.id, count, row.case_id, not added)


def link_case(store: Store, report_id: int, case_id: int) -> None:
    with store.transaction() as conn:
        conn.execute(r.update().where(r.c.id == report_id).values(case_id=case_id))


def of_case(store: Store, case_id: int) -> sa.RowMapping | None:
    rows = store.rows(sa.select(r).where(r.c.case_id == case_id))
    return rows[0] if rows else None


def filed_since(store: Store, group_id: str, reporter_id: str, since: datetime) -> int:
    """Reports this member filed in the group from `since` on."""
    return store.rows(sa.select(sa.func.count().label("n")).select_from(f.join(r, f.c.report_id == r.c.id))
                      .where(r.c.group_id == group_id, f.c.reporter_id == reporter_id, f.c.ts >= since))[0]["n"]


def dismissed_since(store: Store, group_id: str, reporter_id: str, since: datetime) -> int:
    """Reports this member filed from `since` on whose case the owners dismissed."""
    joined = f.join(r, f.c.report_id == r.c.id).join(c, r.c.case_id == c.c.id)
    return store.rows(sa.select(sa.func.count().label("n")).select_from(joined)
                      .where(r.c.group_id == group_id, f.c.reporter_id == reporter_id, f.c.ts >= since,
                             c.c.decision == "dismiss"))[0]["n"]


def week(store: Store, group_id: str, start: datetime, end: datetime) -> dict[str, int]:
    """For the digest: messages reported in [start, end), members' reports of them, and how the
    owners decided the reports' cases."""
    rows = store.rows(sa.select(r.c.count, c.c.decision).select_from(r.outerjoin(c, r.c.case_id == c.c.id))
                      .where(r.c.group_id == group_id, r.c.ts >= start, r.c.ts < end))
    out = {"messages": len(rows), "reports": sum(row["count"] for row in rows), "open": 0}
    for row in rows:
        decision = row["decision"] or "open"
        out[decision] = out.get(decision, 0) + 1
    return out


def purge(store: Store, before: datetime) -> None:
    """Drop the quoted text of reports older than the retention; counts and cases stay."""
    with store.transaction() as conn:
        conn.execute(r.update().where(r.c.ts < before).values(text=""))
