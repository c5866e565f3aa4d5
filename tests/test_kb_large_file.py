"""A 30 MB knowledge file: `steward kb sync` finishes at once, skipping it with a warning that names
the file and the configured limit, without reading it (memory stays bounded), and indexes the rest."""
from __future__ import annotations

import shutil
import tracemalloc

import pytest
import yaml
from typer.testing import CliRunner

from agent.cli import app as cli
from tests.conftest import REPO

BIG_MB = 30


def _config(tmp_path, limit_mb: float | None = None):
    config = tmp_path / f"config-{limit_mb}"
    shutil.copytree(REPO / "config", config)
    path = config / "settings.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["data_dir"] = str(tmp_path / "data")
    data.setdefault("kb", {})["knowledge_dir"] = str(tmp_path / "knowledge")
    if limit_mb is not None:
        data["kb"]["max_file_mb"] = limit_mb
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return config


def _huge(folder):
    line = "这是一份很长的训练日志，记录每天的配速、心率和拉伸。\n".encode("utf-8")
    with (folder / "huge-log.md").open("wb") as fh:
        for _ in range(BIG_MB * 2**20 // len(line) + 1):
            fh.write(line)
    return folder


def test_a_30mb_file_is_skipped_by_name_and_limit_and_the_rest_is_indexed(tmp_path, monkeypatch):
    folder = tmp_path / "knowledge" / "demo"
    folder.mkdir(parents=True)
    (folder / "faq.md").write_text("## 集合\n周六早上七点在东门集合。\n", encoding="utf-8")
    config = _config(tmp_path)
    monkeypatch.setenv("COLUMNS", "200")
    runner = CliRunner()
    assert runner.invoke(cli, ["kb", "sync", "--config", str(config)]).exit_code == 0  # models loaded
    _huge(folder)
    tracemalloc.start()
    result = runner.invoke(cli, ["kb", "sync", "--config", str(config)])
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert result.exit_code == 0, result.output
    out = " ".join(result.output.split())
    assert "skipped: demo/huge-log.md" in out and "kb.max_file_mb (2 MB)" in out, out
    assert "0 added" in out and "1 skipped" in out and "1 unchanged" in out, out
    assert peak < 10 * 2**20, peak  # the 30 MB file was never read into memory


@pytest.mark.e2e
def test_a_raised_limit_lets_a_large_file_in(tmp_path):
    from agent.kb.chroma import make_kb
    from agent.settings import load_settings

    folder = tmp_path / "knowledge" / "demo"
    folder.mkdir(parents=True)
    (folder / "notes.md").write_text("## 补给\n长距离每五公里补一次水。\n" * 2000, encoding="utf-8")  # ~90 KB
    settings = load_settings(_config(tmp_path, limit_mb=0.05))
    report = make_kb(settings, tmp_path / "chroma").sync({"demo": folder})
    assert report.skipped and "notes.md" in report.skipped[0] and not report.added
    settings = load_settings(_config(tmp_path, limit_mb=1))
    report = make_kb(settings, tmp_path / "chroma2").sync({"demo": folder})
    assert report.added == ["demo/notes.md"] and not report.skipped
