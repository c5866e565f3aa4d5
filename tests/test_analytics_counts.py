"""Honest counts: a message judged off-topic is not a nudge unless one was sent."""
from __future__ import annotations

from datetime import date, datetime, timezone

from agent.analytics import wording
from agent.analytics.funnel import summary
from agent.events import Decision, DecisionKind, Member, Say
from agent.store import Store
from test_analytics_funnel import Event, feed, group, pipeline_for
from test_analytics_digest import PROMPTS

TS = datetime(2025, 3, 5, 4, 0, tzinfo=timezone.utc)


def judged(n: int, sent: bool) -> Event:
    actions = [Say("g", "聊得挺开心")] if sent else []
    return Event("message", "g", Member("wxid_a", "阿甲"), TS,
                 Decision(DecisionKind.NUDGE, f"m{n}", "scripted", actions=actions, detail={"nudged": sent}))


def test_suppressed_judgements_are_not_counted_as_nudges():
    store = Store(":memory:")
    g = group()
    pipeline, route = pipeline_for(store, g)
    feed(pipeline, route, [judged(1, True), judged(2, False), judged(3, False)])
    s = summary(store, g, date(2025, 3, 5), date(2025, 3, 5))
    assert (s.offtopic, s.nudges) == (3, 1)
    text = PROMPTS.render("stats_body", "zh", **wording.variables(s, "zh"))
    assert "判为跑题 3 条，发出跑题提醒 1 次" in text
    assert "judged off-topic: 3, nudges sent: 1" in PROMPTS.render("stats_body", "en", **wording.variables(s, "en"))


def test_nothing_judged_nothing_sent():
    store = Store(":memory:")
    g = group()
    s = summary(store, g, date(2025, 3, 5), date(2025, 3, 5))
    assert (s.offtopic, s.nudges) == (0, 0)
