"""The scheduler with a controllable clock: drafting lead, approval, exactly-once posting across a
restart, missed slots, pacing across groups, quiet hours, cancellation."""
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace

import pytest

from agent.events import Say, Whisper
from agent.llm.prompts import Prompts
from agent.schedule.scheduler import GRACE, Scheduler
from agent.settings import GroupConfig, Person, ScheduleConfig, Settings
from agent.store import Store
from pg import postgres, postgres_url, state_url  # noqa: F401  (fixtures)

REPO = Path(__file__).resolve().parents[1]
CST = timezone(timedelta(hours=8))
MON9 = datetime(2025, 3, 17, 9, 0, tzinfo=CST)  # a Monday, the slot of "weekly Mon 09:00"
GAP = timedelta(minutes=3)


class KB:
    """Knowledge sections, best first, whatever the query."""

    def search(self, query, scopes, k=5):
        return [SimpleNamespace(file="training.md", heading="配速", text="轻松跑比目标配速慢60–90秒。"),
                SimpleNamespace(file="events.md", heading="周六LSD", text="每周六6:30在驿站集合。")][:k]


def group(gid, *schedules, **kw):
    return GroupConfig(id=gid, name=f"{gid}群", theme="跑步训练", owners=[Person(id=f"{gid}-owner")],
                       schedules=list(schedules), **kw)


def weekly(**kw):
    return ScheduleConfig(**{"id": "tip", "when": "weekly Mon 09:00", "kind": "tip", **kw})


def scheduler(path, *groups):
    settings = Settings(groups={g.id: g for g in groups})
    return Scheduler(settings, Store(path), KB(), Prompts(REPO / "prompts"), group_gap=GAP)


def says(actions):
    return [a for a in actions if isinstance(a, Say)]


def whispers(actions):
    return [a for a in actions if isinstance(a, Whisper)]


@pytest.fixture
def db(state_url):
    """Each test runs on a SQLite file and on a real PostgreSQL (tests/pg.py)."""
    return state_url


def test_draft_is_made_lead_hours_ahead_once_and_sent_to_every_owner(db):
    g = group("run", weekly(lead_hours=24))
    g.owners.append(Person(id="run-owner2"))
    s = scheduler(db, g)
    assert s.tick(MON9 - timedelta(hours=24, minutes=1)) == []
    review = s.tick(MON9 - timedelta(hours=24))
    assert [w.contact_id for w in review] == ["run-owner", "run-owner2"]
    assert "#1" in review[0].text and "/approve 1" in review[0].text and "/skip 1" in review[0].text
    assert "轻松跑" in review[0].text and "training.md › 配速" in review[0].text
    assert s.tick(MON9 - timedelta(hours=23)) == []  # drafted once per slot


def test_required_approval_is_never_posted_without_it_and_owners_are_told(db):
    s = scheduler(db, group("run", weekly()))
    s.tick(MON9 - timedelta(hours=24))
    at_slot = s.tick(MON9)
    assert says(at_slot) == [] and len(whispers(at_slot)) == 1 and "没有通过" in at_slot[0].text
    assert s.tick(MON9 + timedelta(minutes=5)) == []  # told once
    assert s.tick(MON9 + GRACE + timedelta(minutes=1)) == []
    assert s.drafts.get(1).status == "missed"
    # an approval after the grace period changes nothing
    assert not s.drafts.update(1, MON9 + timedelta(hours=1), expect=("pending",), status="approved")
    assert says(s.tick(MON9 + timedelta(hours=1))) == []


def test_approval_within_the_grace_period_posts_late(db):
    s = scheduler(db, group("run", weekly()))
    s.tick(MON9 - timedelta(hours=24))
    s.tick(MON9)
    s.drafts.update(1, MON9 + timedelta(minutes=9), status="approved", editor="run-owner")
    posted = says(s.tick(MON9 + timedelta(minutes=10)))
    assert len(posted) == 1 and posted[0].group_id == "run" and "轻松跑" in posted[0].text
    assert s.drafts.get(1).status == "posted"


def test_auto_approval_posts_at_the_slot_exactly_once(db):
    s = scheduler(db, group("run", weekly(approval="auto", lead_hours=1)))
    notice = s.tick(MON9 - timedelta(hours=1))
    assert "自动发到" in notice[0].text and "/skip 1" in notice[0].text
    assert says(s.tick(MON9 - timedelta(seconds=1))) == []
    assert len(says(s.tick(MON9))) == 1
    assert s.tick(MON9 + timedelta(seconds=30)) == [] and s.tick(MON9 + timedelta(minutes=10)) == []


