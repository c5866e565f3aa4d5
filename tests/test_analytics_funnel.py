"""Recorder and funnel on a generated month of events fed through the real Pipeline: the figures add up
to what was generated, and cohorts fall on the group's own week boundaries in any time zone.

The other analytics tests import `month`, `feed` and `pipeline_for` from here."""
from __future__ import annotations

import random
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from agent.analytics.funnel import summary
from agent.analytics.recorder import Recorder
from agent.events import Decision, DecisionKind, Member, Message, Violation
from agent.llm.prompts import Prompts
from agent.pipeline import Pipeline, Services
from agent.settings import GroupConfig, Person, Settings
from agent.state import tables
from agent.store import Store

REPO = Path(__file__).resolve().parents[1]
START = date(2025, 3, 3)  # a Monday
DAYS = 30
UTC = timezone.utc


def group(gid: str = "g", tz: str = "Asia/Shanghai", lang: str = "zh") -> GroupConfig:
    return GroupConfig(id=gid, name=f"群{gid}", theme="跑步", timezone=tz, language=lang,
                       owners=[Person(id="wxid_owner", name="群主")])


class Scripted:
    """The one route: decides each message as the generator planned it."""

    name = "scripted"

    def __init__(self):
        self.plan: dict[str, Decision] = {}

    def match(self, message, ctx):
        return True

    def handle(self, message, ctx):
        return self.plan[message.id]


def pipeline_for(store: Store, *groups: GroupConfig, data_dir: Path | None = None) -> tuple[Pipeline, Scripted]:
    settings = Settings(groups={g.id: g for g in groups}, data_dir=data_dir or Path("/nonexistent"))
    services = Services(settings=settings, store=store, kb=None, prompts=Prompts(REPO / "prompts"))
    route = Scripted()
    return Pipeline(services, [route], observers=[Recorder(store, settings.groups)]), route


@dataclass(frozen=True)
class Event:
    what: str  # message | join | leave
    group_id: str
    member: Member
    ts: datetime
    decision: Decision | None = None
    private: bool = False


KINDS = [DecisionKind.IGNORE] * 10 + [DecisionKind.ANSWER] * 3 + [DecisionKind.UNKNOWN, DecisionKind.NUDGE,
                                                                   DecisionKind.VIOLATION, DecisionKind.COMMAND]


def month(gid: str = "g", tz: str = "Asia/Shanghai", seed: int = 7) -> list[Event]:
    """A month in one group: 12 founders (no join record), ~7 newcomers a week of whom some speak;
    members who leave and members who go quiet; 10–40 messages a day of every decision kind, a few private chats with the bot.
    Times are in UTC, so only the recorder's conversion puts them on the group's local days."""
    rnd = random.Random(seed)
    zone = ZoneInfo(tz)
    events: list[Event] = []
    speakers = [Member(f"wxid_f{i}", f"老{i}") for i in range(12)]
    n, arriving = 0, []
    for day in (START + timedelta(days=i) for i in range(DAYS)):
        def at(hour: int, minute: int) -> datetime:
            return datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone).astimezone(UTC)

        speakers += arriving  # yesterday's newcomers who will speak
        arriving = []
        if rnd.random() < 0.3 and len(speakers) > 5:
            events.append(Event("leave", gid, speakers.pop(rnd.randrange(len(speakers))), at(21, 0)))
        if rnd.random() < 0.2 and len(speakers) > 5:
            speakers.pop(rnd.randrange(len(speakers)))  # goes quiet without leaving
        for j in range(rnd.randint(0, 2)):
            m = Member(f"wxid_n{day:%m%d}{j}", f"新{day:%m%d}{j}")
            events.append(Event("join", gid, m, at(rnd.choice([0, 12, 23]), rnd.randint(0, 59))))
            if rnd.random() < 0.6:
                arriving.append(m)
        for _ in range(rnd.randint(10, 40)):
            n += 1
            kind = rnd.choice(KINDS)
            violation = Violation(rnd.choice(["ad", "link", "flood"]), 1) if kind == DecisionKind.VIOLATION else None
            calls = 1 if kind in (DecisionKind.ANSWER, DecisionKind.UNKNOWN) and rnd.random() < 0.5 else 0
            decision = Decision(kind, f"m{n}", "scripted", violation=violation, llm_calls=calls, llm_tokens=calls * 321)
            events.append(Event("message", gid, rnd.choice(speakers), at(rnd.randint(0, 23), rnd.randint(0, 59)),
                                decision, private=rnd.random() < 0.05))
    return sorted(events, key=lambda e: e.ts)


