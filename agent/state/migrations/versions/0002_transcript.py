"""The recent transcript catch-up summaries are written from (agent.state.transcript).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op

from agent.state.types import Moment

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "transcript",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("group_id", sa.String, nullable=False),
        sa.Column("message_id", sa.String, nullable=False, unique=True),
        sa.Column("ts", Moment, nullable=False),
        sa.Column("sender_id", sa.String, nullable=False),
        sa.Column("sender_name", sa.String, nullable=False),
        sa.Column("kind", sa.String, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("answer", sa.Text, nullable=False),
        sa.Column("source", sa.String, nullable=False),
    )
    op.create_index("ix_transcript_group", "transcript", ["group_id", "ts"])


def downgrade() -> None:
    op.drop_index("ix_transcript_group", "transcript")
    op.drop_table("transcript")
