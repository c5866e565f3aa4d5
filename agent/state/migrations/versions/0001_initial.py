"""The first schema of the state package; adopts a SQLite file written before it.

A file from before the migrations (raw sqlite3: the same tables, times as ISO text with mixed
offsets, no link from a strike to its case) has its tables renamed aside, the new ones created, the
rows copied with their times read as instants, each case linked to its strike by the one rule the old
code used (same group, member and time), and the old tables dropped.

Revision ID: 0001
Revises:
Create Date: 2026-12-01
"""
from datetime import date, datetime, timezone

import sqlalchemy as sa
from alembic import op

from agent.state.types import Moment

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

LEGACY = ("seen", "gaps", "cases", "strikes", "kv", "moderation_warnings", "moderation_feedback", "drafts", "posts",
          "analytics_counts", "analytics_activity", "analytics_membership", "analytics_members")


def _tables() -> list[sa.Table]:
    made = [
        op.create_table(
            "seen",
            sa.Column("message_id", sa.String, primary_key=True),
            sa.Column("ts", Moment, nullable=False),
            sa.Column("decision", sa.String)),
        op.create_table(
            "gaps",
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("group_id", sa.String, nullable=False),
            sa.Column("asker_id", sa.String, nullable=False),
            sa.Column("message_id", sa.String, nullable=False),
            sa.Column("question", sa.Text, nullable=False),
            sa.Column("addressed", sa.Boolean, nullable=False, server_default=sa.false()),
            sa.Column("ts", Moment, nullable=False),
            sa.Column("status", sa.String, nullable=False, server_default="open"),
            sa.Column("answer", sa.Text)),
        op.create_table(
            "cases",
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("group_id", sa.String, nullable=False),
            sa.Column("member_id", sa.String, nullable=False),
            sa.Column("kind", sa.String, nullable=False),
            sa.Column("article", sa.Integer),
            sa.Column("suggested", sa.String, nullable=False),
            sa.Column("status", sa.String, nullable=False, server_default="open"),
            sa.Column("decided_by", sa.String),
            sa.Column("decision", sa.String),
            sa.Column("ts", Moment, nullable=False),
            sa.Column("decided_ts", Moment)),
        op.create_table(
            "strikes",
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("group_id", sa.String, nullable=False),
            sa.Column("member_id", sa.String, nullable=False),
            sa.Column("kind", sa.String, nullable=False),
            sa.Column("article", sa.Integer),
            sa.Column("message_id", sa.String, nullable=False),
            sa.Column("evidence", sa.Text, nullable=False),
            sa.Column("ts", Moment, nullable=False),
            sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id", ondelete="SET NULL"))),
        op.create_table(
            "moderation_warnings",
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("group_id", sa.String, nullable=False),
            sa.Column("message_id", sa.String, nullable=False),
            sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id", ondelete="SET NULL")),
            sa.Column("member_id", sa.String, nullable=False),
            sa.Column("member_name", sa.String, nullable=False),
            sa.Column("kind", sa.String, nullable=False),
            sa.Column("warning", sa.Text, nullable=False),
            sa.Column("ts", Moment, nullable=False),
            sa.Column("status", sa.String, nullable=False, server_default="open")),
        op.create_table(
            "moderation_feedback",
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("group_id", sa.String, nullable=False),
            sa.Column("kind", sa.String, nullable=False),
            sa.Column("label", sa.Integer, sa.CheckConstraint("label IN (-1, 1)", name="ck_feedback_label"),
                      nullable=False),
            sa.Column("text", sa.Text, nullable=False),
            sa.Column("vector", sa.LargeBinary, nullable=False),
            sa.Column("decided_by", sa.String, nullable=False),
            sa.Column("source", sa.String, nullable=False),
            sa.Column("ts", Moment, nullable=False),
            sa.UniqueConstraint("group_id", "kind", "text", name="uq_feedback_text")),
        op.create_table(
            "drafts",
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("group_id", sa.String, nullable=False),
            sa.Column("schedule_id", sa.String, nullable=False),
            sa.Column("slot", Moment, nullable=False),
            sa.Column("post_at", Moment, nullable=False),
            sa.Column("text", sa.Text, nullable=False),
            sa.Column("sources", sa.Text, nullable=False, server_default="[]"),
            sa.Column("targets", sa.Text, nullable=False),
            sa.Column("status", sa.String, nullable=False),
            sa.Column("editor", sa.String),
            sa.Column("told", sa.String),
            sa.Column("created", Moment, nullable=False),
            sa.Column("updated", Moment, nullable=False),
            sa.UniqueConstraint("group_id", "schedule_id", "slot", name="uq_drafts_slot")),
        op.create_table(
            "posts",
            sa.Column("group_id", sa.String, primary_key=True),
            sa.Column("draft_id", sa.Integer, sa.ForeignKey("drafts.id"), primary_key=True),
            sa.Column("slot", Moment, nullable=False),
            sa.Column("status", sa.String, nullable=False),
            sa.Column("ts", Moment, nullable=False)),
        op.create_table(
            "analytics_counts",
            sa.Column("group_id", sa.String, primary_key=True),
            sa.Column("day", sa.Date, primary_key=True),
            sa.Column("counter", sa.String, primary_key=True),
            sa.Column("value", sa.BigInteger, nullable=False)),
        op.create_table(
            "analytics_activity",
            sa.Column("group_id", sa.String, primary_key=True),
            sa.Column("day", sa.Date, primary_key=True),
            sa.Column("member_id", sa.String, primary_key=True),
            sa.Column("messages", sa.Integer, nullable=False)),
        op.create_table(
            "analytics_membership",
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("group_id", sa.String, nullable=False),
            sa.Column("member_id", sa.String, nullable=False),
            sa.Column("event", sa.String, sa.CheckConstraint("event IN ('join', 'leave')", name="ck_membership_event"),
                      nullable=False),
            sa.Column("ts", Moment, nullable=False),
            sa.Column("day", sa.Date, nullable=False)),
        op.create_table(
            "analytics_members",
            sa.Column("group_id", sa.String, primary_key=True),
            sa.Column("member_id", sa.String, primary_key=True),
            sa.Column("name", sa.String, nullable=False)),
        op.create_table(
            "kv",
            sa.Column("key", sa.String, primary_key=True),
            sa.Column("value", sa.Text, nullable=False)),
    ]
    op.create_index("ix_gaps_group", "gaps", ["group_id", "status"])
    op.create_index("ix_strikes_member", "strikes", ["group_id", "member_id", "ts"])
    op.create_index("ix_feedback_group", "moderation_feedback", ["group_id", "ts"])
    op.create_index("ix_drafts_due", "drafts", ["status", "post_at"])
    op.create_index("ix_membership_group", "analytics_membership", ["group_id", "day"])
    return made


def _instant(value):
    if value is None or isinstance(value, datetime):
        return value
    ts = datetime.fromisoformat(value)
    return ts.replace(tzinfo=timezone.utc) if ts.tzinfo is None else ts


def _converted(table: sa.Table, row: dict) -> dict:
    out = {}
    for name, value in row.items():
        column = table.c.get(name)
        if column is None:
            continue  # a legacy column the new schema dropped
        if isinstance(column.type, Moment):
            value = _instant(value)
        elif isinstance(column.type, sa.Date) and isinstance(value, str):
            value = date.fromisoformat(value)
        elif isinstance(column.type, sa.Boolean) and value is not None:
            value = bool(value)
        out[name] = value
    return out


def upgrade() -> None:
    bind = op.get_bind()
    present = set(sa.inspect(bind).get_table_names())
    legacy = [name for name in LEGACY if name in present]
    for name in legacy:
        op.rename_table(name, f"legacy_{name}")
    made = {t.name: t for t in _tables()}
    if not legacy:
        return
    for name in LEGACY:  # in dependency order: cases before strikes, drafts before posts
        if name not in legacy:
            continue
        rows = bind.execute(sa.text(f'SELECT * FROM "legacy_{name}"')).mappings().all()
        if rows:
            bind.execute(made[name].insert(), [_converted(made[name], dict(r)) for r in rows])
    if "strikes" in legacy and "cases" in legacy:
        strikes, cases = made["strikes"], made["cases"]
        opened = (sa.select(cases.c.id).where(cases.c.group_id == strikes.c.group_id,
                                              cases.c.member_id == strikes.c.member_id, cases.c.ts == strikes.c.ts)
                  .limit(1).scalar_subquery())
        bind.execute(strikes.update().values(case_id=opened))
    for name in reversed(legacy):  # children first: posts before drafts
        op.drop_table(f"legacy_{name}")


def downgrade() -> None:
    for name in reversed(LEGACY):
        op.drop_table(name)
