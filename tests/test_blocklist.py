"""The operator's blocklist through the real pipeline (unit tier): an owner's kick lists the member;
the listed contact speaking or joining in another managed group raises a case there (or is removed
where that group says auto_kick, never for an imported entry); /unblock is for owners only; the CLI
lists, removes, exports and imports; decisions show in the digest."""
from __future__ import annotations

import json
import shutil
from datetime import datetime, timedelta, timezone

import pytest
import typer
import yaml
from typer.testing import CliRunner

from agent.events import DecisionKind, Kick, Member, Message, Say, Whisper
from agent.settings import Person
from agent.state import blocklist
from tests.conftest import REPO

CST = timezone(timedelta(hours=8))
T0 = datetime(2026, 3, 10, 10, 0, tzinfo=CST)
TRAIL_OWNER = "wxid_trail_owner"
SCAMMER = "wxid_scam_hopper"
ADS = ["全新跑鞋工厂直发三折，加我微信 shoe_deal_5566 下单", "跑鞋清仓特价，加V shoe_deal_5566 私聊",
       "碳板鞋低价转让，微信 shoe_deal_5566"]


def two_groups(settings, trail_mode: str):
    demo = settings.groups["demo"]
    settings.groups["trail"] = demo.model_copy(update={
        "id": "trail", "name": "越野跑小队", "topic": None, "owners": [Person(id=TRAIL_OWNER, name="老K")],
        "admins": [], "blocklist": trail_mode})
    shutil.copytree(settings.kb.knowledge_dir / "demo", settings.kb.knowledge_dir / "trail")
    return settings


def make_app(settings, unit_parts, trail_mode="case"):
    from agent.app import build

    built = build(two_groups(settings, trail_mode), **unit_parts)
    built.sync_knowledge()
    return built


@pytest.fixture
def app(settings, unit_parts):
    built = make_app(settings, unit_parts)
    yield built
    built.close()


def say(app, gid, text, sender, minutes=0, mentions=(), name=""):
    ts = T0 + timedelta(minutes=minutes)
    m = Message(id=f"{gid}-{sender}-{minutes}", group_id=gid, sender=Member(sender, name), text=text, ts=ts,
                mentions=tuple(mentions))
    return app.pipeline.dispatch(m)


def list_by_case(app):
    """The scammer posts three ads in demo (warn, mute, case) and an owner decides the case as kick."""
    owner = app.settings.groups["demo"].owners[0].id
    for i, ad in enumerate(ADS):
        say(app, "demo", ad, SCAMMER, i, name="鞋店小王")
    [case] = app.store.cases("demo", "open")
    done = say(app, "demo", f"/case {case['id']} kick", owner, 5)
    assert Kick("demo", SCAMMER) in done.actions
    return case


def test_a_case_kicked_member_is_listed_and_raises_a_case_where_they_speak_next(app):
    list_by_case(app)
    entry = blocklist.entry(app.store, SCAMMER)
    assert entry["reason"] == "ad" and entry["group_id"] == "demo" and entry["source"] == "case"
    assert f"demo-{SCAMMER}-2" in entry["evidence"]  # the message that opened the case
    d = say(app, "trail", "大家好，周末一起跑吗", SCAMMER, 30, name="鞋店小王")
    assert d.route == "blocklist" and d.kind == DecisionKind.VIOLATION
    assert not any(isinstance(a, (Say, Kick)) for a in d.actions)  # the group is not told; nobody is removed
    [case_file] = [a.text for a in d.actions if isinstance(a, Whisper) and a.contact_id == TRAIL_OWNER]
    assert SCAMMER in case_file and "晨风跑团" in case_file and f"demo-{SCAMMER}-2" in case_file
    assert {a.contact_id for a in d.actions} == {TRAIL_OWNER}
    [case] = app.store.cases("trail", "open")
    assert (case["kind"], case["member_id"]) == ("blocklist", SCAMMER)
    later = say(app, "trail", "周六几点集合？", SCAMMER, 31)
    assert later.route != "blocklist" and len(app.store.cases("trail")) == 1  # one case per listing
    say(app, "trail", f"/case {case['id']} dismiss", TRAIL_OWNER, 32)  # kept: no more cases here
    assert say(app, "trail", "谢谢群主", SCAMMER, 33).route != "blocklist" and len(app.store.cases("trail")) == 1


