"""Knowledge files are read as operators' editors save them; files that are not text are skipped by name."""
import time
import zlib

import chromadb
import pytest

from agent.kb import KnowledgeBase, USEEmbeddingFunction
from agent.kb.ingest import NotText, decode

POTTERY = "# 陶艺社\n\n## 上课地点\n陶艺课在文化宫二楼东侧教室，每周四晚上七点开始。\n\n## 费用\n材料费每次四十五元，现场扫码交给班长。\n"
KNITTING = "# 编织小组\n\n## 毛线\n初学者请准备中粗的羊毛线两团，颜色不限，钩针用五号。\n"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030", "utf-16", "utf-16-le", "utf-16-be",
                                      "utf-32"])
def test_operators_encodings_decode_to_the_same_text(encoding):
    assert decode(POTTERY.encode(encoding)) == POTTERY


def test_a_short_gbk_line_is_read_as_chinese():
    assert decode("集合时间七点".encode("gbk")) == "集合时间七点"


@pytest.mark.parametrize("data", [
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 8,
    zlib.compress(POTTERY.encode("utf-8") * 30),
    b"PK\x03\x04\x14\x00\x06\x00" + bytes(range(256)) * 4,
])
def test_binary_is_not_text(data):
    with pytest.raises(NotText):
        decode(data)


def _kb() -> KnowledgeBase:
    return KnowledgeBase(chromadb.EphemeralClient(), USEEmbeddingFunction(),
                         collection=f"t{time.perf_counter_ns()}")


@pytest.fixture
def folder(tmp_path):
    d = tmp_path / "knowledge" / "g1"
    d.mkdir(parents=True)
    (d / "pottery.md").write_bytes(POTTERY.encode("gbk"))
    (d / "knitting.txt").write_bytes(KNITTING.encode("utf-16"))
    (d / "photo.md").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 8)
    return d


def test_gbk_and_utf16_knowledge_is_answered_and_binary_is_skipped(folder):
    kb = _kb()
    report = kb.sync({"g1": folder})
    assert sorted(report.added) == ["g1/knitting.txt", "g1/pottery.md"]
    assert [s.split(":")[0] for s in report.skipped] == ["g1/photo.md"]
    [top] = kb.search("陶艺课在哪个教室上？", ["g1"], k=1)
    assert top.file == "pottery.md" and "文化宫二楼" in top.text
    [top] = kb.search("编织要准备什么毛线", ["g1"], k=1)
    assert top.file == "knitting.txt" and "羊毛线" in top.text


def test_a_file_that_turns_binary_loses_its_old_chunks(folder):
    kb = _kb()
    kb.sync({"g1": folder})
    (folder / "pottery.md").write_bytes(zlib.compress(POTTERY.encode("utf-8") * 30))
    report = kb.sync({"g1": folder})
    assert "g1/pottery.md" in report.removed and any(s.startswith("g1/pottery.md:") for s in report.skipped)
    assert all(h.file != "pottery.md" for h in kb.search("陶艺课在哪个教室上？", ["g1"], k=3))


def test_kb_sync_and_stats_show_the_skipped_file(folder, tmp_path):
    from typer.testing import CliRunner

    from agent.cli import app

    config = tmp_path / "config"
    config.mkdir()
    (config / "settings.yaml").write_text(f"data_dir: {tmp_path / 'state'}\nkb:\n  collection: encodings\n",
                                          encoding="utf-8")
    runner = CliRunner()
    synced = runner.invoke(app, ["kb", "sync", "--config", str(config)])
    assert synced.exit_code == 0, synced.output
    assert "skipped: g1/photo.md: not text" in synced.output and "1 skipped" in synced.output
    stats = runner.invoke(app, ["kb", "stats", "--config", str(config)])
    assert stats.exit_code == 0, stats.output
    assert "skipped, not text: g1/photo.md" in stats.output
    assert "pottery" not in stats.output  # read fine, so not listed
