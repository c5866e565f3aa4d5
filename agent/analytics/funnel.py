"""The funnel read from the recorded counts: who joined, who stayed and still speaks, who went quiet,
who carries the conversation, and how well the bot answers. One `Summary` feeds /stats, the digest,
the charts and the report, so they can never disagree.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from agent.analytics.days import each_day, local_day, week_start
from agent.quoting import display_name
from agent.settings import GroupConfig
from agent.state import analytics as state
from agent.store import Store

TOP = 10  # top contributors listed


@dataclass(frozen=True)
class Cohort:
    """Members whose first recorded join fell in the week starting `week` (a Monday, local time).
    `retained[n]` of them spoke in week `week + n`; the last week may still be under way."""

    week: date
    members: int
    retained: tuple[int, ...]


@dataclass(frozen=True)
class Summary:
    """Figures of one group for the days `since`..`until`, both included, in the group's time zone."""

    group_id: str
    since: date
    until: date
    daily: dict[date, Counter]  # every day of the period → its counters (zero days included)
    active_daily: dict[date, int]  # distinct members who spoke that day
    active_weekly: dict[date, int]  # Monday → distinct members who spoke that week (within the period)
    active: int  # distinct members who spoke in the period
    top: list[tuple[str, int]]  # (member id, messages), most first
    silent_never: list[str]  # present at `until`, joined, and never spoke since
    silent_quiet: list[str]  # present at `until`, spoke before the period but not in it
    cohorts: list[Cohort]
    newcomers: int  # members whose first recorded join falls in the period
    newcomers_spoke: int  # of them, how many spoke after joining
    cases: dict[str, int]  # cases opened in the period by outcome (the decision, or the status while open)
    names: dict[str, str] = field(default_factory=dict)

    def total(self, counter: str) -> int:
        return sum(day[counter] for day in self.daily.values())

    def series(self, counter: str) -> list[int]:
        return [self.daily[d][counter] for d in self.daily]

    @property
    def messages(self) -> int:
        return self.total("messages")

    @property
    def answered(self) -> int:
        return self.total("decision.answer")

    @property
    def unknown(self) -> int:
        return self.total("decision.unknown")

    @property
    def asked(self) -> int:
        return self.answered + self.unknown

    @property
    def offtopic(self) -> int:
        """Messages judged off-topic, nudged or not."""
        return self.total("decision.nudge")

    @property
    def nudges(self) -> int:
        """Nudges actually sent to the group."""
        return self.total("nudge.sent")

    @property
    def answer_rate(self) -> float | None:
        """Share of questions the bot answered; None when nobody asked anything."""
        return self.answered / self.asked if self.asked else None

    @property
    def violations(self) -> dict[str, int]:
        kinds: Counter = Counter()
        for day in self.daily.values():
            kinds.update({k.removeprefix("violation."): v for k, v in day.items() if k.startswith("violation.")})
        return dict(kinds.most_common())

    def name(self, member_id: str) -> str:
        """The member's name as reports show it: quoted (agent.quoting); a name that advertises, or
        none, shows as the contact id, which identifies the member to the owners."""
        return display_name(self.names.get(member_id), member_id)


def _counts(store: Store, group_id: str, since: date, until: date) -> dict[date, Counter]:
    daily = {d: Counter() for d in each_day(since, until)}
    for row in state.daily_counts(store, group_id, since, until):
        daily[row["day"]][row["counter"]] += row["value"]
    return daily


def _activity(store: Store, group_id: str, until: date) -> dict[str, dict[date, int]]:
    """member id → day → messages, for the whole history up to `until` (cohorts look back)."""
    spoke: dict[str, dict[date, int]] = defaultdict(dict)
    for row in state.activity_until(store, group_id, until):
        spoke[row["member_id"]][row["day"]] = row["messages"]
    return spoke


def _membership(store: Store, group_id: str, until: date) -> tuple[dict[str, date], dict[str, date], set[str]]:
    """(first join day, latest join day, members who had left by the end of `until`)."""
    first, latest, gone = {}, {}, set()
    for row in state.membership_until(store, group_id, until):
        member, day = row["member_id"], row["day"]
        if row["event"] == "join":
            first.setdefault(member, day)
            latest[member] = day
            gone.discard(member)
        else:
            gone.add(member)
    return first, latest, gone


def cohorts(first_join: dict[str, date], spoke: dict[str, dict[date, int]], since: date, until: date) -> list[Cohort]:
    """Weekly join cohorts for the weeks touching the period, with how many spoke in each later week."""
    by_week: dict[date, list[str]] = defaultdict(list)
    for member, day in first_join.items():
        if week_start(day) >= week_start(since):
            by_week[week_start(day)].append(member)
    out = []
    for week in sorted(by_week):
        members = by_week[week]
        retained = []
        start = week
        while start <= until:
            end = min(start + timedelta(days=6), until)
            retained.append(sum(1 for m in members
                                if any(first_join[m] <= d and start <= d <= end for d in spoke.get(m, {}))))
            start += timedelta(days=7)
        out.append(Cohort(week, len(members), tuple(retained)))
    return out


def _cases(store: Store, group: GroupConfig, since: date, until: date) -> dict[str, int]:
    outcomes: Counter = Counter()
    for row in store.cases(group.id):
        if since <= local_day(row["ts"], group.timezone) <= until:
            outcomes[row["decision"] or row["status"]] += 1
    return dict(outcomes.most_common())


def summary(store: Store, group: GroupConfig, since: date, until: date) -> Summary:
    """The group's figures for `since`..`until` (local days, both included)."""
    daily = _counts(store, group.id, since, until)
    spoke = _activity(store, group.id, until)
    first, latest, gone = _membership(store, group.id, until)
    in_period: dict[str, int] = {}
    active_daily = {d: 0 for d in daily}
    active_weekly: Counter = Counter()
    for member, days in spoke.items():
        recent = [d for d in days if d >= since]
        if not recent:
            continue
        in_period[member] = sum(days[d] for d in recent)
        for d in recent:
            active_daily[d] += 1
        active_weekly.update(set(map(week_start, recent)))
    newcomers = [m for m, day in first.items() if day >= since]
    newcomers_spoke = sum(1 for m in newcomers if any(d >= first[m] for d in spoke.get(m, {})))
    present = (set(first) | set(spoke)) - gone
    silent = sorted(m for m in present if m not in in_period)
    never = [m for m in silent if not any(d >= latest.get(m, date.min) for d in spoke.get(m, {}))]
    names = state.names(store, group.id)
    names.update({p.id: p.name for p in [*group.owners, *group.admins, *group.members] if p.name})
    return Summary(
        group_id=group.id, since=since, until=until, daily=daily, active_daily=active_daily,
        active_weekly=dict(sorted(active_weekly.items())), active=len(in_period),
        top=sorted(in_period.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP],
        silent_never=never, silent_quiet=[m for m in silent if m not in never],
        cohorts=cohorts(first, spoke, since, until), newcomers=len(newcomers), newcomers_spoke=newcomers_spoke,
        cases=_cases(store, group, since, until), names=names)
