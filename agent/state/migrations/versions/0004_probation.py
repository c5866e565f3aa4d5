"""New members on probation and the decisions about them (agent.state.probation).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op

from agent.state.types import Moment

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "probation",
        sa.Column("group_id", sa.String, primary_key=True),
        sa.Column("member_id", sa.String, primary_key=True),
        sa.Column("name", sa.String, nullable=False),
        sa.Column("joined_ts", Moment, nullable=False),
        sa.Column("messages", sa.Integer, nullable=False, server_default="0"),
        sa.Column("agree", sa.Boolean, nullable=False),
        sa.Column("agreed_ts", Moment),
        sa.Column("trusted_by", sa.String),
        sa.Column("trusted_ts", Moment),
    )
    op.create_table(
        "probation_events",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("group_id", sa.String, nullable=False),
        sa.Column("member_id", sa.String, nullable=False),
        sa.Column("event", sa.String, sa.CheckConstraint("event IN ('join', 'agree', 'trust', 'case')",
                                                         name="ck_probation_event"), nullable=False),
        sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id", ondelete="SET NULL")),
        sa.Column("by", sa.String),
        sa.Column("ts", Moment, nullable=False),
    )
    op.create_index("ix_probation_events_group", "probation_events", ["group_id", "ts"])


def downgrade() -> None:
    op.drop_index("ix_probation_events_group", "probation_events")
    op.drop_table("probation_events")
    op.drop_table("probation")
