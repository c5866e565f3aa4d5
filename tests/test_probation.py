"""New-member probation through the real pipeline (unit tier): stricter moderation for a member the
bot saw join, the rules put to them, /newcomers and /trust with their permissions, and each decision in
`steward cases` and the weekly digest."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import typer
from typer.testing import CliRunner

from agent.events import DecisionKind, Member, Message, Say, Whisper
from agent.moderation.detectors import Finding
from agent.moderation.text import Text
from agent.policies import ProbationPolicy
from agent.probation.status import is_agreement
from agent.probation.stricter import stricter
from agent.state import probation

CST = timezone(timedelta(hours=8))
T0 = datetime(2025, 3, 10, 10, 0, tzinfo=CST)
NEW, OLD = "wxid_newcomer_1", "wxid_demo_xiaoyu"
LINK = "大家看看这个 https://shop-deals.example.net/p/123"
HANDLE = "有需要的同学 微信 runfast_2025"


def run(app, text, sender, ts=T0, mentions=()):
    m = Message(id=f"p-{sender}-{ts.isoformat()}-{text}", group_id="demo", sender=Member(sender, ""), text=text, ts=ts,
                mentions=tuple(mentions))
    return app.pipeline.dispatch(m)


def join(app, member=NEW, ts=T0, name="新来的跑友"):
    return app.pipeline.on_join("demo", Member(member, name), ts)


def test_the_welcome_asks_for_agreement_and_only_a_seen_join_is_on_probation(app):
    [welcome] = join(app)
    assert "同意" in welcome.text and welcome.mentions == (NEW,)
    assert probation.row(app.store, "demo", NEW)["messages"] == 0
    assert probation.row(app.store, "demo", OLD) is None  # in the group before the bot: never on probation
    app.settings.groups["demo"].probation = ProbationPolicy(agree=False)
    [quiet] = join(app, "wxid_newcomer_2")
    assert "同意" not in quiet.text


def test_a_newcomers_link_or_handle_is_a_case_an_old_members_is_not(app):
    group = app.settings.groups["demo"]
    owners = {o.id for o in group.owners}
    join(app)
    old = run(app, LINK, OLD)
    assert old.kind == DecisionKind.VIOLATION and old.detail["step"] == "warn" and "probation" not in old.detail
    new = run(app, LINK, NEW, ts=T0 + timedelta(minutes=1))
    assert new.kind == DecisionKind.VIOLATION and new.detail["step"] == "case" and new.detail["probation"]
    assert {a.contact_id for a in new.actions if isinstance(a, Whisper)} == owners  # the case file
    assert "probation" in new.violation.reason
    old_handle = run(app, HANDLE, "wxid_demo_dafei", ts=T0 + timedelta(minutes=2))
    assert old_handle.kind != DecisionKind.VIOLATION or old_handle.detail["step"] != "case"
    join(app, "wxid_newcomer_2", ts=T0 + timedelta(minutes=2))
    handle = run(app, HANDLE, "wxid_newcomer_2", ts=T0 + timedelta(minutes=3))
    assert handle.kind == DecisionKind.VIOLATION and handle.detail["step"] == "case"
    cases = {c["id"] for c in app.store.cases("demo")}
    events = [(e["member_id"], e["case_id"]) for e in probation.events(app.store, "demo") if e["event"] == "case"]
    assert sorted(events) == sorted([(NEW, new.detail["case"]), ("wxid_newcomer_2", handle.detail["case"])])
    assert {new.detail["case"], handle.detail["case"]} <= cases


def test_probation_ends_after_the_first_messages_and_days(app):
    group = app.settings.groups["demo"]
    group.probation = ProbationPolicy(messages=2, days=0)
    join(app)
    run(app, "大家好，我是新来的", NEW, ts=T0 + timedelta(minutes=1))
    run(app, "周六几点集合呀", NEW, ts=T0 + timedelta(minutes=2))
    after = run(app, LINK, NEW, ts=T0 + timedelta(minutes=3))  # the third message: probation is over
    assert after.detail["step"] == "warn" and "probation" not in after.detail
    group.probation = ProbationPolicy(messages=0, days=3)
    join(app, "wxid_newcomer_2")
    assert run(app, LINK, "wxid_newcomer_2", ts=T0 + timedelta(days=2)).detail["step"] == "case"
    assert run(app, LINK + "?b", "wxid_newcomer_2", ts=T0 + timedelta(days=3, minutes=1)).detail.get("probation") is None
    group.probation = ProbationPolicy(messages=0, days=0)  # off
    join(app, "wxid_newcomer_3")
    off = run(app, LINK, "wxid_newcomer_3", ts=T0 + timedelta(minutes=5))
    assert off.detail["step"] == "warn" and "probation" not in off.detail


def test_newcomers_and_trust_for_staff_only_and_a_vouched_member_leaves_at_once(app):
    group = app.settings.groups["demo"]
    owner, admin, member = group.owners[0].id, group.admins[0].id, group.members[0].id
    join(app)
    join(app, "wxid_newcomer_2", name="小新")
    refused = run(app, "/newcomers", member, ts=T0 + timedelta(minutes=1))
    assert refused.detail["permitted"] is False and not any(NEW in a.text for a in refused.actions)
    trust = run(app, "/trust @新来的跑友", member, ts=T0 + timedelta(minutes=2), mentions=[NEW])
    assert trust.detail["permitted"] is False and probation.row(app.store, "demo", NEW)["trusted_ts"] is None
    admin_trust = run(app, "/trust @新来的跑友", admin, ts=T0 + timedelta(minutes=3), mentions=[NEW])
    assert admin_trust.detail["permitted"] is False  # owners only
    run(app, "同意", "wxid_newcomer_2", ts=T0 + timedelta(minutes=4))
    [listing] = run(app, "/newcomers", admin, ts=T0 + timedelta(minutes=5)).actions
    assert isinstance(listing, Whisper) and listing.contact_id == admin  # privately: names stay out of the group
    lines = {line for line in listing.text.splitlines() if "wxid_newcomer" in line}
    assert any(NEW in line and "未同意" in line for line in lines)
    assert any("wxid_newcomer_2" in line and "已同意" in line for line in lines)
    vouched = run(app, "/trust @新来的跑友", owner, ts=T0 + timedelta(minutes=6), mentions=[NEW])
    assert vouched.detail["permitted"] and isinstance(vouched.actions[0], Say)
    assert probation.row(app.store, "demo", NEW)["trusted_by"] == owner
    assert run(app, LINK, NEW, ts=T0 + timedelta(minutes=7)).detail["step"] == "warn"  # an ordinary member now
    [after] = run(app, "/newcomers", owner, ts=T0 + timedelta(minutes=8)).actions
    assert NEW not in after.text and "wxid_newcomer_2" in after.text
    again = run(app, "/trust @x", owner, ts=T0 + timedelta(minutes=9), mentions=[OLD])
    assert "不在观察期" in again.actions[0].text  # joined before the bot: nothing to end


def test_agreement_is_recorded_once_and_only_for_whole_short_replies(app):
    join(app)
    run(app, "同意吗？这个规则有点怪", NEW, ts=T0 + timedelta(minutes=1))
    assert probation.row(app.store, "demo", NEW)["agreed_ts"] is None
    run(app, "@小跑 我同意群规！", NEW, ts=T0 + timedelta(minutes=2))
    run(app, "同意", NEW, ts=T0 + timedelta(minutes=3))
    assert probation.row(app.store, "demo", NEW)["agreed_ts"] is not None
    assert [e["event"] for e in probation.events(app.store, "demo")] == ["join", "agree"]
    assert probation.row(app.store, "demo", NEW)["messages"] == 3
    app.pipeline.on_leave("demo", Member(NEW), T0 + timedelta(hours=1))
    assert probation.row(app.store, "demo", NEW) is None
    assert all(is_agreement(t) for t in ["同意", "I agree", "agreed!", "I agree to the rules."])
    assert not any(is_agreement(t) for t in ["不同意", "I agree with you that the route is long", ""])


def test_weak_findings_count_from_the_probation_thresholds():
    from agent.settings import GroupConfig

    group = GroupConfig(id="g", theme="跑步")
    text = Text("随便说点什么")
    weak_ad, weaker_ad = Finding("ad", "promotion", 1, 0.45), Finding("ad", "promotion", 1, 0.35)
    weak_abuse = Finding("abuse", "insult", 2, 0.5)
    [ad] = stricter([weak_ad], text, (), group)
    assert ad.strong and ad.severity == 1  # counts, on the ladder (a warning first), not a case
    assert not stricter([weaker_ad], text, (), group)[0].strong
    assert not stricter([weak_abuse], text, (), group)[0].strong  # abuse keeps the usual bar by default
    [qr] = stricter([], Text("扫码看看"), ("https://example.org/x",), group)
    assert qr.kind == "link" and qr.severity >= group.moderation.severe
    [link] = stricter([Finding("link", "shared page", 1, 0.4)], text, (), group)
    assert link.strong and link.severity >= group.moderation.severe


def test_probation_decisions_show_in_the_weekly_digest(app):
    group = app.settings.groups["demo"]
    owner = group.owners[0].id
    join(app)
    run(app, "同意", NEW, ts=T0 + timedelta(minutes=1))
    run(app, LINK, NEW, ts=T0 + timedelta(minutes=2))
    run(app, "/trust @新来的跑友", owner, ts=T0 + timedelta(minutes=3), mentions=[NEW])
    digests = app.digest.build(group, T0.date() - timedelta(days=T0.weekday()))
    [text] = {a.text for a in digests if isinstance(a, Whisper) and a.contact_id == owner}
    assert "入群 1 人，同意群规 1 人，群主担保 1 人，观察期内开案 1 件" in text


def test_steward_cases_marks_probation_cases_and_lists_vouches(tmp_path, monkeypatch):
    import yaml
    from rich.console import Console

    from agent.moderation import cli as moderation_cli
    from agent.moderation.cli import register
    from agent.store import Store

    folder = tmp_path / "config"
    (folder / "groups").mkdir(parents=True)
    (folder / "settings.yaml").write_text(yaml.safe_dump({"data_dir": str(tmp_path / "data")}), encoding="utf-8")
    group = {"id": "g1", "theme": "跑步", "owners": [{"id": "o1", "name": "群主"}], "members": [{"id": "m2", "name": "老王"}]}
    (folder / "groups" / "g1.yaml").write_text(yaml.safe_dump(group, allow_unicode=True), encoding="utf-8")
    store = Store(tmp_path / "data" / "steward.db")
    at = datetime(2025, 5, 1, 9, tzinfo=UTC)
    probation.joined(store, "g1", "m1", "小新", at, True)
    marked = store.open_case("g1", "m1", "link", None, "kick", at)
    probation.case_opened(store, "g1", "m1", marked, at)
    store.open_case("g1", "m2", "ad", None, "kick", at)
    probation.joined(store, "g1", "m3", "小明", at, True)
    assert probation.trust(store, "g1", "m3", "o1", at + timedelta(hours=1))
    store.close()
    monkeypatch.setattr(moderation_cli, "console", Console(width=250))  # one row per case, unwrapped
    cli = typer.Typer()
    register(cli)
    out = CliRunner().invoke(cli, ["cases", "--config", str(folder)]).output
    assert "link (probation)" in out and "ad (probation)" not in out
    assert "群主 vouched for m3 (m3): probation ended" in out


def test_a_weak_classifier_finding_counts_for_a_newcomer_only(app, monkeypatch):
    """Through the route: the classifier's weak hint (here pinned, as the shipped model's scores move
    with its training) is a violation for a member on probation and nothing for anyone else."""
    from agent.moderation import detectors

    monkeypatch.setattr(detectors, "learned", lambda t, group: Finding("ad", "promotion (classifier)", 1, 0.45))
    join(app)
    old = run(app, "周末有空的一起来玩", OLD)
    assert old.kind != DecisionKind.VIOLATION  # a hint only, and no model to judge it
    new = run(app, "周末有空的一起来玩", NEW, ts=T0 + timedelta(minutes=1))
    assert new.kind == DecisionKind.VIOLATION and new.violation.kind == "ad" and new.detail["probation"]
    assert new.detail["step"] == "warn"  # weak findings count on the ladder; only what leads elsewhere is a case
