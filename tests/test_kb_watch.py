"""Live knowledge: an operator's edit is picked up while the bot runs, without a restart."""
import asyncio

from agent.kb.watch import watch_knowledge


async def test_edit_on_disk_is_indexed_while_running(settings):
    from agent.app import build

    app = build(settings, ephemeral=True)
    app.sync_knowledge()
    root = settings.kb.knowledge_dir
    stop, synced = asyncio.Event(), asyncio.Event()
    task = asyncio.create_task(watch_knowledge(app.kb, root, app.sources, stop, on_sync=lambda r: synced.set()))
    await asyncio.sleep(0.5)  # the watcher is listening
    (root / "demo" / "winter.md").write_text("# 冬训\n\n冬训营每周四晚上在体育馆练核心力量，口令是“雪地飞驰”。\n",
                                              encoding="utf-8")
    await asyncio.wait_for(synced.wait(), timeout=20)
    hits = app.kb.search("冬训营口令", ["demo", "shared"], k=1)
    assert hits and hits[0].file == "winter.md"
    stop.set()
    await asyncio.wait_for(task, timeout=10)
    app.close()
