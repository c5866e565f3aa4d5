"""Member reports through the real pipeline (unit tier): a quoted message reported with 举报 / /report
becomes one case file for the owners, with a count; the reporter is thanked privately, the group sees
nothing, members never see who reported; owners decide it with /case; dismissed reporters are slowed;
the decisions show in `steward cases` and the weekly digest."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import yaml
from typer.testing import CliRunner

from agent.events import DecisionKind, Kick, Member, Message, Say, Whisper
from agent.state import blocklist, tables
from tests.conftest import REPO

CST = timezone(timedelta(hours=8))
T0 = datetime(2026, 3, 10, 10, 0, tzinfo=CST)
AD = "全新跑鞋工厂直发三折，加我微信 shoe_deal_5566 下单"


@pytest.fixture
def app(settings, unit_parts):
    """The unit tier's app with its state in a file, so `steward cases` can read it afterwards."""
    from agent.app import build

    built = build(settings, **unit_parts)
    built.sync_knowledge()
    yield built
    built.close()


def say(app, text, sender, minutes=0, quote=None, mid=None, to_bot=False):
    group = app.settings.groups["demo"]
    ts = T0 + timedelta(minutes=minutes)
    m = Message(id=mid or f"m-{sender}-{minutes}-{len(text)}", group_id="demo",
                sender=Member(sender, group.name_of(sender)), text=text, ts=ts, quote=quote, to_bot=to_bot)
    return app.pipeline.dispatch(m)


@pytest.fixture
def people(app):
    g = app.settings.groups["demo"]
    return g, [o.id for o in g.owners], [m.id for m in g.members]


def chat(app, members):
    """Three messages in a row, the middle one an ad (the bot warns on it, and keeps its words out of
    the transcript)."""
    say(app, "周六长距离在驿站集合吗？", members[0], 0, mid="before")
    say(app, "今天跑了十公里，感觉不错", members[1], 1, mid="ok")
    say(app, "我也是，配速比上周快了", members[0], 2, mid="after")


def whispers_to(decision, contact_id):
    return [a.text for a in decision.actions if isinstance(a, Whisper) and a.contact_id == contact_id]


def test_a_report_is_one_private_case_file_with_context_reporter_and_detectors(app, people):
    group, owners, members = people
    chat(app, members)
    say(app, AD, members[2], 3, mid="ad")  # an ad whose words the transcript does not keep: matched by its strike
    reporter = members[3]
    d = say(app, "举报 发广告", reporter, 4, quote="今天跑了十公里，感觉不错")
    assert d.kind == DecisionKind.COMMAND and d.route == "reports"
    assert not any(isinstance(a, Say) for a in d.actions)  # the group sees nothing
    [thanks] = whispers_to(d, reporter)
    assert "谢谢" in thanks and reporter not in thanks
    files = [whispers_to(d, o) for o in owners]
    assert all(len(f) == 1 for f in files)
    case_file = files[0][0]
    assert "今天跑了十公里" in case_file and "周六长距离" in case_file and "配速比上周快了" in case_file
    assert reporter in case_file and "发广告" in case_file and "未发现问题" in case_file  # reporter, reason, detectors
    assert "（2026-03-10 10:01）" in case_file  # when the reported message was said, on the group's clock
    [case] = app.store.cases("demo")
    assert (case["kind"], case["member_id"], case["status"]) == ("report", members[1], "open")
    assert {a.contact_id for a in d.actions} == {reporter, *owners}  # nobody else hears of it


def test_the_detectors_view_reads_an_ad_as_an_ad(app, people):
    group, owners, members = people
    say(app, AD, members[2], 0, mid="ad")
    d = say(app, "/report", members[0], 1, quote=AD)
    [case_file] = whispers_to(d, owners[0])
    assert "广告" in case_file.split("检测结果：")[1] and members[2] in case_file  # sender found through its strike
    assert app.store.cases("demo", "open")[-1]["member_id"] == members[2]


