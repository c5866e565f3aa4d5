"""Owners' decisions teach a group's moderation: the example bank, its bounds, and the ways in
(/case decisions, an owner's reply to a warning), on a Context as the route tests build it.
The texts are written for these tests; the classifier's scores on them are read, not assumed."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest

from agent.events import DecisionKind, Member, Message, Role, Say, Whisper
from agent.moderation import feedback
from agent.moderation.commands import read_dismissal
from agent.moderation.detectors import STRONG, learned
from agent.moderation.text import Text
from agent.routes.moderation import ModerationRoute
from agent.settings import GroupConfig
from agent.store import Store
from test_moderation_commands import decide
from test_moderation_route import T0, make_ctx, say

ORANGES = "自家果园的脐橙熟了，十斤装只要59元包邮，想要的私聊"
ORANGES_AGAIN = "自家果园的脐橙熟了，十斤装只要69元包邮，想要的朋友私信"  # another member, next season
SKINCARE = "本店新到一批进口护肤品，全场五折包邮，需要的朋友私聊"  # an ad, unlike the oranges
GYM = "健身房新开业，办卡有优惠，感兴趣可以问我"
YOGA = "新开的瑜伽馆首月体验课半价，办卡更优惠，想去的私聊我"
YOGA_REWORDED = "新开的瑜伽馆首月体验课半价，想去的可以问我"  # the classifier: a hint, not a warning
YOGA_MISSED = "楼下新开的瑜伽馆首月体验课半价，有人想去吗"  # the classifier scores it below a hint
LINKED = "自家果园的脐橙熟了，十斤装只要59元包邮，想要的拉你进团购群"  # an invitation to another group


def warned(decision) -> bool:
    return decision is not None and any(isinstance(a, Say) for a in decision.actions)


def warning_of(decision) -> str:
    [w] = [a for a in decision.actions if isinstance(a, Say)]
    return w.text


def reply(route, ctx, quote, text="这不是广告，是群友自家种的", sender="o1", role=Role.OWNER, at=T0 + timedelta(minutes=5)):
    message = Message(f"{sender}-reply-{at}", ctx.group.id, Member(sender, "群主", role), text, at, quote=quote)
    return route.handle(message, ctx) if route.match(message, ctx) else None


def confidence(ctx, text) -> float | None:
    """The learned finding's confidence after the group's feedback, as the route judges a fresh member."""
    t = Text(raw=text)
    found = [f for f in feedback.apply([f for f in [learned(t, ctx.group)] if f], t, ctx.group, ctx.services.store, T0)
             if "classifier" in f.reason or "owners" in f.reason]
    return found[0].confidence if found else None


# ---- the owner's words ------------------------------------------------------------------------------

@pytest.mark.parametrize("text, dismisses", [
    ("这不是广告", True), ("不是广告哦，是群友自家种的", True), ("误判了", True), ("他没有打广告", True),
    ("Not an ad, she is our coach", True), ("false alarm", True),
    ("这不是广告吗", False), ("这不是广告是什么", False), ("这不是误判", False), ("is this not spam?", False),
    ("not a false alarm", False), ("收到", False), ("踢了吧", False),
])
def test_an_owner_calls_a_warning_a_false_alarm_in_either_language(text, dismisses):
    assert read_dismissal(text) is dismisses


# ---- a reply to a warning ---------------------------------------------------------------------------

def test_an_owners_reply_to_a_warning_withdraws_it_and_files_a_negative():
    route, ctx = ModerationRoute(), make_ctx()
    first = say(route, ctx, ORANGES)
    assert warned(first) and first.violation.kind == "ad"
    done = reply(route, ctx, "@小明\u2005" + warning_of(first))  # WeChat quotes the warning with its @mention
    assert done.kind == DecisionKind.COMMAND and done.route == "moderation"
    [told] = done.actions
    assert isinstance(told, Say) and told.mentions == ("m1",) and "撤销" in told.text
    assert ctx.services.store.strikes("g1", "m1") == []  # the strike is withdrawn
    [example] = feedback.bank(ctx.services.store, ctx.group, T0).examples
    assert (example.kind, example.label, example.decided_by) == ("ad", feedback.DISMISSED, "o1")
    again = reply(route, ctx, warning_of(first), at=T0 + timedelta(minutes=6))
    assert [type(a) for a in again.actions] == [Whisper]  # answered once; the second owner is told so


def test_an_owners_reply_in_english_works_the_same():
    route, ctx = ModerationRoute(), make_ctx(language="en", rules=["No ads or promotion"])
    first = say(route, ctx, ORANGES)
    done = reply(route, ctx, warning_of(first), text="False alarm, she grows them herself")
    assert done.kind == DecisionKind.COMMAND and "withdrawn" in done.actions[0].text
    assert ctx.services.store.strikes("g1", "m1") == []


def test_a_members_reply_changes_nothing():
    route, ctx = ModerationRoute(), make_ctx()
    first = say(route, ctx, ORANGES)
    text = warning_of(first)
    answer = reply(route, ctx, text, sender="m2", role=Role.MEMBER)
    assert answer is None or answer.kind != DecisionKind.COMMAND
    assert len(ctx.services.store.strikes("g1", "m1")) == 1
    assert feedback.bank(ctx.services.store, ctx.group, T0).examples == ()
    assert warned(say(route, ctx, ORANGES_AGAIN, sender="m3", at=T0 + timedelta(minutes=30)))


def test_only_owners_teach_admins_decide_cases_without_teaching():
    route, ctx = ModerationRoute(), make_ctx(admins=[{"id": "a1", "name": "管理员"}], moderation={"case_at": 1})
    first = say(route, ctx, ORANGES)
    assert reply(route, ctx, warning_of(first), sender="a1", role=Role.ADMIN) is None  # admins use /case
    decide(ctx, f"{first.detail['case']} dismiss", sender="a1", role=Role.ADMIN)
    assert ctx.services.store.cases("g1")[0]["decision"] == "dismiss"  # carried out
    assert feedback.bank(ctx.services.store, ctx.group, T0).examples == ()  # but it taught nothing


def test_an_owners_reply_to_something_else_is_not_a_dismissal():
    route, ctx = ModerationRoute(), make_ctx()
    say(route, ctx, ORANGES)
    assert reply(route, ctx, "周六几点集合？") is None  # not a warning of ours: the next route decides
    assert reply(route, ctx, "") is None
    assert len(ctx.services.store.strikes("g1", "m1")) == 1


def test_a_reply_to_a_warning_that_opened_a_case_dismisses_the_case():
    route, ctx = ModerationRoute(), make_ctx(moderation={"case_at": 1})
    first = say(route, ctx, ORANGES)
    case_id = first.detail["case"]
    done = reply(route, ctx, warning_of(first), text="误判了")
    assert any(isinstance(a, Whisper) and f"#{case_id}" in a.text for a in done.actions)
    assert ctx.services.store.cases("g1")[0]["decision"] == "dismiss"
    assert [e.label for e in feedback.bank(ctx.services.store, ctx.group, T0).examples] == [feedback.DISMISSED]


# ---- what a dismissal changes, and what it cannot -----------------------------------------------------

def test_a_dismissed_message_stops_warning_its_look_alikes_in_that_group_only():
    route, ctx, other = ModerationRoute(), make_ctx(), make_ctx(id="g2")
    reply(route, ctx, warning_of(say(route, ctx, ORANGES)))
    later = T0 + timedelta(hours=2)
    assert not warned(say(route, ctx, ORANGES_AGAIN, sender="m2", at=later))
    assert warned(say(ModerationRoute(), other, ORANGES_AGAIN, sender="m2", at=later))  # another group


def test_a_dismissal_cannot_switch_a_kind_off():
    route, ctx = ModerationRoute(), make_ctx()
    reply(route, ctx, warning_of(say(route, ctx, ORANGES)))
    for text in (SKINCARE, GYM):  # other ads are judged as before
        before = learned(Text(raw=text), ctx.group).confidence
        assert confidence(ctx, text) == before
    assert warned(say(route, ctx, SKINCARE, sender="m4", at=T0 + timedelta(hours=3)))


def test_many_dismissals_move_a_look_alike_no_more_than_one():
    ctx = make_ctx()
    store, group = ctx.services.store, ctx.group
    before = learned(Text(raw=ORANGES_AGAIN), group).confidence
    feedback.add(store, group, "ad", feedback.DISMISSED, ORANGES, "o1", "test", T0)
    once = confidence(ctx, ORANGES_AGAIN)
    for i, variant in enumerate(["自家果园的脐橙熟了，五斤装只要39元包邮，想要的私聊",
                                 "自家果园的脐橙熟了，二十斤装只要99元包邮，想要的私聊"]):
        feedback.add(store, group, "ad", feedback.DISMISSED, variant, "o1", "test", T0 + timedelta(minutes=i + 1))
    assert confidence(ctx, ORANGES_AGAIN) == once  # the nearest counts, not the number of clicks
    assert before - once <= group.moderation.feedback.max_shift + 1e-9
    assert once > 0  # demoted to a hint at most, never erased


def test_exact_checks_stay_whatever_the_owners_dismissed():
    route, ctx = ModerationRoute(), make_ctx()
    reply(route, ctx, warning_of(say(route, ctx, ORANGES)))
    decision = say(route, ctx, LINKED, sender="m5", at=T0 + timedelta(hours=1))
    assert warned(decision) and decision.violation.kind == "link"


def test_examples_expire_and_the_bank_is_bounded():
    ctx = make_ctx(moderation={"feedback": {"max_examples": 2, "expire_days": 10}})
    store, group = ctx.services.store, ctx.group
    for i, text in enumerate([ORANGES, SKINCARE, GYM]):
        feedback.add(store, group, "ad", feedback.DISMISSED, text, "o1", "test", T0 + timedelta(minutes=i))
    texts = [e.text for e in feedback.bank(store, group, T0 + timedelta(minutes=5)).examples]
    assert len(texts) == 2 and not any("脐橙" in t for t in texts)  # the oldest went first
    assert feedback.bank(store, group, T0 + timedelta(days=11)).examples == ()
    assert feedback.add(store, group, "link", feedback.DISMISSED, ORANGES, "o1", "test", T0) is None  # exact kinds learn nothing


def test_thresholds_come_from_the_group_config():
    strict = make_ctx(moderation={"feedback": {"similarity": 0.99, "full_similarity": 1.0}})
    feedback.add(strict.services.store, strict.group, "ad", feedback.DISMISSED, ORANGES, "o1", "test", T0)
    assert confidence(strict, ORANGES_AGAIN) == learned(Text(raw=ORANGES_AGAIN), strict.group).confidence


# ---- confirmations ----------------------------------------------------------------------------------

def test_a_kicked_case_raises_its_look_alikes():
    route, ctx = ModerationRoute(), make_ctx(moderation={"case_at": 1})
    hint = learned(Text(raw=YOGA_REWORDED), ctx.group)
    assert hint is not None and not hint.strong and not warned(say(route, ctx, YOGA_REWORDED, sender="m7"))
    first = say(route, ctx, YOGA, at=T0 + timedelta(minutes=1))
    decide(ctx, f"{first.detail['case']} kick")
    [example] = feedback.bank(ctx.services.store, ctx.group, T0).examples
    assert (example.label, example.source) == (feedback.CONFIRMED, f"case {first.detail['case']}")
    raised = confidence(ctx, YOGA_REWORDED)
    assert raised > hint.confidence and raised >= STRONG
    assert warned(say(route, ctx, YOGA_REWORDED, sender="m8", at=T0 + timedelta(hours=1)))
    assert learned(Text(raw=YOGA_MISSED), ctx.group) is None
    assert 0 < confidence(ctx, YOGA_MISSED) < STRONG  # a look-alike the classifier missed: now a hint for the judge
    assert confidence(ctx, "新开的瑜伽馆体验课贵吗？有人去过吗") is None  # unlike the example: untouched


def test_a_dismissed_case_files_a_negative_and_a_warned_case_a_positive():
    route, ctx = ModerationRoute(), make_ctx(moderation={"case_at": 1})
    one = say(route, ctx, ORANGES)
    two = say(route, ctx, SKINCARE, sender="m2", at=T0 + timedelta(minutes=1))
    decide(ctx, f"{one.detail['case']} dismiss")
    decide(ctx, f"{two.detail['case']} warn")
    labels = {e.text[:4]: e.label for e in feedback.bank(ctx.services.store, ctx.group, T0).examples}
    assert labels == {"自家果园": feedback.DISMISSED, "本店新到": feedback.CONFIRMED}


def test_a_member_cannot_decide_a_case_and_teaches_nothing():
    route, ctx = ModerationRoute(), make_ctx(moderation={"case_at": 1})
    one = say(route, ctx, ORANGES)
    decide(ctx, f"{one.detail['case']} dismiss", sender="m9", role=Role.MEMBER)
    assert feedback.bank(ctx.services.store, ctx.group, T0).examples == ()


# ---- steward rules test: what the feedback changed ----------------------------------------------------

from test_moderation_cli import cli, config, recorded  # noqa: E402,F401  (fixtures)


def _record(folder, rows):
    (folder / "messages.jsonl").write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")


ROWS = [{"id": "f1", "sender": "m2", "text": ORANGES_AGAIN, "expect": "ignore"},
        {"id": "f2", "sender": "m3", "text": SKINCARE, "expect": "violation", "violation": "ad"},
        {"id": "f3", "sender": "m4", "text": "周末有人一起去爬山吗", "expect": "ignore"}]


def test_rules_test_shows_per_example_what_a_file_of_dismissals_changed(cli, config, recorded, tmp_path):
    _record(recorded, ROWS)
    examples = tmp_path / "feedback.jsonl"
    examples.write_text(json.dumps({"text": ORANGES, "kind": "ad", "label": "dismiss"}, ensure_ascii=False), encoding="utf-8")
    result = cli("rules", "test", recorded, "--feedback", examples, "--json", "--config", config)
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    [example] = report["feedback"]["examples"]
    assert example["label"] == "dismissed" and [m["id"] for m in example["changed"]] == ["f1"]
    [change] = example["changed"]
    assert change["before"].startswith("ad/") and change["after"] == "pass" and change["shift"] < 0
    assert report["flagged"] == 1 and report["score"]["precision"] == 1.0  # SKINCARE still flagged
    assert report["feedback"]["score_without"]["precision"] == 0.5
    listing = cli("rules", "test", recorded, "--feedback", examples, "--config", config).output
    assert "owners' feedback" in listing and "f1" in listing and "→ pass" in listing


def test_rules_test_judges_with_the_groups_own_bank_unless_told_not_to(cli, config, recorded, tmp_path):
    _record(recorded, ROWS)
    store = Store(tmp_path / "data" / "steward.db")
    group = GroupConfig(id="g1", theme="运营")
    feedback.add(store, group, "ad", feedback.DISMISSED, ORANGES, "o1", "case 3", T0)
    store.close()
    report = json.loads(cli("rules", "test", recorded, "--json", "--config", config).output)
    assert [m["id"] for m in report["feedback"]["examples"][0]["changed"]] == ["f1"]
    plain = json.loads(cli("rules", "test", recorded, "--json", "--no-feedback", "--config", config).output)
    assert "feedback" not in plain and plain["flagged"] == 2
