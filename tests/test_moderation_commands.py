"""Owners deciding cases in chat and members asking why they were warned, on a Context as the route
tests build it: real prompts, an in-memory store, cases opened by the route itself."""
from __future__ import annotations

from collections import deque
from datetime import timedelta

import pytest

from agent.commands.api import Parsed
from agent.commands.catalog import BY_NAME
from agent.events import Kick, Member, Message, Role, Say, Whisper
from agent.moderation.commands import case, read_case, why
from agent.pipeline import Context
from agent.routes.moderation import ModerationRoute
from agent.settings import GroupConfig
from test_moderation_route import AD, T0, make_ctx, say

CASE, WHY = BY_NAME["case"], BY_NAME["why"]
SCAM = "兼职刷单 在家手机操作 日结300 加v: job_1234"  # severe: opens a case on the first strike


def opened(ctx: Context) -> int:
    decision = say(ModerationRoute(), ctx, SCAM)
    return decision.detail["case"]


def decide(ctx: Context, text: str, sender: str = "o1", role: Role = Role.OWNER, private: bool = True,
           at=T0 + timedelta(hours=1)) -> list:
    message = Message(f"{sender}-{text}", ctx.group.id, Member(sender, "", role), text, at, to_bot=True, private=private)
    return case(Parsed(CASE, text, slash=True), message, ctx)


def ask_why(ctx: Context, private: bool, sender: str = "m1", at=T0 + timedelta(hours=1), phrase: str = "为什么警告我") -> list:
    message = Message(f"why-{at}", ctx.group.id, Member(sender, "小明"), phrase, at, to_bot=True, private=private)
    return why(Parsed(WHY, "", extra={"phrase": phrase}), message, ctx)


def of(kind, actions):
    return [a for a in actions if isinstance(a, kind)]


@pytest.mark.parametrize("text, expected", [
    ("12 kick", (12, "kick")), ("12 warn", (12, "warn")), ("12 dismiss", (12, "dismiss")),
    ("案件12 踢了", (12, "kick")), ("案件 #12 移出", (12, "kick")), ("案件12 警告一下", (12, "warn")),
    ("案件12 驳回", (12, "dismiss")), ("案件12 算了", (12, "dismiss")), ("#7 误判", (7, "dismiss")),
    ("案件12 不踢了，警告一下就行", (12, "warn")), ("案件12 不用移出", (12, "dismiss")),
    ("12 don't kick, just warn", (12, "warn")),
    ("kick", None), ("案件12", None), ("案件12 算了，踢了吧", None),
])
def test_case_id_and_decision_are_read_from_the_text(text, expected):
    assert read_case(text) == expected


def test_kick_from_a_private_chat_is_carried_out_logged_and_told_to_the_other_owner():
    ctx = make_ctx()
    case_id = opened(ctx)
    actions = decide(ctx, f"{case_id} kick")
    assert of(Kick, actions) == [Kick("g1", "m1")]
    [notice] = of(Say, actions)
    assert notice.group_id == "g1" and "第3条" in notice.text and "job_1234" not in notice.text
    assert "小明" in notice.text and "m1" not in notice.text  # the name the member had, never a contact id
    to = {w.contact_id: w.text for w in of(Whisper, actions)}
    assert set(to) == {"o1", "o2"} and f"#{case_id}" in to["o1"] and "群主" in to["o2"]
    row = ctx.services.store.cases("g1")[0]
    assert (row["status"], row["decision"], row["decided_by"]) == ("closed", "kick", "o1") and row["decided_ts"]


def test_a_decided_case_is_reported_as_such_and_nothing_happens_twice():
    ctx = make_ctx()
    case_id = opened(ctx)
    decide(ctx, f"案件{case_id} 警告")
    again = decide(ctx, f"{case_id} kick", sender="o2")
    assert of(Kick, again) == [] and of(Say, again) == []
    [reply] = again
    assert reply.contact_id == "o2" and "群主" in reply.text and "警告" in reply.text
    assert ctx.services.store.cases("g1")[0]["decision"] == "warn"


