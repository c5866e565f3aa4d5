"""Member reports and the operator's blocklist (agent.state.reports, agent.state.blocklist).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op

from agent.state.types import Moment

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reports",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("group_id", sa.String, nullable=False),
        sa.Column("key", sa.String, nullable=False),
        sa.Column("message_id", sa.String),
        sa.Column("accused_id", sa.String),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id", ondelete="SET NULL")),
        sa.Column("count", sa.Integer, nullable=False, server_default="0"),
        sa.Column("ts", Moment, nullable=False),
        sa.UniqueConstraint("group_id", "key", name="uq_reports_key"),
    )
    op.create_table(
        "report_filers",
        sa.Column("report_id", sa.Integer, sa.ForeignKey("reports.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("reporter_id", sa.String, primary_key=True),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("ts", Moment, nullable=False),
    )
    op.create_index("ix_report_filers_reporter", "report_filers", ["reporter_id", "ts"])
    op.create_table(
        "blocklist",
        sa.Column("contact_id", sa.String, primary_key=True),
        sa.Column("reason", sa.String, nullable=False),
        sa.Column("evidence", sa.Text, nullable=False, server_default="[]"),
        sa.Column("group_id", sa.String, nullable=False),
        sa.Column("added_by", sa.String, nullable=False),
        sa.Column("source", sa.String, nullable=False),
        sa.Column("ts", Moment, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("blocklist")
    op.drop_index("ix_report_filers_reporter", "report_filers")
    op.drop_table("report_filers")
    op.drop_table("reports")
