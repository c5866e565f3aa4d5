"""Incremental sync: unchanged files are not re-embedded, edits and deletions leave nothing stale, a
crashed sync is repaired by the next one, and Chroma's downloading default embedding is never used."""
import time

import chromadb
import pytest
from chromadb.utils import embedding_functions

import agent.kb.sync as kb_sync
from agent.kb import KnowledgeBase, USEEmbeddingFunction

EVENTS = "# 活动\n\n## 分享会\n- 每周三 20:00 开讲。\n- 回放保留30天。\n\n## 沙龙\n- 地点：杭州。\n- 票价：99元。\n"
FAQ = "# FAQ\n\n**Q：名字可以修改吗？**\nA：一年最多改2次。\n\n**Q：一次能发几篇？**\nA：最多8篇。\n"


class CountingEF(USEEmbeddingFunction):
    """The real embedding, counting texts; optionally failing on the n-th call to simulate a crash."""

    def __init__(self, fail_on_call: int | None = None):
        super().__init__()
        self.texts = 0
        self.calls = 0
        self.fail_on_call = fail_on_call

    def __call__(self, input):
        self.calls += 1
        if self.fail_on_call == self.calls:
            raise RuntimeError("simulated crash")
        self.texts += len(input)
        return super().__call__(input)


@pytest.fixture
def folder(tmp_path):
    d = tmp_path / "g1"
    d.mkdir()
    (d / "events.md").write_text(EVENTS, encoding="utf-8")
    (d / "faq.md").write_text(FAQ, encoding="utf-8")
    return d


def make_kb(ef=None, client=None):
    return KnowledgeBase(client or chromadb.EphemeralClient(), ef or CountingEF(),
                         collection=f"t{time.perf_counter_ns()}")


def stored_texts(kb):
    return kb.collection.get(where={"kind": "chunk"}, include=["documents"])["documents"]


def test_unchanged_files_are_not_reembedded(folder):
    ef = CountingEF()
    kb = make_kb(ef)
    first = kb.sync({"g1": folder})
    assert sorted(first.added) == ["g1/events.md", "g1/faq.md"] and first.chunks == 4
    embedded = ef.texts
    again = kb.sync({"g1": folder})
    assert again.unchanged == 2 and not again.changed and again.chunks == 0
    assert ef.texts == embedded
    assert again.seconds < 1.0


def test_changed_file_is_replaced_without_stale_chunks(folder):
    ef = CountingEF()
    kb = make_kb(ef)
    kb.sync({"g1": folder})
    before = ef.texts
    (folder / "events.md").write_text(EVENTS.replace("99元", "129元"), encoding="utf-8")
    report = kb.sync({"g1": folder})
    assert report.updated == ["g1/events.md"] and report.unchanged == 1
    texts = stored_texts(kb)
    assert any("129元" in t for t in texts) and not any("99元" in t and "129元" not in t for t in texts)
    assert kb.stats()["chunks"] == 4
    # only the changed file was embedded again (its chunks and their sentence units)
    faq_records = len(kb.collection.get(where={"file": "faq.md"})["ids"])
    events_records = len(kb.collection.get(where={"file": "events.md"})["ids"])
    assert ef.texts - before == events_records
    assert faq_records > 0


def test_removed_file_and_missing_folder_are_removed(folder, tmp_path):
    kb = make_kb()
    other = tmp_path / "g2"
    other.mkdir()
    (other / "x.md").write_text("## 其他群\n别的群的内容。", encoding="utf-8")
    kb.sync({"g1": folder, "g2": other})
    (folder / "faq.md").unlink()
    report = kb.sync({"g1": folder})  # g2 not named: left alone
    assert report.removed == ["g1/faq.md"]
    assert not kb.collection.get(where={"file": "faq.md"})["ids"]
    assert kb.stats()["scopes"]["g2"]["files"] == 1
    report = kb.sync({"g2": tmp_path / "gone"})
    assert report.removed == ["g2/x.md"] and "g2" not in kb.stats()["scopes"]


def test_crash_midway_is_repaired_by_next_sync(folder, monkeypatch):
    monkeypatch.setattr(kb_sync, "BATCH", 3)  # several writes per sync, so a crash can fall between
    client = chromadb.EphemeralClient()
    kb = make_kb(client=client)
    kb.sync({"g1": folder})
    (folder / "events.md").write_text(EVENTS.replace("杭州", "上海") + "\n## 打卡\n- 满25天送书。\n", "utf-8")
    crashing = KnowledgeBase(client, CountingEF(fail_on_call=2), collection=kb.collection.name)
    with pytest.raises(RuntimeError):
        crashing.sync({"g1": folder})
    repaired = KnowledgeBase(client, CountingEF(), collection=kb.collection.name).sync({"g1": folder})
    assert repaired.updated == ["g1/events.md"]
    texts = stored_texts(kb)
    assert any("上海" in t for t in texts) and not any("杭州" in t for t in texts)
    assert kb.stats()["chunks"] == 5