def test_warn_tells_the_member_in_the_group_and_keeps_the_strike():
    ctx = make_ctx()
    case_id = opened(ctx)
    [warning] = of(Say, decide(ctx, f"案件{case_id} 警告"))
    assert warning.mentions == ("m1",) and "第3条" in warning.text
    assert len(ctx.services.store.strikes("g1", "m1")) == 1


def test_dismiss_withdraws_the_strike_and_says_nothing_in_the_group():
    ctx = make_ctx()
    say(ModerationRoute(), ctx, AD, at=T0 - timedelta(hours=1))  # an earlier, undisputed strike
    case_id = opened(ctx)
    actions = decide(ctx, f"案件{case_id} 算了")
    assert of(Say, actions) == [] and of(Kick, actions) == []
    assert [s["kind"] for s in ctx.services.store.strikes("g1", "m1")] == ["ad"]
    assert ctx.services.store.cases("g1")[0]["decision"] == "dismiss"


def test_the_case_id_names_the_group_whatever_group_the_private_chat_resolved_to():
    ctx = make_ctx()
    case_id = opened(ctx)
    other = GroupConfig(id="g2", theme="读书", owners=[{"id": "o1"}])
    ctx.services.settings.groups["g2"] = other
    elsewhere = Context(group=other, services=ctx.services, recent=deque())
    assert of(Kick, decide(elsewhere, f"{case_id} kick")) == [Kick("g1", "m1")]


def test_staff_of_another_group_cannot_decide_this_groups_case():
    ctx = make_ctx()
    case_id = opened(ctx)
    other = GroupConfig(id="g2", theme="读书", owners=[{"id": "o9"}])
    ctx.services.settings.groups["g2"] = other
    elsewhere = Context(group=other, services=ctx.services, recent=deque())
    [reply] = decide(elsewhere, f"{case_id} kick", sender="o9")
    assert isinstance(reply, Whisper) and reply.contact_id == "o9" and f"#{case_id}" in reply.text
    assert ctx.services.store.cases("g1")[0]["status"] == "open"


def test_unknown_case_and_unclear_decision_get_a_private_reply():
    ctx = make_ctx()
    case_id = opened(ctx)
    [unknown] = decide(ctx, "999 kick")
    [usage] = decide(ctx, f"案件{case_id} 算了，踢了吧")
    assert "#999" in unknown.text and "/case" in usage.text
    assert ctx.services.store.cases("g1")[0]["status"] == "open"


def test_why_in_the_group_cites_the_article_but_never_reposts_the_message():
    ctx = make_ctx()
    say(ModerationRoute(), ctx, AD)
    [reply] = ask_why(ctx, private=False)
    assert isinstance(reply, Say) and reply.mentions == ("m1",)
    assert "第1条" in reply.text and "不发广告和推广" in reply.text and "#g1 /why" in reply.text
    assert "handle_777" not in reply.text and "999" not in reply.text


def test_why_in_private_shows_the_latest_strikes_with_their_evidence_newest_first():
    ctx = make_ctx()
    route = ModerationRoute()
    say(route, ctx, AD, at=T0)
    say(route, ctx, "shut up, idiot", at=T0 + timedelta(minutes=30))
    [reply] = ask_why(ctx, private=True)
    assert isinstance(reply, Whisper) and reply.contact_id == "m1"
    assert "handle_777" in reply.text and "idiot" in reply.text and "2次" in reply.text
    assert reply.text.index("第4条") < reply.text.index("第1条")


def test_why_without_live_strikes_says_so():
    ctx = make_ctx(moderation={"strike_days": 7})
    say(ModerationRoute(), ctx, AD, at=T0)
    [reply] = ask_why(ctx, private=False, at=T0 + timedelta(days=8))
    assert "没有" in reply.text and "7" in reply.text
    [english] = ask_why(make_ctx(language="en"), private=True)
    assert "no warnings" in english.text


def test_why_explains_an_owners_manual_warning():
    ctx = make_ctx()
    ctx.services.store.add_strike("g1", "m1", "manual", None, "w1", "说话注意点", T0)
    [reply] = ask_why(ctx, private=True)
    assert "群主警告" in reply.text and "说话注意点" in reply.text
