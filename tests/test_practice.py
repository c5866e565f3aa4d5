"""Practice that is real: `steward chat` works on the bot's own data folder (what `steward run` uses),
so `steward cases`, `stats` and `report` show the session afterwards; --sandbox works on a throwaway copy
and leaves the data and the knowledge as they were; `steward demo` always runs in a sandbox."""
from __future__ import annotations

import re
import shutil
import sqlite3
from pathlib import Path

import pytest
import typer
import yaml
from typer.testing import CliRunner

from agent.channels.practice import practice_settings, sandboxed
from agent.settings import load_settings

REPO = Path(__file__).resolve().parents[1]
OWNER = "wxid_demo_owner_zhou"
ADS = ["全新跑步耳机 厂家直供 三折包邮 有意者加V：erji_5566", "收跑鞋回收 高价上门 价格私聊 加V：erji_5566 秒回",
       "代购能量胶 批发价 一箱起发 加V：erji_5566 备注跑团"]


@pytest.fixture
def config(tmp_path) -> Path:
    """A copy of the shipped config, knowledge and prompts: the data folder is tmp_path/.steward."""
    for folder in ("config", "knowledge", "prompts"):
        shutil.copytree(REPO / folder, tmp_path / folder)
    return tmp_path / "config"


def cli() -> typer.Typer:
    from agent.analytics.cli import register as register_analytics
    from agent.channels.cli import register as register_channels
    from agent.moderation.cli import register as register_moderation

    app = typer.Typer()
    app.callback()(lambda: None)
    for register in (register_channels, register_moderation, register_analytics):
        register(app)
    return app


def chat(config: Path, lines: list[str], *extra: str) -> str:
    result = CliRunner().invoke(cli(), ["chat", "--config", str(config), *extra], input="\n".join([*lines, "/quit", ""]))
    assert result.exit_code == 0, result.output
    return result.output


def files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_sandbox_is_a_copy_of_state_index_and_knowledge_and_the_originals_stay(tmp_path):
    s = load_settings(REPO / "config")
    s.data_dir = tmp_path / "data"
    s.store.path = s.data_dir / "steward.db"
    s.kb.knowledge_dir = tmp_path / "knowledge"
    shutil.copytree(REPO / "knowledge", s.kb.knowledge_dir)
    (s.chroma_dir / "x").mkdir(parents=True)
    (s.chroma_dir / "x" / "index.bin").write_bytes(b"vectors")
    with sqlite3.connect(s.db_path) as db:
        db.execute("create table t (v text)")
        db.execute("insert into t values ('kept')")
    knowledge = files(s.kb.knowledge_dir)

    copy = sandboxed(s, tmp_path / "box")
    assert copy.db_path != s.db_path and copy.kb.knowledge_dir != s.kb.knowledge_dir and copy.chroma_dir != s.chroma_dir
    with sqlite3.connect(copy.db_path) as db:
        assert db.execute("select v from t").fetchall() == [("kept",)]
        db.execute("insert into t values ('sandbox only')")
    (copy.kb.knowledge_dir / "demo" / "added-in-chat.md").write_text("沙盒里加的", encoding="utf-8")
    assert files(copy.kb.knowledge_dir) != knowledge and (copy.chroma_dir / "x" / "index.bin").read_bytes() == b"vectors"
    with sqlite3.connect(s.db_path) as db:
        assert db.execute("select v from t").fetchall() == [("kept",)]
    assert files(s.kb.knowledge_dir) == knowledge
    assert not (sandboxed(s, tmp_path / "fresh", fresh_state=True).db_path).exists()


def test_practice_settings_without_sandbox_are_the_bots_own_and_a_sandbox_is_removed_after(tmp_path):
    s = load_settings(REPO / "config")
    s.data_dir, s.kb.knowledge_dir = tmp_path / "data", tmp_path / "knowledge"
    with practice_settings(s, sandbox=False) as same:
        assert same is s
    with practice_settings(s, sandbox=True) as box:
        root = box.data_dir.parent
        assert root.is_dir() and box.data_dir != s.data_dir
    assert not root.exists()


@pytest.mark.e2e  # the real app on the offline encoder, through the CLI, three times
def test_a_chat_session_is_seen_by_cases_and_stats_and_a_sandboxed_one_leaves_nothing(config):
    data = config.parent / ".steward"
    knowledge = files(config.parent / "knowledge")
    added = config.parent / "knowledge" / "demo" / "added-in-chat.md"

    box = chat(config, [*ADS, f"/as {OWNER}", "/kb add 跑团的储物柜在体育馆东门，密码找群主要。"], "--sandbox")
    assert "Sandbox" in box
    assert not (data / "steward.db").exists() and files(config.parent / "knowledge") == knowledge

    chat(config, [*ADS, f"/as {OWNER}", "/kb add 跑团的储物柜在体育馆东门，密码找群主要。"])
    assert (data / "steward.db").is_file() and "储物柜" in added.read_text(encoding="utf-8")
    runner = CliRunner()
    cases = runner.invoke(cli(), ["cases", "--open", "--config", str(config)])
    assert cases.exit_code == 0 and "│ 1 │ demo" in cases.output and "│ 2 │" not in cases.output, cases.output
    stats = runner.invoke(cli(), ["stats", "-g", "demo", "--config", str(config)])
    assert stats.exit_code == 0 and re.search(r"消息数\s*│ 4 │", stats.output), stats.output
    assert re.search(r"违规\s*│ 3 │", stats.output), stats.output
    report = runner.invoke(cli(), ["report", "-g", "demo", "-o", str(config.parent / "out"), "--config", str(config)])
    assert report.exit_code == 0, report.output
    page = next((config.parent / "out").glob("*.html")).read_text(encoding="utf-8")
    assert re.search(r"消息数</t[dh]>\s*<t[dh][^>]*>4<", page) and re.search(r"案件: open</t[dh]>\s*<t[dh][^>]*>1<", page)


@pytest.mark.e2e  # the real app on the offline encoder, through the CLI
def test_demo_always_runs_in_a_sandbox(config):
    data = config.parent / ".steward"
    knowledge = files(config.parent / "knowledge")
    script = config.parent / "script.yaml"
    script.write_text(yaml.safe_dump([{"sender": OWNER, "text": "/kb add 跑团的储物柜在体育馆东门。"},
                                      {"sender": "wxid_demo_kevin", "text": ADS[0]}], allow_unicode=True), encoding="utf-8")
    result = CliRunner().invoke(cli(), ["demo", "--config", str(config), "--script", str(script)])
    assert result.exit_code == 0, result.output
    assert "violation" in result.output
    assert not (data / "steward.db").exists() and files(config.parent / "knowledge") == knowledge


@pytest.mark.e2e  # python-wechaty over gRPC to the loopback puppet service, and the real app
def test_a_sim_session_is_kept_and_a_sandboxed_one_is_not(config):
    data = config.parent / ".steward"
    lines = "\n".join([*ADS, "/quit", ""])
    box = CliRunner().invoke(cli(), ["sim", "--sandbox", "--config", str(config)], input=lines)
    assert box.exit_code == 0 and "violation" in box.output, box.output
    assert not (data / "steward.db").exists()
    kept = CliRunner().invoke(cli(), ["sim", "--config", str(config)], input=lines)
    assert kept.exit_code == 0 and "violation" in kept.output, kept.output
    cases = CliRunner().invoke(cli(), ["cases", "--open", "--config", str(config)])
    assert cases.exit_code == 0 and "│ 1 │ demo" in cases.output, cases.output