def test_crash_before_stale_delete_is_repaired(folder, monkeypatch):
    kb = make_kb()
    kb.sync({"g1": folder})
    (folder / "faq.md").write_text(FAQ.replace("8篇", "10篇"), encoding="utf-8")
    real_delete = kb.collection.delete
    monkeypatch.setattr(kb.collection, "delete", lambda **kw: (_ for _ in ()).throw(OSError("disk")))
    with pytest.raises(OSError):
        kb.sync({"g1": folder})
    assert any("8篇" in t for t in stored_texts(kb))  # stale and new side by side after the crash
    monkeypatch.setattr(kb.collection, "delete", real_delete)
    assert kb.sync({"g1": folder}).updated == ["g1/faq.md"]
    texts = stored_texts(kb)
    assert any("10篇" in t for t in texts) and not any("8篇" in t for t in texts)


def test_chroma_default_embedding_is_never_reached(folder, monkeypatch):
    def refuse(self, input):
        raise AssertionError("Chroma's default embedding function was used (it downloads a model)")

    def no_download(self):
        raise AssertionError("Chroma tried to download its default model")

    monkeypatch.setattr(embedding_functions.DefaultEmbeddingFunction, "__call__", refuse)
    monkeypatch.setattr(embedding_functions.ONNXMiniLM_L6_V2, "__call__", refuse)
    monkeypatch.setattr(embedding_functions.ONNXMiniLM_L6_V2, "_download_model_if_not_exists", no_download)
    client = chromadb.EphemeralClient()
    kb = KnowledgeBase(client, USEEmbeddingFunction(), collection="nodefault")
    kb.sync({"g1": folder})
    assert kb.search("分享会几点开始", ["g1"])[0].file == "events.md"
    reopened = KnowledgeBase(client, USEEmbeddingFunction(), collection="nodefault")
    assert reopened.search("名字能改几次", ["g1"])[0].file == "faq.md"
    # a collection fetched without passing a function rebuilds ours from its stored config
    bare = client.get_collection("nodefault")
    assert bare.query(query_texts=["票价多少"], n_results=1)["ids"][0]


def test_persistent_index_survives_reopen(folder, tmp_path):
    path = str(tmp_path / "chroma")
    settings = chromadb.Settings(anonymized_telemetry=False)
    kb = KnowledgeBase(chromadb.PersistentClient(path=path, settings=settings), USEEmbeddingFunction())
    kb.sync({"g1": folder})
    ef = CountingEF()
    reopened = KnowledgeBase(chromadb.PersistentClient(path=path, settings=settings), ef)
    assert reopened.sync({"g1": folder}).unchanged == 2 and ef.texts == 0
    assert reopened.search("沙龙在哪", ["g1"])[0].file == "events.md"


def test_add_entry_appends_and_reindexes_one_file(folder):
    ef = CountingEF()
    kb = make_kb(ef)
    kb.sync({"g1": folder})
    report = kb.add_entry("g1", "curated", "周五晚上九点发红包。", question="红包什么时候发？")
    assert report.added == ["g1/curated.md"] and report.unchanged == 2
    assert (folder / "curated.md").read_text(encoding="utf-8") == "**Q：红包什么时候发？**\nA：周五晚上九点发红包。\n"
    kb.add_entry("g1", "curated.md", "群主是林岚。")
    assert "\n\n群主是林岚。\n" in (folder / "curated.md").read_text(encoding="utf-8")
    hit = kb.search("红包几点发", ["g1"])[0]
    assert hit.file == "curated.md" and hit.question == "红包什么时候发？"
    with pytest.raises(ValueError):
        kb.add_entry("g1", "../escape.md", "x")
    with pytest.raises(KeyError):
        kb.add_entry("unknown", "a.md", "x")


def test_stats_and_collection_name(folder):
    kb = make_kb()
    kb.sync({"g1": folder})
    info = kb.stats()
    assert info["files"] == 2 and info["scopes"]["g1"] == {"files": 2, "chunks": 4} and info["last_sync"]
    with pytest.raises(ValueError):
        KnowledgeBase(chromadb.EphemeralClient(), USEEmbeddingFunction(), collection="kb")