def test_several_reports_are_one_case_with_a_count_and_one_more_note(app, people):
    group, owners, members = people
    chat(app, members)
    quoted = "今天跑了十公里，感觉不错"
    first = say(app, "举报", members[0], 5, quote=quoted)
    again = say(app, "举报", members[0], 6, quote=quoted)  # the same member twice counts once
    second = say(app, "report spam", members[2], 7, quote=quoted)
    assert whispers_to(first, owners[0]) and not whispers_to(again, owners[0]) and not whispers_to(second, owners[0])
    extra = Member("wxid_demo_extra", "路人")
    third = app.pipeline.dispatch(Message("m-third", "demo", extra, "举报", T0 + timedelta(minutes=8), quote=quoted))
    [note] = whispers_to(third, owners[0])
    assert "3" in note and "#" in note
    assert len(app.store.cases("demo")) == 1
    [report] = app.store.rows(tables.reports.select())
    assert report["count"] == 3 and report["message_id"] == "ok"
    assert all(whispers_to(d, m) for d, m in ((first, members[0]), (again, members[0]), (second, members[2])))


def test_a_report_needs_a_quote_and_an_own_message_goes_nowhere(app, people):
    group, owners, members = people
    d = say(app, "/report", members[0], 0)
    assert [a.contact_id for a in d.actions] == [members[0]] and "引用" in d.actions[0].text
    say(app, "今天跑了十公里，感觉不错", members[1], 1, mid="mine")
    own = say(app, "举报", members[1], 2, quote="今天跑了十公里，感觉不错")
    assert [a.contact_id for a in own.actions] == [members[1]] and app.store.cases("demo") == []
    # "举报" in passing, without a quote, is conversation
    assert say(app, "举报电话是多少", members[0], 3).route != "reports"
    long_reply = "report: we did ten km on the ridge today and the weather held all the way"
    assert say(app, long_reply, members[0], 4, quote="今天跑了十公里，感觉不错").route != "reports"


def test_members_cannot_decide_a_report_owners_can_and_a_kick_lists_the_sender(app, people):
    group, owners, members = people
    chat(app, members)
    say(app, "举报", members[0], 5, quote="今天跑了十公里，感觉不错")
    case_id = app.store.cases("demo")[0]["id"]
    refused = say(app, f"/case {case_id} kick", members[2], 6)
    assert not any(isinstance(a, Kick) for a in refused.actions) and refused.detail["permitted"] is False
    assert all(members[0] not in a.text for a in refused.actions)
    done = say(app, f"/case {case_id} kick", owners[0], 7)
    assert Kick("demo", members[1]) in done.actions
    posted = [a.text for a in done.actions if isinstance(a, Say)]
    assert posted and all(members[0] not in t and group.name_of(members[0]) not in t for t in posted)
    entry = blocklist.entry(app.store, members[1])
    assert entry is not None and entry["reason"] == "report" and "ok" in entry["evidence"]


def test_a_report_of_an_unknown_sender_cannot_be_kicked(app, people):
    group, owners, members = people
    say(app, "举报", members[0], 0, quote="一条早已不在记录里的消息")
    [case] = app.store.cases("demo")
    assert case["member_id"] == ""
    d = say(app, f"/case {case['id']} kick", owners[0], 1)
    assert not any(isinstance(a, Kick) for a in d.actions) and app.store.cases("demo", "open")
    assert "不知道" in whispers_to(d, owners[0])[0]


def test_a_member_whose_reports_owners_dismiss_is_rate_limited(app, people):
    group, owners, members = people
    policy = group.reports
    reporter = members[0]
    for i in range(policy.dismissed_limit):
        say(app, f"第{i}条普通消息，聊聊跑步", members[1], 10 * i, mid=f"plain{i}")
        say(app, "举报", reporter, 10 * i + 1, quote=f"第{i}条普通消息，聊聊跑步")
        case_id = app.store.cases("demo", "open")[-1]["id"]
        say(app, f"/case {case_id} dismiss", owners[0], 10 * i + 2)
    say(app, "再来一条普通消息", members[1], 100, mid="plain-x")
    held = say(app, "举报", reporter, 101, quote="再来一条普通消息")
    assert [a.contact_id for a in held.actions] == [reporter] and "驳回" in held.actions[0].text
    assert app.store.cases("demo", "open") == []
    other = say(app, "举报", members[2], 102, quote="再来一条普通消息")  # others are not slowed
    assert whispers_to(other, owners[0])
    tomorrow = say(app, "举报", reporter, 60 * 26, quote="再来一条普通消息")
    assert "谢谢" in whispers_to(tomorrow, reporter)[0]


