"""Closing the app stops its background rebuilds: a rebuild queued by a knowledge change just before
close neither runs on the index that is going away nor outlives the app as a thread."""
from __future__ import annotations

import logging
import threading
import time

from agent.channels.memory import MemoryChannel

BACKGROUND = ("theme-judges", "kb-index")


def _background_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith(BACKGROUND)]


def test_close_drops_a_pending_rebuild_and_joins_its_threads(settings, unit_parts, caplog):
    from agent.app import build

    app = build(settings, ephemeral=True, **unit_parts)
    app.sync_knowledge()
    group = app.settings.groups["demo"]
    channel = MemoryChannel(app.pipeline, group)
    app.judges("demo")
    version = app.kb.version
    assert channel.send(group.owners[0].id, "/kb add 补充：周四的训练改到东门集合。") is not None
    assert app.kb.version > version
    app.judges("demo")  # the knowledge changed: a rebuild is queued, waiting for the changes to settle
    app.kb.search("集合", ["demo", "shared"])
    assert _background_threads()  # the workers are running
    with caplog.at_level(logging.ERROR):
        app.close()
        assert _background_threads() == []
        time.sleep(app.judges.SETTLE_S + 0.2)  # when the dropped rebuild would have run
    assert not [r for r in caplog.records if "rebuilding" in r.getMessage()]
