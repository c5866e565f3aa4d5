"""Platform-neutral events: what a channel hands the pipeline and what the pipeline hands back.

Every channel (WeChat, console, memory) speaks only these types, so routes never see a platform SDK
and the eval scores exactly what a live group would get.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class Role(StrEnum):
    OWNER = "owner"
    ADMIN = "admin"
    MEMBER = "member"
    BOT = "bot"


class Kind(StrEnum):
    """What a message carries. Non-text kinds matter to moderation (QR images, cards, mini-programs)."""

    TEXT = "text"
    IMAGE = "image"
    LINK = "link"
    MINI_PROGRAM = "mini_program"
    CONTACT_CARD = "contact_card"
    FILE = "file"
    RED_PACKET = "red_packet"
    EMOJI = "emoji"
    VOICE = "voice"
    VIDEO = "video"
    SYSTEM = "system"


@dataclass(frozen=True)
class Member:
    """A person, identified by contact id. `name` is display only and never grants anything."""

    id: str
    name: str = ""
    role: Role = Role.MEMBER

    @property
    def is_staff(self) -> bool:
        return self.role in (Role.OWNER, Role.ADMIN)


@dataclass(frozen=True)
class Message:
    """One incoming message. `group_id` is the configured group id, None for a private chat."""

    id: str
    group_id: str | None
    sender: Member
    text: str
    ts: datetime
    kind: Kind = Kind.TEXT
    mentions: tuple[str, ...] = ()  # contact ids mentioned (resolved by the channel)
    to_bot: bool = False  # @bot, or a private chat with the bot
    private: bool = False  # a private chat with the bot: replies go back privately
    quote: str | None = None  # text of the quoted message, where the platform gives it
    url: str | None = None  # link card / mini-program / file url, where the platform gives it
    payload: bytes | None = field(default=None, repr=False, compare=False)  # image bytes, for QR decoding


@dataclass(frozen=True)
class Recall(Message):
    """The sender took back message `recalled` (in its group): nothing to decide, but what was said is
    no longer anyone's to quote (Pipeline.recalled tells the observers)."""

    recalled: str = ""


class DecisionKind(StrEnum):
    ANSWER = "answer"
    UNKNOWN = "unknown"
    IGNORE = "ignore"
    NUDGE = "nudge"
    VIOLATION = "violation"
    COMMAND = "command"


# ---- actions: what a channel must carry out ----------------------------------------------------


@dataclass(frozen=True)
class Say:
    """Say text in a group, @-mentioning the given contact ids."""

    group_id: str
    text: str
    mentions: tuple[str, ...] = ()


@dataclass(frozen=True)
class Whisper:
    """A private message to one contact (owners' case files, digests, drafts)."""

    contact_id: str
    text: str


@dataclass(frozen=True)
class SendImage:
    """An image (e.g. a chart) to a group or, with group_id None, privately to contact_id."""

    path: str
    group_id: str | None = None
    contact_id: str | None = None


@dataclass(frozen=True)
class Kick:
    """Remove a member. Only ever produced after an owner's decision or an explicit auto-kick rule."""

    group_id: str
    contact_id: str


Action = Say | Whisper | SendImage | Kick


@dataclass(frozen=True)
class Source:
    file: str
    heading: str = ""
    score: float = 0.0

    def cite(self) -> str:
        return f"{self.file} › {self.heading}" if self.heading else self.file


@dataclass(frozen=True)
class Violation:
    kind: str  # ad | link | scam | abuse | flood | injection
    article: int | None  # the group's rule number it breaks (1-based)
    reason: str = ""  # which check fired, for the case file and /why
    severity: int = 1


@dataclass
class Decision:
    """The pipeline's one verdict on one message: what eval scores and what the channel carries out."""

    kind: DecisionKind
    message_id: str
    route: str
    actions: list[Action] = field(default_factory=list)
    sources: list[Source] = field(default_factory=list)
    violation: Violation | None = None
    confidence: float | None = None
    detail: dict = field(default_factory=dict)  # route-specific facts for logs and the simulator
    llm_calls: int = 0
    llm_tokens: int = 0
    elapsed_ms: float = 0.0

    @property
    def reply(self) -> str:
        """All text the bot says in the group for this message (eval checks facts and must_not here)."""
        return "\n".join(a.text for a in self.actions if isinstance(a, Say))
