"""kb.chroma: the knowledge base on a real Chroma server (chromadb's own `chroma run`, started here on a
free port), shared by two KnowledgeBases as two bot processes would share it: what one syncs, the
other finds; each deployment keeps to its own collection; a dead address fails at start, by name."""
from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest

from agent.kb import KnowledgeBase, USEEmbeddingFunction
from agent.kb.chroma import ChromaUnavailable, collection_name, make_client
from agent.settings import ChromaSettings, ConfigError, KBSettings, load_settings
from agent.testing.puppet import free_port

CLUB = "# 俱乐部\n\n## 场地\n- 周末活动在城西体育馆二楼。\n- 停车请用北门的地下车库。\n"
ADDED = "# 器材\n\n## 借用\n- 球拍可以在前台登记后免费借用，当天归还。\n"
CHROMA = Path(sys.executable).with_name("chroma")
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`chroma run` on a free port; ready once it logs that it listens (its output is drained, so a
    full pipe never stalls it) and a client's heartbeat answers."""
    port = free_port()
    proc = subprocess.Popen([str(CHROMA), "run", "--path", str(tmp_path_factory.mktemp("chroma")), "--port",
                             str(port)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace")
    listening = threading.Event()

    def drain():
        for line in proc.stdout:
            if "listening on" in line.lower():
                listening.set()

    threading.Thread(target=drain, daemon=True).start()
    try:
        assert listening.wait(120), "chroma run never said it listens"
        settings = ChromaSettings(mode="server", port=port, connect_s=30, refresh_s=0)
        make_client(settings, Path()).heartbeat()
        yield settings
    finally:
        proc.terminate()
        proc.wait(30)


def kb_on(settings: ChromaSettings, prefix: str = "club-") -> KnowledgeBase:
    """One bot process's knowledge base, as make_kb builds it in server mode."""
    kb = KBSettings(chroma=settings.model_copy(update={"prefix": prefix}))
    return KnowledgeBase(make_client(kb.chroma, Path()), USEEmbeddingFunction(), collection=collection_name(kb),
                         shared=True, refresh_s=kb.chroma.refresh_s)


@pytest.mark.e2e
def test_a_sync_in_one_process_is_found_by_another(server, tmp_path):
    folder = tmp_path / "club"
    folder.mkdir()
    (folder / "club.md").write_text(CLUB, encoding="utf-8")
    writer, reader = kb_on(server), kb_on(server)
    assert writer.sync({"club": folder}).added == ["club/club.md"]
    hits = reader.search("车停在哪里？", ["club"], k=1)
    assert hits and "北门" in hits[0].text

    # the reader's index is built now; a later sync by the writer makes it stale through the server
    version = reader.version
    (folder / "gear.md").write_text(ADDED, encoding="utf-8")
    assert writer.sync({"club": folder}).added == ["club/gear.md"]
    assert reader.version > version
    assert reader.ready(timeout=120)
    hits = reader.search("球拍能借吗？", ["club"], k=1)
    assert hits and "球拍" in hits[0].text
    assert reader.stats()["files"] == 2 and reader.stats()["last_sync"]


@pytest.mark.e2e
def test_each_deployment_keeps_to_its_own_collection(server, tmp_path):
    folder = tmp_path / "club"
    folder.mkdir()
    (folder / "club.md").write_text(CLUB, encoding="utf-8")
    ours, theirs = kb_on(server, "east-"), kb_on(server, "west-")
    ours.sync({"club": folder})
    assert ours.collection.name == "east-knowledge" and ours.indexed_files() == {("club", "club.md")}
    assert theirs.indexed_files() == set() and theirs.search("停车", ["club"]) == []


def test_a_server_that_does_not_answer_is_named_at_start():
    port = free_port()  # nothing listens there
    with pytest.raises(ChromaUnavailable, match=rf"127\.0\.0\.1:{port}.*kb\.chroma"):
        make_client(ChromaSettings(mode="server", port=port, connect_s=0), Path())


def test_steward_names_a_dead_server_in_one_line(tmp_path):
    """Any command that opens the knowledge base ends with the config error, exit 2, no traceback."""
    from typer.testing import CliRunner

    from agent.cli import app

    config = tmp_path / "config"
    config.mkdir()
    port = free_port()  # nothing listens there
    (config / "settings.yaml").write_text(
        f"data_dir: state\nkb:\n  chroma: {{mode: server, port: {port}, connect_s: 0}}\n", encoding="utf-8")
    done = CliRunner().invoke(app, ["kb", "stats", "--config", str(config)])
    assert done.exit_code == 2, done.output
    assert "Config error: no Chroma server answered at" in done.output and str(port) in done.output
    assert "Traceback" not in done.output


def test_a_collection_name_chroma_refuses_names_the_keys():
    with pytest.raises(ConfigError, match=r"kb\.chroma\.prefix \+ kb\.collection"):
        collection_name(KBSettings(collection="kb", chroma=ChromaSettings(prefix="our club/")))
    assert collection_name(KBSettings(chroma=ChromaSettings(prefix="club-"))) == "club-knowledge"


def test_local_mode_keeps_the_index_in_the_data_folder(tmp_path):
    client = make_client(ChromaSettings(), tmp_path / "chroma")
    client.get_or_create_collection("probe")
    assert (tmp_path / "chroma" / "chroma.sqlite3").exists()



@pytest.mark.e2e
def test_the_app_builds_its_knowledge_base_on_the_configured_server(server, tmp_path):
    """make_kb follows kb.chroma; an ephemeral app (eval, tests) keeps a folder of its own whatever it says."""
    from agent.kb.chroma import make_kb

    settings = load_settings(REPO / "config")
    settings.kb.chroma = server.model_copy(update={"prefix": "app-"})
    kb = make_kb(settings, tmp_path / "unused")
    assert kb.shared and kb.collection.name == "app-knowledge" and not (tmp_path / "unused").exists()
    own = make_kb(settings, tmp_path / "own", local=True)
    assert not own.shared and (tmp_path / "own" / "chroma.sqlite3").exists()


@pytest.mark.e2e
def test_a_fact_added_through_one_bot_is_answered_by_another(server, tmp_path):
    """Two bots (two accounts, two state databases) on one knowledge folder and one Chroma server:
    an owner's /kb add in the first is answered by the second once it has noticed the sync."""
    import shutil

    from agent.app import build
    from agent.channels.memory import MemoryChannel
    from agent.events import DecisionKind

    knowledge = tmp_path / "knowledge"
    shutil.copytree(REPO / "knowledge", knowledge)
    apps = []
    for name in ("first", "second"):
        settings = load_settings(REPO / "config")
        settings.data_dir = tmp_path / name
        settings.store.path = tmp_path / name / "steward.db"
        settings.kb.knowledge_dir = knowledge
        settings.kb.chroma = server.model_copy(update={"prefix": "bots-"})
        app = build(settings, llm=None)
        app.sync_knowledge()
        apps.append(app)
    first, second = apps
    try:
        group = first.settings.groups["demo"]
        owner = MemoryChannel(first.pipeline, group)
        member = MemoryChannel(second.pipeline, second.settings.groups["demo"])
        question = "器材室的泡沫轴可以借回家用吗？"
        before = member.send("wxid_asker1", question)
        assert not any(s.file == "added-in-chat.md" for s in before.sources)
        assert owner.send(group.owners[0].id, "/kb add 器材室的泡沫轴可以登记后借回家，一周内归还。") is not None
        assert second.kb.ready(timeout=120) and second.judges.ready(timeout=120)
        after = member.send("wxid_asker2", question)
        assert after.kind == DecisionKind.ANSWER and any(s.file == "added-in-chat.md" for s in after.sources), after
    finally:
        for app in apps:
            app.close()


@pytest.mark.e2e
def test_steward_kb_syncs_to_the_server_and_says_where(server, tmp_path):
    from typer.testing import CliRunner

    from agent.cli import app

    config = tmp_path / "config"
    config.mkdir()
    (tmp_path / "knowledge" / "club").mkdir(parents=True)
    (tmp_path / "knowledge" / "club" / "club.md").write_text(CLUB, encoding="utf-8")
    (config / "settings.yaml").write_text(
        f"data_dir: state\nkb:\n  chroma: {{mode: server, port: {server.port}, prefix: cli-}}\n", encoding="utf-8")
    synced = CliRunner().invoke(app, ["kb", "sync", "--config", str(config)])
    assert synced.exit_code == 0 and "added: club/club.md" in synced.output, synced.output
    stats = CliRunner().invoke(app, ["kb", "stats", "--config", str(config)])
    said = " ".join(stats.output.split())  # rich wraps lines at the terminal's width
    assert stats.exit_code == 0 and f"Chroma server 127.0.0.1:{server.port}" in said, stats.output
    assert "cli-knowledge" in said and not (tmp_path / "state" / "chroma").exists()


@pytest.mark.e2e
def test_a_sync_by_another_os_process_is_found(server, tmp_path):
    """The writer is a separate `steward kb sync` process: nothing but the server connects the two."""
    knowledge = tmp_path / "knowledge" / "club"
    knowledge.mkdir(parents=True)
    (knowledge / "club.md").write_text(CLUB, encoding="utf-8")
    config = tmp_path / "config"
    config.mkdir()
    (config / "settings.yaml").write_text(
        f"data_dir: state\nkb:\n  chroma: {{mode: server, port: {server.port}, prefix: os-}}\n", encoding="utf-8")
    steward = [str(Path(sys.executable).with_name("steward")), "kb", "sync", "--config", str(config)]
    assert subprocess.run(steward, capture_output=True, timeout=300).returncode == 0

    reader = kb_on(server, "os-")
    assert "北门" in reader.search("车停在哪里？", ["club"], k=1)[0].text
    (knowledge / "gear.md").write_text(ADDED, encoding="utf-8")
    assert subprocess.run(steward, capture_output=True, timeout=300).returncode == 0
    assert reader.ready(timeout=120)
    assert "球拍" in reader.search("球拍能借吗？", ["club"], k=1)[0].text
