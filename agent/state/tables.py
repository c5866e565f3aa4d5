"""Every table of the bot's state, in one metadata (the migrations build the same schema; a test
compares them).

Message text is kept only where it is needed (gap questions, strike evidence, warnings, owners'
examples) and purged after the configured retention; counts, cases and decisions stay.
"""
from __future__ import annotations

import sqlalchemy as sa

from agent.state.types import Moment

metadata = sa.MetaData()
Id = sa.Integer  # row ids: SERIAL on PostgreSQL, the rowid on SQLite

# ---- decisions: a message id is decided once, whichever process or account saw it ----
seen = sa.Table(
    "seen", metadata,
    sa.Column("message_id", sa.String, primary_key=True),
    sa.Column("ts", Moment, nullable=False),
    sa.Column("decision", sa.String),
)

# ---- the question-gap inbox ----
gaps = sa.Table(
    "gaps", metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("group_id", sa.String, nullable=False),
    sa.Column("asker_id", sa.String, nullable=False),
    sa.Column("message_id", sa.String, nullable=False),
    sa.Column("question", sa.Text, nullable=False),
    sa.Column("addressed", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("ts", Moment, nullable=False),
    sa.Column("status", sa.String, nullable=False, server_default="open"),
    sa.Column("answer", sa.Text),
    sa.Index("ix_gaps_group", "group_id", "status"),
)

# ---- moderation: cases, the strikes that opened them, warnings owners can answer ----
cases = sa.Table(
    "cases", metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("group_id", sa.String, nullable=False),
    sa.Column("member_id", sa.String, nullable=False),
    sa.Column("kind", sa.String, nullable=False),
    sa.Column("article", sa.Integer),
    sa.Column("suggested", sa.String, nullable=False),
    sa.Column("status", sa.String, nullable=False, server_default="open"),
    sa.Column("decided_by", sa.String),
    sa.Column("decision", sa.String),
    sa.Column("ts", Moment, nullable=False),
    sa.Column("decided_ts", Moment),
)
strikes = sa.Table(
    "strikes", metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("group_id", sa.String, nullable=False),
    sa.Column("member_id", sa.String, nullable=False),
    sa.Column("kind", sa.String, nullable=False),
    sa.Column("article", sa.Integer),
    sa.Column("message_id", sa.String, nullable=False),
    sa.Column("evidence", sa.Text, nullable=False),
    sa.Column("ts", Moment, nullable=False),
    sa.Column("case_id", Id, sa.ForeignKey("cases.id", ondelete="SET NULL")),  # the case it opened
    sa.Index("ix_strikes_member", "group_id", "member_id", "ts"),
)
warnings = sa.Table(
    "moderation_warnings", metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("group_id", sa.String, nullable=False),
    sa.Column("message_id", sa.String, nullable=False),
    sa.Column("case_id", Id, sa.ForeignKey("cases.id", ondelete="SET NULL")),
    sa.Column("member_id", sa.String, nullable=False),
    sa.Column("member_name", sa.String, nullable=False),
    sa.Column("kind", sa.String, nullable=False),
    sa.Column("warning", sa.Text, nullable=False),
    sa.Column("ts", Moment, nullable=False),
    sa.Column("status", sa.String, nullable=False, server_default="open"),
)
feedback = sa.Table(
    "moderation_feedback", metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("group_id", sa.String, nullable=False),
    sa.Column("kind", sa.String, nullable=False),
    sa.Column("label", sa.Integer, sa.CheckConstraint("label IN (-1, 1)", name="ck_feedback_label"), nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("vector", sa.LargeBinary, nullable=False),
    sa.Column("decided_by", sa.String, nullable=False),
    sa.Column("source", sa.String, nullable=False),
    sa.Column("ts", Moment, nullable=False),
    sa.UniqueConstraint("group_id", "kind", "text", name="uq_feedback_text"),
    sa.Index("ix_feedback_group", "group_id", "ts"),
)

# ---- scheduled posts ----
drafts = sa.Table(
    "drafts", metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("group_id", sa.String, nullable=False),
    sa.Column("schedule_id", sa.String, nullable=False),
    sa.Column("slot", Moment, nullable=False),
    sa.Column("post_at", Moment, nullable=False),  # the slot, unless an owner moved it
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("sources", sa.Text, nullable=False, server_default="[]"),  # JSON list
    sa.Column("targets", sa.Text, nullable=False),  # JSON list of group ids, home group first
    sa.Column("status", sa.String, nullable=False),  # pending | approved | rejected | skipped | posted | missed
    sa.Column("editor", sa.String),
    sa.Column("told", sa.String),
    sa.Column("created", Moment, nullable=False),
    sa.Column("updated", Moment, nullable=False),
    sa.UniqueConstraint("group_id", "schedule_id", "slot", name="uq_drafts_slot"),
    sa.Index("ix_drafts_due", "status", "post_at"),
)
posts = sa.Table(
    "posts", metadata,
    sa.Column("group_id", sa.String, primary_key=True),
    sa.Column("draft_id", Id, sa.ForeignKey("drafts.id"), primary_key=True),
    sa.Column("slot", Moment, nullable=False),
    sa.Column("status", sa.String, nullable=False),  # sent | missed
    sa.Column("ts", Moment, nullable=False),
)

# ---- analytics: counts only, never message text ----
counts = sa.Table(
    "analytics_counts", metadata,
    sa.Column("group_id", sa.String, primary_key=True),
    sa.Column("day", sa.Date, primary_key=True),  # the group's local day
    sa.Column("counter", sa.String, primary_key=True),
    sa.Column("value", sa.BigInteger, nullable=False),
)
activity = sa.Table(
    "analytics_activity", metadata,
    sa.Column("group_id", sa.String, primary_key=True),
    sa.Column("day", sa.Date, primary_key=True),
    sa.Column("member_id", sa.String, primary_key=True),
    sa.Column("messages", sa.Integer, nullable=False),
)
membership = sa.Table(
    "analytics_membership", metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("group_id", sa.String, nullable=False),
    sa.Column("member_id", sa.String, nullable=False),
    sa.Column("event", sa.String, sa.CheckConstraint("event IN ('join', 'leave')", name="ck_membership_event"),
              nullable=False),
    sa.Column("ts", Moment, nullable=False),
    sa.Column("day", sa.Date, nullable=False),
    sa.Index("ix_membership_group", "group_id", "day"),
)
members = sa.Table(
    "analytics_members", metadata,
    sa.Column("group_id", sa.String, primary_key=True),
    sa.Column("member_id", sa.String, primary_key=True),
    sa.Column("name", sa.String, nullable=False),
)

# ---- small key/values: mutes, cooldowns, budgets, what was last noted ----
kv = sa.Table(
    "kv", metadata,
    sa.Column("key", sa.String, primary_key=True),
    sa.Column("value", sa.Text, nullable=False),  # JSON
)

# ---- the recent transcript catch-up summaries are written from (purged after summary.keep_hours) ----
transcript = sa.Table(
    "transcript", metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("group_id", sa.String, nullable=False),
    sa.Column("message_id", sa.String, nullable=False, unique=True),
    sa.Column("ts", Moment, nullable=False),
    sa.Column("sender_id", sa.String, nullable=False),
    sa.Column("sender_name", sa.String, nullable=False),
    sa.Column("kind", sa.String, nullable=False),  # agent.summary.compose.EntryKind
    sa.Column("text", sa.Text, nullable=False),  # "" when hidden (a violation, a recall)
    sa.Column("answer", sa.Text, nullable=False),
    sa.Column("source", sa.String, nullable=False),
    sa.Index("ix_transcript_group", "group_id", "ts"),
)

# ---- member reports (agent.reports): one row per reported message, one per member who reported it ----
reports = sa.Table(
    "reports", metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("group_id", sa.String, nullable=False),
    sa.Column("key", sa.String, nullable=False),  # the message id, or a digest of the quoted text when unmatched
    sa.Column("message_id", sa.String),
    sa.Column("accused_id", sa.String),  # contact id of the quoted message's sender, when the transcript knew it
    sa.Column("text", sa.Text, nullable=False),  # the quoted text ("" once purged)
    sa.Column("case_id", Id, sa.ForeignKey("cases.id", ondelete="SET NULL")),
    sa.Column("count", sa.Integer, nullable=False, server_default="0"),
    sa.Column("ts", Moment, nullable=False),
    sa.UniqueConstraint("group_id", "key", name="uq_reports_key"),
)
report_filers = sa.Table(
    "report_filers", metadata,
    sa.Column("report_id", Id, sa.ForeignKey("reports.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("reporter_id", sa.String, primary_key=True),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("ts", Moment, nullable=False),
    sa.Index("ix_report_filers_reporter", "reporter_id", "ts"),
)

# ---- the operator's blocklist across every managed group (agent.blocklist) ----
blocklist = sa.Table(
    "blocklist", metadata,
    sa.Column("contact_id", sa.String, primary_key=True),
    sa.Column("reason", sa.String, nullable=False),
    sa.Column("evidence", sa.Text, nullable=False, server_default="[]"),  # JSON list of message ids
    sa.Column("group_id", sa.String, nullable=False),  # where it was decided ("" for an import)
    sa.Column("added_by", sa.String, nullable=False),
    sa.Column("source", sa.String, nullable=False),  # kick | case | import (an import never auto-kicks)
    sa.Column("ts", Moment, nullable=False),
)

# ---- new members on probation, and what was decided about them (agent.probation) ----
probation = sa.Table(
    "probation", metadata,
    sa.Column("group_id", sa.String, primary_key=True),
    sa.Column("member_id", sa.String, primary_key=True),
    sa.Column("name", sa.String, nullable=False),  # display only, for /newcomers
    sa.Column("joined_ts", Moment, nullable=False),
    sa.Column("messages", sa.Integer, nullable=False, server_default="0"),
    sa.Column("agree", sa.Boolean, nullable=False),  # asked to agree to the rules
    sa.Column("agreed_ts", Moment),
    sa.Column("trusted_by", sa.String),
    sa.Column("trusted_ts", Moment),
)
probation_events = sa.Table(
    "probation_events", metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("group_id", sa.String, nullable=False),
    sa.Column("member_id", sa.String, nullable=False),
    sa.Column("event", sa.String, sa.CheckConstraint("event IN ('join', 'agree', 'trust', 'case')",
                                                     name="ck_probation_event"), nullable=False),
    sa.Column("case_id", Id, sa.ForeignKey("cases.id", ondelete="SET NULL")),  # the case a stricter check opened
    sa.Column("by", sa.String),  # the owner who vouched
    sa.Column("ts", Moment, nullable=False),
    sa.Index("ix_probation_events_group", "group_id", "ts"),
)

# ---- the outbox: each action decided to be sent, until the puppet confirms it (agent.state.outbox) ----
outbox = sa.Table(
    "outbox", metadata,
    sa.Column("key", sa.String, primary_key=True),  # msg:<message id>:<n> or post:<draft id>:<group id>
    sa.Column("account", sa.String, nullable=False),  # the bot account that is to send it
    sa.Column("conversation", sa.String, nullable=False),  # group id, or dm:<contact id>
    sa.Column("action", sa.Text, nullable=False),  # the action as JSON (its kind and fields)
    sa.Column("status", sa.String, sa.CheckConstraint("status IN ('decided', 'sent', 'failed')",
                                                      name="ck_outbox_status"), nullable=False),
    sa.Column("message_id", sa.String),  # what the puppet returned for the sent message
    sa.Column("created", Moment, nullable=False),
    sa.Column("sent_ts", Moment),
    sa.Index("ix_outbox_account", "account", "status", "created"),
)
