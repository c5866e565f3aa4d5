"""The outbox: actions decided but not yet confirmed sent, so a restart sends them once (agent.state.outbox).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op

from agent.state.types import Moment

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "outbox",
        sa.Column("key", sa.String, primary_key=True),
        sa.Column("account", sa.String, nullable=False),
        sa.Column("conversation", sa.String, nullable=False),
        sa.Column("action", sa.Text, nullable=False),
        sa.Column("status", sa.String, sa.CheckConstraint("status IN ('decided', 'sent', 'failed')",
                                                          name="ck_outbox_status"), nullable=False),
        sa.Column("message_id", sa.String),
        sa.Column("created", Moment, nullable=False),
        sa.Column("sent_ts", Moment),
    )
    op.create_index("ix_outbox_account", "outbox", ["account", "status", "created"])


def downgrade() -> None:
    op.drop_index("ix_outbox_account", "outbox")
    op.drop_table("outbox")
