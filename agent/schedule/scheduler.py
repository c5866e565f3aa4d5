"""Schedules → slots → drafts → owners' review → posting, driven by `tick(now)`.

The scheduler keeps no state of its own: everything is in SQLite (drafts, posts), so a new instance
on the same file (a restart) carries on where the old one stopped, and `tick` can be called as often
as the runner likes. Time is passed in, so tests drive it with a fake clock.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from agent.events import Action, Say, Whisper
from agent.schedule import slots
from agent.schedule.drafting import Drafter
from agent.schedule.store import Draft, ScheduleStore
from agent.settings import GroupConfig, ScheduleConfig, Settings
from agent.store import Store

log = logging.getLogger(__name__)

GRACE = timedelta(minutes=30)  # a slot missed by less than this (a restart, quiet hours) is posted late
GROUP_GAP = timedelta(minutes=3)  # between posting one draft to two groups: the same text in many
# groups at once is what gets a WeChat account flagged
LOOKBACK = timedelta(days=7)  # slots missed longer ago than this are not reported one by one
HORIZON = timedelta(days=8)  # how far ahead /schedule list looks


@dataclass(frozen=True)
class Upcoming:
    """A post to come: a draft, or a configured slot not drafted yet (draft None)."""

    at: datetime  # when it goes out (UTC), after the group's quiet hours
    schedule_id: str
    slot: datetime
    draft: Draft | None


class Scheduler:
    def __init__(self, settings: Settings, store: Store, kb, prompts, llm=None, *, budget=None,
                 grace: timedelta = GRACE, group_gap: timedelta = GROUP_GAP):
        self.settings, self.prompts = settings, prompts
        self.grace, self.group_gap = grace, group_gap
        self.drafts = ScheduleStore(store)
        self.drafter = Drafter(store, self.drafts, kb, prompts, llm, budget, settings.llm.encoding)

    def tick(self, now: datetime) -> list[Action]:
        """Draft what is due for drafting, then post what is due for posting. Idempotent."""
        now = now.astimezone(timezone.utc)
        actions: list[Action] = []
        for group in self.settings.groups.values():
            for sched in group.schedules:
                try:
                    actions += self._draft_due(group, sched, now)
                except Exception:  # one broken schedule must not stop the others
                    log.exception("schedule %s of group %s could not be drafted", sched.id, group.id)
        for draft in self.drafts.open_drafts(due_by=now):
            actions += self._post(draft, now)
        return actions

    # ---- drafting ----
    def _draft_due(self, group: GroupConfig, sched: ScheduleConfig, now: datetime) -> list[Action]:
        last = self.drafts.last_slot(group.id, sched.id, before=now)
        start = max(last, now - LOOKBACK) if last else now - self.grace
        lead = timedelta(hours=sched.lead_hours)
        actions: list[Action] = []
        for slot in slots.between(sched.when, group.timezone, start, now + lead):
            if not self.drafts.has(group.id, sched.id, slot):
                actions += self.draft_slot(group, sched, slot, now)
        return actions

    def draft_slot(self, group: GroupConfig, sched: ScheduleConfig, slot: datetime, now: datetime,
                   post_at: datetime | None = None) -> list[Action]:
        """Draft one slot (to be posted at `post_at`, default the slot) and send it for review."""
        targets = [group.id] + [g for g in sched.groups if g != group.id]
        due = slots.after_quiet(group, post_at or slot)
        if now - due > self.grace:  # the bot was down through the whole slot
            draft_id = self.drafts.add(group.id, sched.id, slot, "", [], targets, "missed", None, now, post_at)
            return self._missed(group, draft_id, sched.id, due, targets) if draft_id else []
        composed = self.drafter.compose(group, sched, now)
        if not composed.text:
            draft_id = self.drafts.add(group.id, sched.id, slot, "", [], targets, "skipped", "bot", now, post_at)
            return self._tell(group, "sched_nothing", id=draft_id, schedule=sched.id, when=slots.show(group, due),
                              reason=composed.note) if draft_id else []
        auto = sched.approval == "auto"
        draft_id = self.drafts.add(group.id, sched.id, slot, composed.text, composed.sources, targets,
                                   "approved" if auto else "pending", "auto" if auto else None, now, post_at)
        if draft_id is None:
            return []  # another tick (or process) drafted this slot first
        return self._tell(group, "sched_auto" if auto else "sched_review", id=draft_id, schedule=sched.id,
                          when=slots.show(group, due), targets=self._names(targets), text=composed.text,
                          sources="；".join(composed.sources) or "-",
                          note=f"\n{composed.note}" if composed.note else "")

    # ---- posting ----
    def _post(self, draft: Draft, now: datetime) -> list[Action]:
        group = self.settings.groups.get(draft.group_id)
        if group is None:
            return []  # the group left the config: its drafts wait, untouched
        due = slots.after_quiet(group, draft.post_at)
        if now < due:
            return []
        if draft.status == "pending":
            return self._unapproved(group, draft, due, now)
        actions: list[Action] = []
        done = self.drafts.posts(draft.id)
        sent = [r["ts"] for r in done.values() if r["status"] == "sent"]
        for i, target in enumerate(draft.targets):
            if target in done:
                continue
            nominal = due + i * self.group_gap
            where = self.settings.groups.get(target)
            if where is None or now - nominal > self.grace:
                if self.drafts.claim(draft, target, "missed", now):
                    actions += self._missed(group, draft.id, draft.schedule_id, due, [target])
                continue
            if now < nominal or (sent and now < max(sent) + self.group_gap) or slots.quiet(where, now):
                break  # one group per gap: the next target waits for a later tick
            post = Say(target, draft.text)
            if self.drafts.claim(draft, target, "sent", now, send=post):
                actions.append(post)
            break
        done = self.drafts.posts(draft.id)
        if len(done) == len(draft.targets):
            final = "posted" if any(r["status"] == "sent" for r in done.values()) else "missed"
            self.drafts.update(draft.id, now, expect=("approved",), status=final)
        return actions

    def _unapproved(self, group: GroupConfig, draft: Draft, due: datetime, now: datetime) -> list[Action]:
        """Approval required and not given: never post. Tell the owners once at the slot (they may
        still approve within the grace period), and once more only if they never heard of it."""
        if now - due > self.grace:
            if self.drafts.update(draft.id, now, expect=("pending",), status="missed", told="missed") \
                    and draft.told != "due":
                return self._missed(group, draft.id, draft.schedule_id, due, draft.targets)
            return []
        if draft.told is None and self.drafts.update(draft.id, now, expect=("pending",), told="due"):
            return self._tell(group, "sched_unapproved", id=draft.id, schedule=draft.schedule_id,
                              when=slots.show(group, due), until=slots.show(group, due + self.grace))
        return []

    # ---- owners ----
    def _missed(self, group: GroupConfig, draft_id: int, schedule_id: str, due: datetime,
                targets: list[str]) -> list[Action]:
        return self._tell(group, "sched_missed", id=draft_id, schedule=schedule_id, when=slots.show(group, due),
                          targets=self._names(targets), grace=int(self.grace.total_seconds() // 60))

    def _tell(self, group: GroupConfig, name: str, /, **values) -> list[Action]:
        if not group.owners:
            log.warning("group %s has no owners configured: nobody to tell (%s)", group.id, name)
        text = self.prompts.render(name, group.language, **values)
        return [Whisper(owner.id, text) for owner in group.owners]

    def _names(self, group_ids: list[str]) -> str:
        groups = self.settings.groups
        return "、".join(groups[g].name or g if g in groups else g for g in group_ids)

    # ---- for the chat commands ----
    def draft_next(self, group: GroupConfig, now: datetime, horizon: timedelta = HORIZON) -> list[Action]:
        """On an owner's demand (/schedule list): the next slot of each configured schedule that has
        no draft yet is drafted now rather than `lead_hours` before it, so there is a draft to read
        and /approve when a schedule has just been configured. Later slots are drafted as usual."""
        now = now.astimezone(timezone.utc)
        actions: list[Action] = []
        for sched in group.schedules:
            upcoming = slots.between(sched.when, group.timezone, now, now + horizon)[:1]
            for slot in upcoming:
                if not self.drafts.has(group.id, sched.id, slot):
                    actions += self.draft_slot(group, sched, slot, now)
        return actions

    def upcoming(self, group: GroupConfig, now: datetime, horizon: timedelta = HORIZON) -> list[Upcoming]:
        """Posts to come in this group, drafted or not, soonest first."""
        now = now.astimezone(timezone.utc)
        items = [Upcoming(slots.after_quiet(group, d.post_at), d.schedule_id, d.slot, d)
                 for d in self.drafts.open_drafts(group.id)]
        items = [u for u in items if now - u.at <= self.grace]
        for sched in group.schedules:
            for slot in slots.between(sched.when, group.timezone, now, now + horizon):
                if not self.drafts.has(group.id, sched.id, slot):
                    items.append(Upcoming(slots.after_quiet(group, slot), sched.id, slot, None))
        return sorted(items, key=lambda u: (u.at, u.schedule_id))

    def add_once(self, group: GroupConfig, text: str, at: datetime, editor: str, key: str, now: datetime) -> int | None:
        """A one-off post from chat: its author wrote the text, so it is approved as it stands."""
        return self.drafts.add(group.id, f"chat:{key}", at, text, [], [group.id], "approved", editor, now)

    def cancel(self, group: GroupConfig, item: Upcoming, editor: str, now: datetime) -> bool:
        if item.draft is not None:
            return self.drafts.update(item.draft.id, now, status="skipped", editor=editor)
        targets = [group.id] + next((s.groups for s in group.schedules if s.id == item.schedule_id), [])
        return self.drafts.add(group.id, item.schedule_id, item.slot, "", [], targets, "skipped", editor, now) is not None

    def move(self, group: GroupConfig, item: Upcoming, to: datetime, now: datetime) -> tuple[bool, list[Action]]:
        """Post `item` at `to` instead. A slot not drafted yet is drafted now (owners review it as usual)."""
        if item.draft is None:
            sched = next(s for s in group.schedules if s.id == item.schedule_id)
            return True, self.draft_slot(group, sched, item.slot, now.astimezone(timezone.utc), post_at=to)
        if self.drafts.posts(item.draft.id):
            return False, []  # posting has begun
        return self.drafts.update(item.draft.id, now, post_at=to, told=None), []
