"""Each repository of agent.state on a SQLite file and on a real PostgreSQL: the upserts, the
compare-and-set updates and the time comparisons behave the same on both."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from agent.state import analytics, feedback, gaps, moderation, tables
from agent.state.schedule import ScheduleStore
from agent.store import Store
from pg import postgres, postgres_url, state_url  # noqa: F401  (fixtures)

T0 = datetime(2025, 3, 10, 12, 0, tzinfo=timezone.utc)
DAY = date(2025, 3, 10)


@pytest.fixture
def store(state_url):
    s = Store(state_url)
    yield s
    s.close()


def test_counts_add_up_and_names_follow_the_latest(store):
    analytics.record_message(store, "g", DAY, {"messages": 1, "llm.tokens": 3_000_000_000}, "u1", "小明")
    analytics.record_message(store, "g", DAY, {"messages": 1, "llm.tokens": 5}, "u1", "小明明")
    analytics.record_message(store, "g", DAY, {"private": 1}, None, None)
    counts = {r["counter"]: r["value"] for r in analytics.daily_counts(store, "g", DAY, DAY)}
    assert counts == {"messages": 2, "llm.tokens": 3_000_000_005, "private": 1}
    assert [(r["member_id"], r["messages"]) for r in analytics.activity_until(store, "g", DAY)] == [("u1", 2)]
    assert analytics.names(store, "g") == {"u1": "小明明"}
    analytics.record_membership(store, "g", "u2", "新人", "join", T0, DAY)
    analytics.record_membership(store, "g", "u2", None, "leave", T0 + timedelta(hours=1), DAY)
    assert [r["event"] for r in analytics.membership_until(store, "g", DAY)] == ["join", "leave"]
    assert analytics.daily_counts(store, "g", DAY + timedelta(days=1), DAY + timedelta(days=2)) == []


def test_an_example_filed_again_takes_the_latest_label_and_the_bank_is_trimmed(store):
    vector = b"\0" * 8
    first = feedback.file(store, "g", "ad", -1, "加我", vector, "o1", "reply", T0, T0 - timedelta(days=90), keep=2)
    again = feedback.file(store, "g", "ad", 1, "加我", vector, "o2", "case 1", T0 + timedelta(minutes=1),
                          T0 - timedelta(days=90), keep=2)
    assert first == again and [r["label"] for r in feedback.examples(store, "g")] == [1]
    stamp = feedback.stamp(store, "g", T0 - timedelta(days=1))
    for i in range(3):
        feedback.file(store, "g", "ad", -1, f"第{i}条", vector, "o1", "reply", T0 + timedelta(hours=i + 1),
                      T0 - timedelta(days=90), keep=2)
    assert [r["text"] for r in feedback.examples(store, "g")] == ["第1条", "第2条"]  # the newest two kept
    assert feedback.stamp(store, "g", T0 - timedelta(days=1)) != stamp
    other = Store()
    assert feedback.copy(store, other, "g") == 2 and len(feedback.examples(other, "g")) == 2
    other.close()


def test_gaps_of_the_week_and_their_answers(store):
    store.add_gap("g", "a", "m1", "停车在哪？", False, T0 - timedelta(days=10))
    store.add_gap("g", "b", "m2", "几点集合？", True, T0 - timedelta(days=1))
    week = gaps.since(store, "g", T0 - timedelta(days=7))
    assert [r["question"] for r in week] == ["几点集合？"] and week[0]["addressed"] is True
    gaps.answer(store, (week[0]["id"],), "六点半")
    assert [r["question"] for r in store.open_gaps("g")] == ["停车在哪？"]


def test_a_warning_is_withdrawn_once(store):
    store.add_strike("g", "u", "ad", 1, "m1", "广告", T0)
    moderation.remember_warning(store, "g", "m1", None, "u", "某人", "ad", "请勿发广告", T0, T0 - timedelta(days=3))
    warning = moderation.recent_warnings(store, "g", T0 - timedelta(hours=1))[0]
    assert moderation.strike_of(store, "g", "u", "m1")["evidence"] == "广告"
    assert moderation.close_warning(store, warning) and not moderation.close_warning(store, warning)
    assert store.strikes("g", "u") == []


def test_a_slot_is_drafted_once_and_a_post_claimed_once(store):
    drafts = ScheduleStore(store)
    made = drafts.add("g", "tip", T0, "小贴士", ["a.md"], ["g", "h"], "pending", None, T0 - timedelta(days=1))
    assert made and drafts.add("g", "tip", T0, "again", [], ["g"], "pending", None, T0) is None
    assert drafts.last_slot("g", "tip", T0) == T0 and drafts.has("g", "tip", T0)
    draft = drafts.get(made)
    assert not drafts.claim(draft, "g", "sent", T0)  # not approved yet
    assert drafts.update(made, T0, status="approved", editor="o1")
    assert not drafts.update(made, T0, expect=("pending",), status="skipped")  # compare-and-set
    assert drafts.claim(draft, "g", "sent", T0) and not drafts.claim(draft, "g", "sent", T0)
    assert set(drafts.posts(made)) == {"g"} and drafts.posts(made)["g"]["ts"] == T0
    assert [d.id for d in drafts.open_drafts(due_by=T0)] == [made]
    assert drafts.open_drafts(due_by=T0 - timedelta(days=1)) == []
    with pytest.raises(ValueError):
        drafts.update(made, T0, group_id="other")


def test_a_swap_lands_for_one_process_only(store, state_url):
    """Two processes read the same key and both try to move it on: one swap lands, the other sees
    that it lost (and does not send the digest or the note a second time)."""
    other = Store(state_url)
    try:
        assert store.swap("digest:g", None, "2025-03-03") and not other.swap("digest:g", None, "2025-03-03")
        read = store.get("digest:g")
        assert other.swap("digest:g", read, "2025-03-10") and not store.swap("digest:g", read, "2025-03-10")
        assert store.get("digest:g") == "2025-03-10"
        assert store.swap("note:g", None, {"gap": 3, "at": "2025-03-10T12:00:00+08:00"})
        assert store.swap("note:g", {"gap": 3, "at": "2025-03-10T12:00:00+08:00"}, {"gap": 5, "at": "later"})
    finally:
        other.close()


def test_a_claim_in_flight_elsewhere_is_skipped_not_waited_for(postgres_url):
    """PostgreSQL: while another process holds the draft's row (its claim in flight), a claim here
    returns at once without posting (SKIP LOCKED); once that process is done, the slot is claimable."""
    here, other = Store(postgres_url), Store(postgres_url)
    drafts = ScheduleStore(here)
    try:
        made = drafts.add("g", "tip", T0, "小贴士", [], ["g"], "approved", "auto", T0)
        draft = drafts.get(made)
        with ThreadPoolExecutor(1) as pool, other.transaction() as conn:
            conn.execute(sa.select(tables.drafts.c.id).where(tables.drafts.c.id == made).with_for_update())
            claimed = pool.submit(drafts.claim, draft, "g", "sent", T0)
            assert not claimed.result(timeout=10)  # returned, not blocked on the lock
            assert drafts.posts(made) == {}
        assert drafts.claim(draft, "g", "sent", T0) and set(drafts.posts(made)) == {"g"}
    finally:
        here.close()
        other.close()
