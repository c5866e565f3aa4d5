"""Live knowledge: an operator's edit is picked up while the bot runs, without a restart."""
import asyncio
import contextlib

from agent.kb.watch import watch_knowledge


async def test_edit_on_disk_is_indexed_while_running(settings, unit_parts):
    from agent.app import build

    app = build(settings, ephemeral=True, **unit_parts)
    app.sync_knowledge()
    root = settings.kb.knowledge_dir
    stop, synced = asyncio.Event(), asyncio.Event()
    task = asyncio.create_task(watch_knowledge(app.kb, root, app.sources, stop, on_sync=lambda r: synced.set()))
    async with asyncio.timeout(20):
        # the watcher starts listening some time after the task starts, and says nothing when it does:
        # the file is written until a sync reports it (a write seen twice is one change, its hash unmoved)
        while not synced.is_set():
            (root / "demo" / "winter.md").write_text("# 冬训\n\n冬训营每周四晚上在体育馆练核心力量，口令是“雪地飞驰”。\n",
                                                      encoding="utf-8")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(synced.wait(), timeout=2)
    hits = app.kb.search("冬训营口令", ["demo", "shared"], k=1)
    assert hits and hits[0].file == "winter.md"
    stop.set()
    await asyncio.wait_for(task, timeout=10)
    app.close()