def test_restart_mid_slot_posts_each_group_once(db):
    groups = [group("run", weekly(approval="auto", groups=["run2"])), group("run2")]
    first = scheduler(db, *groups)
    first.tick(MON9 - timedelta(hours=24))
    assert [a.group_id for a in says(first.tick(MON9))] == ["run"]
    first.drafts.store.close()  # the process dies here, between the two groups
    second = scheduler(db, *groups)  # a new process on the same SQLite file
    assert says(second.tick(MON9)) == []
    assert says(second.tick(MON9 + timedelta(seconds=30))) == []
    assert [a.group_id for a in says(second.tick(MON9 + GAP))] == ["run2"]
    assert second.tick(MON9 + 3 * GAP) == [] and second.drafts.get(1).status == "posted"


def test_two_processes_ticking_at_once_post_once(db):
    g = group("run", weekly(approval="auto"))
    a, b = scheduler(db, g), scheduler(db, g)
    a.tick(MON9 - timedelta(hours=24))
    assert len(says(a.tick(MON9)) + says(b.tick(MON9))) == 1


def test_a_slot_missed_within_the_grace_period_is_posted_late(db):
    s = scheduler(db, group("run", weekly(approval="auto")))
    s.tick(MON9 - timedelta(hours=24))  # then the bot is down over the slot
    late = says(scheduler(db, group("run", weekly(approval="auto"))).tick(MON9 + GRACE - timedelta(minutes=1)))
    assert len(late) == 1


def test_an_older_missed_slot_is_reported_and_not_posted(db):
    g = group("run", weekly(approval="auto"))
    s = scheduler(db, g)
    s.tick(MON9 - timedelta(hours=24))
    back = s.tick(MON9 + timedelta(hours=2))
    assert says(back) == [] and len(whispers(back)) == 1 and "错过" in back[0].text
    assert s.drafts.get(1).status == "missed"
    assert s.tick(MON9 + timedelta(hours=3)) == []


def test_a_slot_the_bot_slept_through_entirely_is_reported(db):
    s = scheduler(db, group("run", weekly(approval="auto", lead_hours=1)))
    s.tick(MON9 - timedelta(hours=1))
    s.tick(MON9)  # week 1 posted; the bot is then off for the whole of week 2's lead and slot
    back = s.tick(MON9 + timedelta(days=7, hours=3))
    assert says(back) == [] and "错过" in whispers(back)[0].text and "3月24日" in whispers(back)[0].text
    assert s.drafts.get(2).status == "missed"


def test_multi_group_posts_are_paced(db):
    groups = [group("a", weekly(approval="auto", groups=["b", "c"])), group("b"), group("c")]
    s = scheduler(db, *groups)
    s.tick(MON9 - timedelta(hours=24))
    timeline = {}
    for minutes in range(0, 12):
        for say in says(s.tick(MON9 + timedelta(minutes=minutes))):
            timeline[say.group_id] = minutes
    assert timeline == {"a": 0, "b": 3, "c": 6}


def test_quiet_hours_hold_a_post_until_they_end(db):
    g = group("run", ScheduleConfig(id="night", when="daily 23:30", text="晚安", approval="auto", lead_hours=1))
    s = scheduler(db, g)
    night = datetime(2025, 3, 17, 23, 30, tzinfo=CST)
    assert says(s.tick(night - timedelta(hours=1))) == []
    assert says(s.tick(night)) == []
    assert says(s.tick(night + timedelta(hours=7))) == []  # 06:30
    assert [a.text for a in says(s.tick(datetime(2025, 3, 18, 7, 0, tzinfo=CST)))] == ["晚安"]


def test_cancelled_slot_is_neither_drafted_nor_posted_and_the_next_one_is(db):
    g = group("run", weekly(approval="auto"))
    s = scheduler(db, g)
    now = MON9 - timedelta(days=3)
    upcoming = s.upcoming(g, now, horizon=timedelta(days=14))
    assert [u.draft for u in upcoming] == [None, None]  # this Monday and the next, not drafted yet
    assert s.cancel(g, upcoming[1], "run-owner", now)  # cancel the second
    s.tick(MON9 - timedelta(hours=24))
    assert len(says(s.tick(MON9))) == 1
    week2 = MON9 + timedelta(days=7)
    assert s.tick(week2 - timedelta(hours=24)) == [] and s.tick(week2) == []


def test_rejected_draft_is_not_posted(db):
    s = scheduler(db, group("run", weekly(approval="auto")))
    s.tick(MON9 - timedelta(hours=24))
    assert s.drafts.update(1, MON9 - timedelta(hours=1), status="rejected", editor="run-owner")
    assert s.tick(MON9) == []


def test_nothing_worth_posting_is_reported_not_posted(db):
    s = scheduler(db, group("run", weekly(kind="digest", approval="auto")))
    told = s.tick(MON9 - timedelta(hours=24))
    assert "不发" in told[0].text and "没有已解答的问题" in told[0].text
    assert s.tick(MON9) == []
