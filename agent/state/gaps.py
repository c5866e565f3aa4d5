"""The question-gap inbox's rows: what members asked that the knowledge could not answer."""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa

from agent.state.tables import gaps

if TYPE_CHECKING:
    from agent.state.store import Store


def add(store: Store, group_id: str, asker_id: str, message_id: str, question: str, addressed: bool,
        ts: datetime) -> int:
    """Held for the decision's transaction when one is being decided (then 0: no id yet)."""
    return store.write(gaps, dict(group_id=group_id, asker_id=asker_id, message_id=message_id, question=question,
                                  addressed=bool(addressed), ts=ts))


def open_rows(store: Store, group_id: str) -> list[sa.RowMapping]:
    return store.rows(sa.select(gaps).where(gaps.c.group_id == group_id, gaps.c.status == "open").order_by(gaps.c.id))


def since(store: Store, group_id: str, start: datetime) -> list[sa.RowMapping]:
    """Every gap of the group asked at or after `start`, open or answered, in asking order."""
    return store.rows(sa.select(gaps).where(gaps.c.group_id == group_id, gaps.c.ts >= start).order_by(gaps.c.id))


def answer(store: Store, gap_ids: tuple[int, ...], text: str) -> None:
    with store.transaction() as conn:
        conn.execute(gaps.update().where(gaps.c.id.in_(gap_ids)).values(status="answered", answer=text))