def test_a_listed_contact_joining_raises_a_case_with_the_welcome(app):
    list_by_case(app)
    actions = app.pipeline.on_join("trail", Member(SCAMMER, "鞋店小王"), T0 + timedelta(hours=1))
    assert any(isinstance(a, Say) for a in actions)  # the welcome, as for anyone
    assert [a.contact_id for a in actions if isinstance(a, Whisper)] == [TRAIL_OWNER]
    assert not any(isinstance(a, Kick) for a in actions)
    plain = app.pipeline.on_join("trail", Member("wxid_newcomer", "新人"), T0 + timedelta(hours=1))
    assert not any(isinstance(a, Whisper) for a in plain)


def test_auto_kick_removes_but_never_for_an_imported_entry(settings, unit_parts):
    app = make_app(settings, unit_parts, trail_mode="auto_kick")
    try:
        list_by_case(app)
        actions = app.pipeline.on_join("trail", Member(SCAMMER, "鞋店小王"), T0 + timedelta(hours=1))
        assert Kick("trail", SCAMMER) in actions and not any(isinstance(a, Say) for a in actions)
        [case] = app.store.cases("trail")
        assert (case["status"], case["decision"]) == ("closed", "kick")
        blocklist.add(app.store, "wxid_imported", "scam", [], "", "import:list.json", "import", T0)
        d = say(app, "trail", "hello", "wxid_imported", 90)
        assert d.route == "blocklist" and not any(isinstance(a, Kick) for a in d.actions)
        assert app.store.cases("trail", "open")[0]["member_id"] == "wxid_imported"
    finally:
        app.close()


def test_only_owners_unblock_and_an_unblocked_member_is_anyone_again(app):
    list_by_case(app)
    say(app, "trail", "大家好", SCAMMER, 30)
    member = app.settings.groups["trail"].members[0].id
    admin = app.settings.groups["demo"].admins[0].id
    for who in (member, admin):
        refused = say(app, "demo", f"/unblock {SCAMMER}", who, 40 if who == member else 41)
        assert refused.detail["permitted"] is False and blocklist.entry(app.store, SCAMMER) is not None
        assert all(SCAMMER not in a.text for a in refused.actions)
    done = say(app, "trail", f"/unblock {SCAMMER}", TRAIL_OWNER, 42)
    assert done.detail["permitted"] and blocklist.entry(app.store, SCAMMER) is None
    [case] = app.store.cases("trail")
    assert (case["decision"], case["decided_by"]) == ("dismiss", TRAIL_OWNER)
    assert say(app, "demo", "我回来了", SCAMMER, 50).route != "blocklist"


def test_a_manual_kick_lists_only_for_a_scam_or_an_ad(app):
    owner = app.settings.groups["demo"].owners[0].id
    say(app, "demo", ADS[0], SCAMMER, 0)  # one strike for an ad
    say(app, "demo", "/kick", owner, 1, mentions=(SCAMMER,))
    say(app, "demo", "/confirm", owner, 2)
    assert blocklist.entry(app.store, SCAMMER)["source"] == "kick"
    rude = app.settings.groups["demo"].members[1].id
    say(app, "demo", "/kick 太吵了", owner, 3, mentions=(rude,))
    assert any(isinstance(a, Kick) for a in say(app, "demo", "/confirm", owner, 4).actions)
    assert blocklist.entry(app.store, rude) is None
    talker = app.settings.groups["demo"].members[2].id  # no strike, but the owner says what it was
    say(app, "demo", "/kick 诈骗，骗人转账", owner, 5, mentions=(talker,))
    say(app, "demo", "/confirm", owner, 6)
    assert blocklist.entry(app.store, talker)["reason"] == "scam"


def test_an_owner_kicking_an_imported_contact_makes_the_entry_their_own(app):
    """Imported, the contact raises a case on their first message; the owner's kick makes the entry
    this operator's (so auto_kick applies to it elsewhere), keeping the imported reason and evidence."""
    blocklist.add(app.store, SCAMMER, "scam", ["x1"], "", "import:theirs.json", "import", T0)
    list_by_case(app)
    entry = blocklist.entry(app.store, SCAMMER)
    assert (entry["source"], entry["group_id"], entry["reason"], entry["evidence"]) == ("case", "demo", "scam", ["x1"])


