"""Owners told privately of new questions the knowledge could not answer, a batch at a time.

The bot tells a member it passed their question to the owners only when this is on for the group
(`gaps.notify_owners: batched`, and the group has owners): `tells_owners` decides both. The note goes
the way case files go, a Whisper to each owner, at most once per `gaps.batch_minutes`, listing the
open questions asked since the last note (near-duplicates merged, numbered for /answer). Questions
nobody was told about are screened (agent.gap_screen: what the knowledge answers now, chatter);
the ones a member was told were passed on are all listed. What was last noted is kept in the store, so
a restart neither repeats a note nor loses a question.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from agent import gaps
from agent.events import Action, Whisper
from agent.settings import GroupConfig, Settings
from agent.store import Store

log = logging.getLogger(__name__)

LISTED = 10  # questions named in one note; the rest are counted


def tells_owners(group: GroupConfig) -> bool:
    return group.gaps.notify_owners != "off" and bool(group.owners)


class GapNotes:
    """`tick(now)` from the app's clock returns the notes that are due."""

    def __init__(self, settings: Settings, store: Store, prompts, screen=None):
        self.settings, self.store, self.prompts = settings, store, prompts
        self.screen = screen  # agent.gap_screen.Screen: leaves out what the knowledge answers now

    def tick(self, now: datetime) -> list[Action]:
        actions: list[Action] = []
        for group in self.settings.groups.values():
            if not tells_owners(group):
                continue
            try:
                actions += self.note(group, now)
            except Exception:  # one group's failure must not hold back the others' notes
                log.exception("the gap note of %s failed", group.id)
        return actions

    def note(self, group: GroupConfig, now: datetime) -> list[Action]:
        key = f"gaps:noted:{group.id}"
        stored = self.store.get(key)
        last = stored or {"gap": 0, "at": None}
        if last["at"] and now - datetime.fromisoformat(last["at"]) < timedelta(minutes=group.gaps.batch_minutes):
            return []
        latest = max((r["id"] for r in self.store.open_gaps(group.id)), default=0)
        if latest <= last["gap"]:
            return []
        fresh = [g for g in gaps.open_gaps(self.store, group.id) if max(g.gap_ids) > last["gap"]]
        if self.screen is not None:
            # a member who was told "passed to the owners" is: only silent gaps are screened
            told = group.answer.unknown_reply_when_addressed
            kept = set(self.screen.keep(group, [g for g in fresh if not (told and g.addressed)]))
            fresh = [g for g in fresh if (told and g.addressed) or g in kept]
        if not self.store.swap(key, stored, {"gap": latest, "at": now.isoformat()}) or not fresh:
            return []  # nothing new, or another process sent this note
        lang = group.language
        lines = [self.prompts.render("cmd_gaps_line", lang, id=g.id, question=g.question, count=len(g.askers))
                 for g in fresh[:LISTED]]
        text = self.prompts.render("gap_note", lang, group=group.name or group.id, count=len(fresh),
                                   questions="\n".join(lines))
        return [Whisper(owner.id, text) for owner in group.owners]
