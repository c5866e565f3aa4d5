"""`steward cases` and `steward rules test FOLDER`, on a config and a recorded folder written here."""
from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest
import typer
import yaml
from typer.testing import CliRunner

from agent.moderation.cli import register
from agent.state import moderation
from agent.store import Store

REPO = Path(__file__).resolve().parents[1]
RULES = ["不发广告和推广", "友善交流，禁止辱骂"]
MESSAGES = [
    {"id": "r1", "sender": "m1", "text": "大家早上好", "expect": "ignore"},
    {"id": "r2", "sender": "m1", "text": "专业代运营 包月999 加我微信 handle_777 详聊", "expect": "violation", "violation": "ad"},
    {"id": "r3", "sender": "o1", "text": "群友价8折 需要的私我", "expect": "ignore"},
    {"id": "r4", "sender": "m2", "text": "你懂个屁，傻逼", "expect": "violation", "violation": "abuse"},
    {"id": "r5", "sender": "m2", "text": "请问排版用什么工具好", "expect": "ignore"},
]


@pytest.fixture
def cli():
    app = typer.Typer()
    register(app)
    runner = CliRunner()
    return lambda *args: runner.invoke(app, [str(a) for a in args])


@pytest.fixture
def config(tmp_path) -> Path:
    folder = tmp_path / "config"
    (folder / "groups").mkdir(parents=True)
    settings = {"data_dir": str(tmp_path / "data"), "prompts_dir": str(REPO / "prompts")}
    (folder / "settings.yaml").write_text(yaml.safe_dump(settings), encoding="utf-8")
    group = {"id": "g1", "name": "运营群", "theme": "运营", "rules": [{"text": RULES[0], "mode": "shadow"}, RULES[1]],
             "owners": [{"id": "o1", "name": "群主"}], "members": [{"id": "m1", "name": "小明"}]}
    (folder / "groups" / "g1.yaml").write_text(yaml.safe_dump(group, allow_unicode=True), encoding="utf-8")
    return folder


@pytest.fixture
def recorded(tmp_path) -> Path:
    folder = tmp_path / "recorded"
    folder.mkdir()
    group = {"id": "g1", "theme": "运营", "rules": RULES, "owners": [{"id": "o1", "name": "群主"}]}
    (folder / "group.yaml").write_text(yaml.safe_dump(group, allow_unicode=True), encoding="utf-8")
    (folder / "messages.jsonl").write_text("\n".join(json.dumps(m, ensure_ascii=False) for m in MESSAGES), encoding="utf-8")
    return folder


def test_cases_lists_open_and_closed_with_filters(cli, config, tmp_path):
    store = Store(tmp_path / "data" / "steward.db")
    first = store.open_case("g1", "m1", "ad", 1, "kick", datetime(2025, 5, 1, 9))
    store.open_case("g2", "m9", "scam", None, "kick", datetime(2025, 5, 2, 9))
    assert moderation.close_case(store, first, "warn", "o1", datetime(2025, 5, 3, 9))
    store.close()
    every = cli("cases", "--config", config)
    assert every.exit_code == 0 and "小明" in every.output and "m9" in every.output and "群主" in every.output
    assert "m9" in cli("cases", "--open", "--config", config).output
    closed = cli("cases", "--closed", "--config", config).output
    assert "小明" in closed and "m9" not in closed
    assert "m9" not in cli("cases", "--group", "g1", "--config", config).output
    assert cli("cases", "--open", "--closed", "--config", config).exit_code == 2


def test_cases_without_a_store_says_so_and_creates_nothing(cli, config, tmp_path):
    result = cli("cases", "--config", config)
    assert result.exit_code == 0 and "No cases yet" in result.output
    assert not (tmp_path / "data").exists()


def test_rules_test_lists_what_would_be_flagged_by_article_and_scores_labels(cli, config, recorded):
    result = cli("rules", "test", recorded, "--json", "--config", config)
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["messages"] == 5 and report["flagged"] == 2
    flagged = {a["article"]: [m["id"] for m in a["messages"]] for a in report["by_article"]}
    assert flagged == {1: ["r2"], 2: ["r4"]}  # the owner's own offer (r3) is never flagged
    assert report["score"]["precision"] == 1.0 and report["score"]["recall"] == 1.0


def test_rules_test_with_a_configured_groups_rules_shows_shadow_articles(cli, config, recorded):
    result = cli("rules", "test", recorded, "--group", "g1", "--json", "--config", config)
    [ads] = [a for a in json.loads(result.output)["by_article"] if a["article"] == 1]
    assert ads["mode"] == "shadow" and ads["messages"][0]["would"] == "shadow"
    listing = cli("rules", "test", recorded, "--group", "g1", "--config", config).output
    assert "article 1 (shadow)" in listing and "r4" in listing
    assert cli("rules", "test", recorded, "--group", "nope", "--config", config).exit_code == 2


def test_rules_test_reads_unlabelled_recordings(cli, config, recorded):
    rows = [{k: v for k, v in m.items() if k in ("id", "sender", "text")} for m in MESSAGES]
    (recorded / "messages.jsonl").write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    report = json.loads(cli("rules", "test", recorded, "--json", "--config", config).output)
    assert report["flagged"] == 2 and "score" not in report


def test_moderate_prints_one_verdict_per_line_with_the_groups_article(cli, config, tmp_path):
    lines = tmp_path / "texts.jsonl"
    lines.write_text('{"text": "专业代运营 包月999 加我微信 handle_777 详聊"}\n请问排版用什么工具好\n\n你懂个屁，傻逼\n',
                     encoding="utf-8")
    result = cli("moderate", "--file", lines, "--json", "--config", config)
    assert result.exit_code == 0, result.output
    ad, fine, abuse = map(json.loads, result.output.splitlines())
    assert (ad["kind"], ad["article"]) == ("ad", 1) and 0 < ad["score"] <= 1
    assert fine["kind"] is None and fine["article"] is None
    assert (abuse["kind"], abuse["article"]) == ("abuse", 2)
    assert cli("moderate", "--group", "nope", "--config", config).exit_code == 2


def test_moderate_one_sender_shows_flood(cli, config, tmp_path):
    lines = tmp_path / "texts.txt"
    lines.write_text("\n".join(["明天早上八点在东门集合，记得带好雨具和午饭，别迟到"] * 3), encoding="utf-8")
    kinds = [json.loads(x)["kind"] for x in cli("moderate", "--file", lines, "--one-sender", "--json", "--config", config).output.splitlines()]
    assert kinds[0] is None and "flood" in kinds[1:]