def test_the_digest_counts_the_blocklist(app):
    from agent.analytics.digest import Digest

    list_by_case(app)
    say(app, "trail", "大家好", SCAMMER, 30)
    week = T0.date() - timedelta(days=T0.weekday())
    prompts = app.pipeline.services.prompts
    demo = next(a.text for a in Digest(app.settings, app.store, prompts).build(app.settings.groups["demo"], week)
                if isinstance(a, Whisper))
    trail = next(a.text for a in Digest(app.settings, app.store, prompts).build(app.settings.groups["trail"], week)
                 if isinstance(a, Whisper))
    assert "黑名单：本群新增 1 人" in demo
    assert "黑名单上的人在本群出现 1 次" in trail and "待处理 1" in trail


@pytest.fixture
def cli(tmp_path, settings):
    from agent.blocklist.cli import register

    config = tmp_path / "config"
    (config / "groups").mkdir(parents=True)
    (config / "settings.yaml").write_text(yaml.safe_dump({"data_dir": str(settings.data_dir),
                                                          "prompts_dir": str(REPO / "prompts"),
                                                          "groups_dir": str(config / "groups")}), encoding="utf-8")
    (config / "groups" / "demo.yaml").write_bytes((REPO / "config" / "groups" / "demo.yaml").read_bytes())
    app = typer.Typer()
    register(app)
    runner = CliRunner()
    return lambda *args: runner.invoke(app, ["blocklist", *map(str, args), "--config", str(config)],
                                       env={"COLUMNS": "250"})


def test_cli_lists_exports_imports_and_removes(cli, settings, tmp_path):
    from agent.store import Store

    assert "empty" in cli("list").output and not settings.db_path.exists()  # reading makes no state
    store = Store(settings.store_url)
    blocklist.add(store, SCAMMER, "ad", ["m1", "m2"], "demo", "wxid_demo_owner_zhou", "case", T0)
    store.close()
    assert SCAMMER in cli("list").output
    exported = tmp_path / "list.json"
    assert cli("export", exported).exit_code == 0
    data = json.loads(exported.read_text(encoding="utf-8"))
    assert data["entries"][0]["contact_id"] == SCAMMER and data["entries"][0]["evidence"] == ["m1", "m2"]
    data["entries"].append({"contact_id": "wxid_other_op", "reason": "scam", "evidence": ["x9"]})
    exported.write_text(json.dumps(data), encoding="utf-8")
    done = cli("import", exported)
    assert done.exit_code == 0 and "1 new" in done.output
    store = Store(settings.store_url)
    assert blocklist.entry(store, "wxid_other_op")["source"] == "import"
    assert blocklist.entry(store, SCAMMER)["source"] == "case"  # one's own entry stays one's own
    store.close()
    assert cli("remove", SCAMMER).exit_code == 0 and cli("remove", SCAMMER).exit_code == 1
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"entries": [{"reason": "x"}]}), encoding="utf-8")
    refused = cli("import", bad)
    assert refused.exit_code == 2 and "entries[0].contact_id" in refused.output


def test_blocklist_decisions_show_in_steward_cases(app, tmp_path):
    from agent.moderation.cli import register

    list_by_case(app)
    say(app, "trail", "大家好", SCAMMER, 30)
    say(app, "trail", f"/unblock {SCAMMER}", TRAIL_OWNER, 31)
    settings = app.settings
    app.store.close()
    config = tmp_path / "cli-config"
    (config / "groups").mkdir(parents=True)
    (config / "settings.yaml").write_text(yaml.safe_dump({"data_dir": str(settings.data_dir),
                                                          "prompts_dir": str(REPO / "prompts"),
                                                          "groups_dir": str(config / "groups")}), encoding="utf-8")
    for gid, group in settings.groups.items():
        (config / "groups" / f"{gid}.yaml").write_text(
            yaml.safe_dump(group.model_dump(mode="json", exclude_defaults=True), allow_unicode=True), encoding="utf-8")
    cli = typer.Typer()
    register(cli)
    out = CliRunner().invoke(cli, ["cases", "--group", "trail", "--config", str(config)], env={"COLUMNS": "250"})
    assert out.exit_code == 0, out.output
    assert "blocklist" in out.output and "dismiss" in out.output and "老K" in out.output


@pytest.mark.parametrize("key, value", [("blocklist", "autokick"), ("reports", {"dismissed_limt": 2}),
                                        ("reports", {"limited_per_day": -1})])
def test_a_bad_blocklist_or_reports_setting_names_the_file_and_key(tmp_path, key, value):
    from agent.settings import ConfigError, load_group

    path = tmp_path / "g.yaml"
    path.write_text(yaml.safe_dump({"id": "g", "theme": "跑步", key: value}, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_group(path)
    assert str(path) in str(err.value) and key in str(err.value)
