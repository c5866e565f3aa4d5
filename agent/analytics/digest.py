"""The weekly digest to each group's owners, privately: last week's figures in a few lines, the chart,
and the most asked open questions (the /gaps inbox, numbered for /answer) as a to-do for the knowledge.

Sent once per week and group: the week is marked in the store when the digest is handed out, so a
restart never sends it twice (at most once: a crash between marking and sending skips that week).
A bot that was down at the hour sends the latest week's digest when it is back; a digest that fails
to build is logged and tried again at the next tick.
"""
from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta

from agent import gaps
from agent.analytics import wording
from agent.analytics.days import week_start
from agent.clock import zone
from agent.analytics.funnel import summary
from agent.reports.digest import lines as reports_lines
from agent.events import Action, SendImage, Whisper
from agent.probation.report import digest_line as probation_line
from agent.settings import GroupConfig, Settings
from agent.store import Store

log = logging.getLogger(__name__)

OPEN_QUESTIONS_SHOWN = 5  # unanswered questions listed in the digest, most asked first


class Digest:
    """`tick(now)` from the runner's clock loop returns the digests that are due, once each."""

    def __init__(self, settings: Settings, store: Store, prompts, weekday: int = 0, hour: int = 9, screen=None):
        self.settings, self.store, self.prompts = settings, store, prompts
        self.screen = screen  # agent.gap_screen.Screen: the to-do leaves out what the knowledge answers now
        self.weekday, self.hour = weekday, hour  # when a week's digest goes out: the next Monday 09:00 local
        self.out_dir = settings.data_dir / "analytics"

    def due(self, group: GroupConfig, now: datetime) -> date | None:
        """The Monday of the week to report on, if its digest time has passed and it was not sent."""
        local = now.astimezone(zone(group.timezone))
        week = week_start(local.date()) - timedelta(days=7)
        send_at = datetime.combine(week + timedelta(days=7 + self.weekday), time(self.hour), zone(group.timezone))
        if local < send_at:
            week -= timedelta(days=7)
        sent = self.store.get(self._key(group))
        return week if sent is None or date.fromisoformat(sent) < week else None

    def tick(self, now: datetime) -> list[Action]:
        actions: list[Action] = []
        for group in self.settings.groups.values():
            sent = self.store.get(self._key(group))
            week = self.due(group, now)
            if week is None:
                continue
            try:
                built = self.build(group, week)
            except Exception:  # one group's failure must not hold back the others' digests
                log.exception("weekly digest of %s for the week of %s failed", group.id, week)
                continue
            if self.store.swap(self._key(group), sent, week.isoformat()):  # else another process sent it
                actions += built
        return actions

    def build(self, group: GroupConfig, week: date) -> list[Action]:
        """The digest of the week starting `week` for each owner; nothing for a week with no record at
        all (a fresh install) or a group without owners."""
        s = summary(self.store, group, week, week + timedelta(days=6))
        if not group.owners or not any(s.daily.values()):
            return []
        lang = group.language
        text = "\n".join([
            self.prompts.render("digest_head", lang, group=group.name or group.id, since=s.since, until=s.until),
            self.prompts.render("stats_body", lang, **wording.variables(s, lang, self.settings.llm)),
        ])
        text += reports_lines(self.store, self.prompts, group, week)
        inbox = gaps.open_gaps(self.store, group.id)
        if self.screen is not None:
            inbox = self.screen.keep(group, inbox)
        if inbox:
            lines = [self.prompts.render("cmd_gaps_line", lang, id=g.id, question=g.question, count=len(g.askers))
                     for g in inbox[:OPEN_QUESTIONS_SHOWN]]
            text += "\n\n" + self.prompts.render("digest_todo", lang, open=len(inbox), questions="\n".join(lines))
        if newcomers := probation_line(self.store, group, self.prompts, week):
            text += "\n" + newcomers
        from agent.analytics import charts  # here, once a week: matplotlib is 26 MB of RSS

        chart = charts.save(s, lang, self.out_dir / f"digest-{group.id}-{week.isoformat()}.png")
        return [a for owner in group.owners for a in (Whisper(owner.id, text), SendImage(str(chart), contact_id=owner.id))]

    @staticmethod
    def _key(group: GroupConfig) -> str:
        return f"analytics:digest:{group.id}"
