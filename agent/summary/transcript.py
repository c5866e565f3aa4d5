"""What one decided message becomes in the transcript a summary is written from.

The pipeline's own verdict classifies it: a violation is hidden for good (the summary must never
repeat an ad or an insult), an answered question keeps the first line of the bot's reply and its
citation, a question the bot could not answer stays open, and anything an owner says is theirs.
Private chats never enter the transcript.
"""
from __future__ import annotations

from agent.events import Decision, DecisionKind, Message, Role
from agent.summary.compose import Entry, EntryKind

_VERDICT = {
    DecisionKind.VIOLATION: EntryKind.HIDDEN,
    DecisionKind.COMMAND: EntryKind.HIDDEN,  # instructions to the bot, not conversation
    DecisionKind.ANSWER: EntryKind.ANSWERED,
    DecisionKind.UNKNOWN: EntryKind.OPEN,
}


def first_line(reply: str) -> str:
    """The answer's first line without the @mention the bot puts before it."""
    for line in reply.splitlines():
        words = line.strip().split()
        while words and words[0].startswith("@"):
            words.pop(0)
        if words:
            return " ".join(words)
    return ""


def entry_for(message: Message, decision: Decision | None) -> Entry | None:
    """The transcript entry for a decided group message (None for a private chat)."""
    if message.private or message.group_id is None:
        return None
    kind = _VERDICT.get(decision.kind, EntryKind.CHAT) if decision else EntryKind.CHAT
    if kind is not EntryKind.HIDDEN and message.sender.role is Role.OWNER:
        kind = EntryKind.OWNER
    answer = source = ""
    if kind is EntryKind.ANSWERED and decision is not None:
        answer = first_line(decision.reply)
        source = decision.sources[0].file if decision.sources else ""
    return Entry(message.ts, message.sender.id, message.sender.name, message.text, kind, answer, source)
