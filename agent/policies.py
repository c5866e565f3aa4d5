"""What each group's owners tune: when the bot answers, nudges, moderates, posts and summarises.

Part of the group config (agent.settings.GroupConfig); kept apart so each policy reads on its own.
Every model rejects unknown keys, so a typo in a group file is an error naming the key.
"""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

ViolationKind = Literal["ad", "link", "scam", "abuse", "flood", "injection"]
SUMMARY_LEAD_HOURS = 1.0


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Person(_Strict):
    id: str = Field(min_length=1)
    name: str = ""


class Rule(_Strict):
    """One article of the group's rules. `kinds` ties detectors to it; inferred from the text if empty."""

    text: str = Field(min_length=1)
    kinds: list[ViolationKind] = []
    mode: Literal["enforce", "shadow"] = "enforce"
    auto_kick: bool = False


class AnswerPolicy(_Strict):
    """When the bot speaks up with an answer."""

    # answer confident questions even when the bot was not addressed (False: only @bot / private)
    unprompted: bool = True
    # say "don't know" only when addressed; otherwise record the gap silently
    unknown_reply_when_addressed: bool = True


class ThemePolicy(_Strict):
    """Drift policy knobs. Restraint first: a bot that scolds every joke gets muted."""

    enabled: bool = True
    preview: bool = False  # judge and log, send nothing
    window: int = 6  # recent messages considered
    min_offtopic_in_window: int = 4
    cooldown_minutes: int = 90
    max_per_day: int = 3
    quiet_hours: tuple[int, int] | None = (23, 7)  # local hours [start, end)
    margin: float = 0.0  # added to the fitted off-topic probability threshold (positive: judged off-topic less)
    reply_margin: float = -0.1  # the same for a short reply right after off-topic talk: it needs less
    reply_minutes: int = 10  # how recent that off-topic talk must be


class FeedbackPolicy(_Strict):
    """How far owners' dismissals and confirmations move the classifier (agent.moderation.feedback).
    Similarity thresholds were picked on perturbed copies of public training ads, not on a group."""

    similarity: float = Field(default=0.75, ge=0.5, le=1)  # an example counts from this similarity
    full_similarity: float = Field(default=0.85, ge=0.5, le=1)  # ...and moves the score fully from this one
    max_shift: float = Field(default=0.4, ge=0, le=0.5)  # the most a score moves, however many examples
    max_examples: int = Field(default=200, ge=1)  # per group; the oldest go first
    expire_days: int = Field(default=90, ge=1)


class ModerationPolicy(_Strict):
    """The strike ladder and the flood counter. Defaults suit a few-hundred-member group."""

    mute_at: int = Field(default=2, ge=1)  # strike number at which the bot stops serving the member
    case_at: int = Field(default=3, ge=1)  # strike number that opens a case for the owners
    severe: int = Field(default=3, ge=1)  # findings this severe open a case on the first strike
    mute_hours: float = Field(default=12, ge=0)
    strike_days: int = Field(default=30, ge=1)  # older strikes no longer count
    flood_window_minutes: float = Field(default=10, gt=0)
    flood_rate: int = Field(default=10, ge=2)  # messages per minute from one member that count as flooding
    feedback: FeedbackPolicy = FeedbackPolicy()  # what owners' decisions teach the group's classifier


class GapNotes(_Strict):
    """Owners told privately of questions the knowledge could not answer, a batch at a time, so the
    member who asked is told the truth when the bot says it passed the question on."""

    notify_owners: Literal["batched", "off"] = "batched"
    batch_minutes: int = Field(default=60, ge=1)  # at most one note per this many minutes


class ReportPolicy(_Strict):
    """Member reports (举报 / /report on a quoted message, agent.reports): when the owners hear of a
    message again, and how a member whose reports the owners keep dismissing is slowed down."""

    notify_again_at: int = Field(default=3, ge=2)  # members reporting one message: the owners get a second note
    dismissed_limit: int = Field(default=3, ge=1)  # this many dismissed within window_days limits a member...
    window_days: int = Field(default=14, ge=1)
    limited_per_day: int = Field(default=1, ge=0)  # ...to this many reports a day


class ScheduleConfig(_Strict):
    """One recurring post. `when` is a cron expression ("0 9 * * 1") or "weekly Mon 09:00" /
    "daily 08:30", read in the group's time zone."""

    id: str = Field(min_length=1)
    when: str = Field(min_length=1)
    kind: Literal["tip", "events", "digest", "summary", "custom"] = "custom"
    brief: str = ""  # what the post should be about (the LLM's brief; the template's heading)
    text: str | None = None  # a fixed text to post as is (reminders)
    groups: list[str] = []  # other groups to post the same draft to (multi-group posts)
    approval: Literal["required", "auto"] = "required"
    lead_hours: float = Field(default=24, ge=0)  # draft this long before the slot, for review

    @model_validator(mode="after")
    def _summary_late(self) -> "ScheduleConfig":
        """A daily summary is drafted from the day's transcript, so by default an hour before its slot
        (drafted a day ahead it would summarise the day before)."""
        if self.kind == "summary" and "lead_hours" not in self.model_fields_set:
            self.lead_hours = SUMMARY_LEAD_HOURS
        return self


class SummaryPolicy(_Strict):
    """Catch-up summaries (/summary, "我错过了什么"): where they go and how long they may be."""

    reply: Literal["private", "group"] = "private"
    max_chars: int = Field(default=1200, ge=200)  # reads on a phone screen; owners' words and answers first
    per_member_minutes: int = Field(default=60, ge=0)  # one summary per member this often


class ProbationPolicy(_Strict):
    """A new member's first `messages` messages or first `days` days (whichever lasts longer; both 0:
    no probation), under stricter moderation (agent.probation). Only members the bot saw join are on it."""

    messages: int = Field(default=5, ge=0)
    days: float = Field(default=3, ge=0)
    agree: bool = True  # the welcome asks them to reply 同意 / "I agree" to the rules; /newcomers lists who has not
    # the confidence a classifier finding needs to count while on probation (otherwise 0.6, detectors.STRONG):
    # weak findings count. Any link, card, mini-program, QR code or contact handle is a case whatever this says.
    thresholds: dict[Literal["ad", "scam", "abuse", "injection"], float] = {
        "ad": 0.4, "scam": 0.4, "abuse": 0.6, "injection": 0.5}

    @property
    def on(self) -> bool:
        return self.messages > 0 or self.days > 0