def test_reports_show_in_steward_cases_and_the_weekly_digest(app, people, tmp_path):
    from agent.analytics.digest import Digest
    from agent.moderation.cli import register

    group, owners, members = people
    chat(app, members)
    say(app, "举报", members[0], 5, quote="今天跑了十公里，感觉不错")
    case_id = app.store.cases("demo")[0]["id"]
    say(app, f"/case {case_id} warn", owners[0], 6)
    week = T0.date() - timedelta(days=T0.weekday())
    built = Digest(app.settings, app.store, app.pipeline.services.prompts).build(group, week)
    text = next(a.text for a in built if isinstance(a, Whisper))
    assert "成员举报：1 条消息被举报 1 次" in text and "警告 1" in text
    app.store.close()
    config = tmp_path / "config"
    (config / "groups").mkdir(parents=True)
    (config / "settings.yaml").write_text(yaml.safe_dump({"data_dir": str(app.settings.data_dir),
                                                          "prompts_dir": str(REPO / "prompts"),
                                                          "groups_dir": str(config / "groups")}), encoding="utf-8")
    (config / "groups" / "demo.yaml").write_bytes((REPO / "config" / "groups" / "demo.yaml").read_bytes())
    import typer

    cli = typer.Typer()
    register(cli)
    out = CliRunner().invoke(cli, ["cases", "--config", str(config)], env={"COLUMNS": "250"})
    assert out.exit_code == 0 and "report" in out.output and "warn" in out.output
    assert members[0] not in out.output  # the reporter is not the case's member


def test_every_way_of_saying_it_files_the_same_report(app, people):
    """Bare word, @bot, slash in either language, with or without a reason: all one report; the
    command bank never gets "@bot 举报" (it read it as another command)."""
    group, owners, members = people
    chat(app, members)
    forms = ["举报", f"@{group.bot_name} 举报 刷屏", "report", "/report 广告", "/举报", "举报！"]
    reporters = [m for m in members if m != members[1]][:len(forms)]
    for i, (form, reporter) in enumerate(zip(forms, reporters)):
        d = say(app, form, reporter, 10 + i, quote="今天跑了十公里，感觉不错", to_bot=form.startswith("@"))
        assert d.route == "reports" and "谢谢" in whispers_to(d, reporter)[0], form
        assert not any(isinstance(a, Say) for a in d.actions), form
    [report] = app.store.rows(tables.reports.select())
    assert report["count"] == len(forms) and len(app.store.cases("demo")) == 1


def test_no_member_path_shows_who_reported(app, people):
    """As a member, after a report: the catch-up summary, /why, /help, /case and a second report show
    neither the reporter nor the report."""
    group, owners, members = people
    chat(app, members)
    reporter, accused, other = members[3], members[1], members[4]
    say(app, "举报 阴阳怪气", reporter, 5, quote="今天跑了十公里，感觉不错")
    case_id = app.store.cases("demo")[0]["id"]
    seen = []
    for i, (text, who) in enumerate([("/summary", other), ("/summary", accused), ("/why", accused), ("/help", accused),
                                     (f"/case {case_id} dismiss", accused), (f"/case {case_id}", other)]):
        d = say(app, text, who, 10 + i)
        seen += [a.text for a in d.actions if getattr(a, "contact_id", None) not in owners]
    d = say(app, "举报", other, 20, quote="今天跑了十公里，感觉不错")
    seen += [a.text for a in d.actions if getattr(a, "contact_id", None) not in owners]
    assert seen and all(reporter not in t and group.name_of(reporter) not in t and "阴阳怪气" not in t for t in seen)
    assert app.store.cases("demo", "open")  # the member's /case changed nothing
