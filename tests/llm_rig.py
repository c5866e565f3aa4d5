"""The real app with a model configured, for pipeline-level LLM tests: the shipped demo group on a
temporary copy of its knowledge, settings.llm pointing at a FakeOpenAI server on 127.0.0.1."""
from __future__ import annotations

import itertools
import shutil
from datetime import datetime, timedelta
from pathlib import Path

from agent.app import build
from agent.events import Member, Message, Role
from agent.settings import load_settings

REPO = Path(__file__).resolve().parents[1]
KEY_ENV = "STEWARD_TEST_LLM_KEY"


def llm_app(tmp: Path, base_url: str, monkeypatch, **llm):
    """Build and sync the demo app with provider openai at `base_url` (key set through monkeypatch)."""
    monkeypatch.setenv(KEY_ENV, "sk-test")
    return _app(tmp, {"provider": "openai", "base_url": base_url, "model": "fake-model", "api_key_env": KEY_ENV,
                      "timeout_s": 0.5, "max_retries": 1, **llm})


def plain_app(tmp: Path):
    """The same demo app without a model: what the group sees when the model's reply is refused."""
    return _app(tmp, {"provider": "none"})


def _app(tmp: Path, llm: dict):
    s = load_settings(REPO / "config")
    s.data_dir = tmp / "data"
    s.store.path = tmp / "data" / "steward.db"
    shutil.copytree(s.kb.knowledge_dir, tmp / "knowledge")  # a stray /kb add must not touch the repo
    s.kb.knowledge_dir = tmp / "knowledge"
    s.llm = s.llm.model_copy(update=llm)
    app = build(s, ephemeral=True)
    app.sync_knowledge()
    return app


class Members:
    """Messages from distinct members of the demo group, a minute apart in the afternoon, so strikes
    of one attempt never mute the sender of the next."""

    def __init__(self, start: datetime = datetime(2027, 4, 7, 14, 0)):
        self._n = itertools.count()
        self._start = start

    def say(self, text: str, to_bot: bool = True, sender: str | None = None, role: Role = Role.MEMBER) -> Message:
        n = next(self._n)
        who = sender or f"wxid_member_{n:03d}"
        return Message(id=f"m{n:04d}", group_id="demo", sender=Member(who, f"成员{n}", role), text=text,
                       ts=self._start + timedelta(minutes=n), to_bot=to_bot)