def feed(pipeline: Pipeline, route: Scripted, events: list[Event]) -> None:
    for e in events:
        if e.what == "join":
            pipeline.on_join(e.group_id, e.member, e.ts)
        elif e.what == "leave":
            pipeline.on_leave(e.group_id, e.member, e.ts)
        else:
            route.plan[e.decision.message_id] = e.decision
            pipeline.dispatch(Message(e.decision.message_id, e.group_id, e.member, "（正文不入统计）", e.ts,
                                      private=e.private))


@pytest.fixture
def fed(fed_month, tmp_path):
    return Store(fed_month(tmp_path / "state.db")), group(), month()


def local(ts: datetime, tz: str = "Asia/Shanghai") -> date:
    return ts.astimezone(ZoneInfo(tz)).date()


def test_no_message_text_is_stored(fed):
    store, _, _ = fed
    for table in (tables.counts, tables.activity, tables.membership, tables.members):
        for row in store.rows(sa.select(table)):
            assert "正文" not in " ".join(map(str, tuple(row)))


def test_the_month_adds_up(fed):
    store, g, events = fed
    s = summary(store, g, START, START + timedelta(days=DAYS - 1))
    messages = [e for e in events if e.what == "message"]
    in_group = [e for e in messages if not e.private]
    kinds = Counter(e.decision.kind for e in messages)
    assert s.messages == len(in_group) and s.total("private") == len(messages) - len(in_group)
    assert sum(s.total(f"decision.{k}") for k in DecisionKind) == len(messages)
    assert (s.answered, s.unknown, s.total("decision.nudge")) == (kinds["answer"], kinds["unknown"], kinds["nudge"])
    assert s.asked == s.answered + s.unknown and s.answer_rate == pytest.approx(s.answered / s.asked)
    assert s.violations == dict(Counter(e.decision.violation.kind for e in messages if e.decision.violation))
    assert s.total("llm.calls") == sum(e.decision.llm_calls for e in messages)
    assert s.total("llm.tokens") == 321 * s.total("llm.calls")
    assert s.total("members.joined") == sum(e.what == "join" for e in events)
    assert s.total("members.left") == sum(e.what == "leave" for e in events)
    # per local day, and per member: the same numbers from the other side
    per_day = Counter(local(e.ts) for e in in_group)
    assert s.series("messages") == [per_day[d] for d in s.daily]
    speakers_by_day = defaultdict(set)
    for e in in_group:
        speakers_by_day[local(e.ts)].add(e.member.id)
    assert s.active_daily == {d: len(speakers_by_day[d]) for d in s.daily}
    per_member = Counter(e.member.id for e in in_group)
    assert s.active == len(per_member)
    assert s.top == sorted(per_member.items(), key=lambda kv: (-kv[1], kv[0]))[:10]


def test_a_week_is_the_sum_of_its_days(fed):
    store, g, _ = fed
    month_summary = summary(store, g, START, START + timedelta(days=DAYS - 1))
    weeks = [summary(store, g, START + timedelta(days=7 * w), START + timedelta(days=7 * w + 6)) for w in range(4)]
    for counter in ("messages", "decision.answer", "members.joined", "llm.tokens"):
        assert sum(w.total(counter) for w in weeks) == sum(month_summary.series(counter)[:28])
    assert [w.active for w in weeks] == list(month_summary.active_weekly.values())[:4]


def test_silent_members_and_newcomers(fed):
    store, g, events = fed
    until = START + timedelta(days=DAYS - 1)
    s = summary(store, g, until - timedelta(days=6), until)
    joins = {e.member.id for e in events if e.what == "join"}
    left = {e.member.id for e in events if e.what == "leave"}
    spoke = {e.member.id for e in events if e.what == "message" and not e.private}
    spoke_lately = {e.member.id for e in events if e.what == "message" and not e.private and local(e.ts) >= s.since}
    assert set(s.silent_never) == joins - spoke - left
    assert set(s.silent_quiet) == (spoke - spoke_lately - left) - set(s.silent_never)
    assert not set(s.silent_never) & set(s.silent_quiet)
    assert s.silent_never and s.silent_quiet  # the generated month has both kinds
    new = {e.member.id for e in events if e.what == "join" and local(e.ts) >= s.since}
    assert s.newcomers == len(new) and s.newcomers_spoke == len(new & spoke)


