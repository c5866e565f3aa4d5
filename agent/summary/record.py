"""Writes each decided group message into the transcript (a pipeline observer), and purges what is
older than the summaries can ask for."""
from __future__ import annotations

from datetime import datetime, timedelta

from agent.events import Decision, Message
from agent.state import transcript
from agent.summary.compose import Entry, EntryKind
from agent.summary.transcript import entry_for


# how long the transcript is kept: a summary reaches a day back at most; the rest is margin
KEEP = timedelta(hours=36)


class TranscriptRecorder:
    """Observer for `Pipeline.observers` (`decided` and `recalled`: joins and leaves are not conversation)."""

    def __init__(self, store):
        self.store = store

    def decided(self, message: Message, decision: Decision | None) -> None:
        entry = entry_for(message, decision)
        if entry is None:
            return
        transcript.record(self.store, message.group_id, message.id, entry.ts, entry.sender_id, entry.sender_name,
                          str(entry.kind), entry.text, entry.answer, entry.source)

    def recalled(self, group_id: str, message_id: str) -> None:
        """The sender took it back: the row stays (it was said), its words go."""
        transcript.hide(self.store, message_id)



def purge(store, now: datetime) -> int:
    """Drop transcript rows older than KEEP (called hourly with the store's own retention purge)."""
    return transcript.purge(store, now - KEEP)


def last_spoke(store, group_id: str, member_id: str, before: datetime) -> datetime | None:
    return transcript.last_spoke(store, group_id, member_id, before)


def entries(store, group_id: str, start: datetime, end: datetime) -> list[Entry]:
    return [Entry(r["ts"], r["sender_id"], r["sender_name"], r["text"], EntryKind(r["kind"]), r["answer"], r["source"])
            for r in transcript.window(store, group_id, start, end)]