def test_cohorts_cover_every_newcomer_once(fed):
    store, g, events = fed
    s = summary(store, g, START, START + timedelta(days=DAYS - 1))
    assert sum(c.members for c in s.cohorts) == len({e.member.id for e in events if e.what == "join"})
    assert [c.week.weekday() for c in s.cohorts] == [0] * len(s.cohorts)
    for c in s.cohorts:
        assert all(0 <= r <= c.members for r in c.retained)
        assert len(c.retained) == (s.until - c.week).days // 7 + 1


# ---- cohorts at week boundaries, in two time zones ----------------------------------------------------

SUNDAY_LATE = datetime(2025, 3, 9, 15, 50, tzinfo=UTC)  # Sun 23:50 Shanghai; Sun 11:50 New York (EDT)
MONDAY_EARLY = datetime(2025, 3, 9, 16, 10, tzinfo=UTC)  # Mon 00:10 Shanghai; Sun 12:10 New York


def boundary(tz: str):
    store = Store(":memory:")
    g = group("b", tz)
    pipeline, route = pipeline_for(store, g)
    a, b = Member("wxid_a", "A"), Member("wxid_b", "B")
    say = lambda i, who, ts: Event("message", "b", who, ts, Decision(DecisionKind.IGNORE, f"b{i}", "scripted"))  # noqa: E731
    feed(pipeline, route, [
        Event("join", "b", a, SUNDAY_LATE),
        say(1, a, datetime(2025, 3, 9, 16, 5, tzinfo=UTC)),  # Mon 00:05 Shanghai; Sun 12:05 New York
        Event("join", "b", b, MONDAY_EARLY),
        say(2, b, datetime(2025, 3, 16, 15, 59, tzinfo=UTC)),  # Sun 23:59 Shanghai; Sun 11:59 New York
    ])
    return summary(store, g, date(2025, 3, 3), date(2025, 3, 23))


def test_cohorts_follow_the_group_week_in_shanghai():
    s = boundary("Asia/Shanghai")
    assert [(c.week, c.members, c.retained) for c in s.cohorts] == [
        (date(2025, 3, 3), 1, (0, 1, 0)),  # A joined Sunday night and first spoke on Monday: week +1
        (date(2025, 3, 10), 1, (1, 0)),  # B joined ten minutes after midnight: next week's cohort
    ]


def test_the_same_instants_fall_in_other_weeks_in_new_york():
    s = boundary("America/New_York")
    assert [(c.week, c.members, c.retained) for c in s.cohorts] == [
        (date(2025, 3, 3), 2, (1, 1, 0)),  # both joined on Sunday there; A spoke the same Sunday, B a week later
    ]


def test_a_member_who_left_is_not_silent_and_a_rejoin_keeps_the_first_cohort():
    store = Store(":memory:")
    g = group("r")
    pipeline, route = pipeline_for(store, g)
    c = Member("wxid_c", "C")
    t = datetime(2025, 3, 4, 2, 0, tzinfo=UTC)
    feed(pipeline, route, [Event("join", "r", c, t), Event("leave", "r", c, t + timedelta(days=1))])
    s = summary(store, g, date(2025, 3, 3), date(2025, 3, 9))
    assert s.silent_never == [] and s.cohorts[0].members == 1
    feed(pipeline, route, [Event("join", "r", c, t + timedelta(days=8))])
    s = summary(store, g, date(2025, 3, 3), date(2025, 3, 16))
    assert s.silent_never == ["wxid_c"] and [x.week for x in s.cohorts] == [date(2025, 3, 3)]
    assert s.total("members.joined") == 2 and s.newcomers == 1


def test_a_summary_of_a_fresh_database_is_empty():
    s = summary(Store(":memory:"), group(), START, START + timedelta(days=6))
    assert s.messages == 0 and s.answer_rate is None and s.cohorts == [] and s.top == []
