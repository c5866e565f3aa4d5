"""The one composition root: settings → store, knowledge base, model, routes, pipeline.

Everything is built here and passed down, so nothing is a global filled at import and a test can build
the same app on temporary folders.
"""
from __future__ import annotations

import logging
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import datetime, timedelta
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from chromadb.api import ClientAPI
from chromadb.api.types import EmbeddingFunction

from agent.kb.chroma import make_kb
from agent.kb.store import KnowledgeBase
from agent.analytics.digest import Digest
from agent.gap_screen import Screen, screen_of
from agent.analytics.recorder import Recorder
from agent.answering.writer import AnswerWriter
from agent.blocklist.guard import BlocklistRoute, BlocklistWatch
from agent.gap_notes import GapNotes
from agent.llm import tokens
from agent.llm.budget import Budget
from agent.llm.prompts import Prompts
from agent.pipeline import Pipeline, Services
from agent.probation.recorder import ProbationRecorder
from agent.summary.record import TranscriptRecorder, purge as purge_transcript
from agent.routes.answer import AnswerRoute
from agent.routes.commands import CommandRoute
from agent.routes.moderation import ModerationRoute
from agent.routes.theme import ThemeRoute
from agent.reports.route import ReportRoute
from agent.state.reports import purge as purge_reports
from agent.schedule.scheduler import Scheduler
from agent.settings import LLMSettings, Settings
from agent.store import Store
from agent.theme.judge import ThemeJudge

if TYPE_CHECKING:
    from agent.llm.provider import LLM

log = logging.getLogger(__name__)

_FROM_SETTINGS = object()  # build(llm=…) not given: the model settings.llm describes


class ThemeJudges:
    """One ThemeJudge per group. After the group's knowledge changes, the new judge is built on a
    background thread and the old one keeps judging until it is ready: no member message waits for
    a rebuild (the first judge of a group is built on first use; sync_knowledge warms it)."""

    # a rebuild waits this long: the messages right after a change are not slowed by it, and a burst of
    # changes (several /kb add, an editor's repeated saves) is mostly rebuilt once
    SETTLE_S = 0.5

    def __init__(self, settings: Settings, kb: KnowledgeBase):
        self.settings, self.kb = settings, kb
        self._built: dict[str, tuple[int, ThemeJudge]] = {}
        self._building: set[str] = set()
        self._lock = threading.Lock()
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="theme-judges")
        self._closed = threading.Event()

    def __call__(self, group_id: str) -> ThemeJudge:
        version = self.kb.version
        with self._lock:
            cached = self._built.get(group_id)
            if cached is not None:
                if cached[0] != version and group_id not in self._building and not self._closed.is_set():
                    self._building.add(group_id)
                    self._worker.submit(self._rebuild, group_id)
                return cached[1]
        return self.build(group_id)

    def ready(self, timeout: float = 60) -> bool:
        """Wait until no rebuild is running (tests, and warm-up after a sync)."""
        deadline = time.monotonic() + timeout
        while self._building and time.monotonic() < deadline:
            time.sleep(0.01)
        return not self._building

    def build(self, group_id: str) -> ThemeJudge:
        """Build the group's judge now, on the caller's thread (a sync or an eval reset: no message
        waits, and what follows must be judged on the new knowledge)."""
        version = self.kb.version  # read first: a sync during the build leaves the judge stale, not wrong
        got = self.kb.collection.get(where={"scope": {"$in": [group_id, "shared"]}}, include=["documents"])
        with self.kb.vocabulary(group_id):  # the judge keeps the knowledge's words as cut here
            judge = ThemeJudge(self.settings.groups[group_id], got["documents"] or [], got["ids"])
        with self._lock:
            cached = self._built.get(group_id)
            if cached is None or cached[0] <= version:
                self._built[group_id] = (version, judge)
        return judge

    def close(self) -> None:
        """Stop rebuilding: a waiting rebuild gives up, a queued one is dropped."""
        self._closed.set()
        self._worker.shutdown(wait=True, cancel_futures=True)

    def _rebuild(self, group_id: str) -> None:
        try:
            if not self._closed.wait(self.SETTLE_S):  # else the app closed meanwhile: its index is going
                self.build(group_id)
        except Exception:  # the old judge keeps judging; the next message after a change retries
            log.exception("rebuilding the theme judge of %s failed", group_id)
        finally:
            with self._lock:
                self._building.discard(group_id)


def routes(judges: ThemeJudges, writer: AnswerWriter | None) -> list:
    """The whole flow, in order; the first route to return a Decision wins (DESIGN.md)."""
    return [
        BlocklistRoute(),  # 0 a contact on the operator's blocklist: a case for the owners (one set lookup)
        ReportRoute(),  # 0 a member's 举报 on a quoted message: a case file for the owners, privately
        CommandRoute(),  # 1 owners manage the bot; others get a polite refusal
        ModerationRoute(),  # 2 rule violations: warn citing the article, strikes, case files
        AnswerRoute(theme_judges=judges, writer=writer),  # 3 questions: answer with sources, or "don't know"
        ThemeRoute(judges),  # 4 catch-all: glue, on-topic talk, off-topic drift and nudges
    ]


@dataclass
class App:
    settings: Settings
    store: Store
    kb: KnowledgeBase
    pipeline: Pipeline
    llm: LLM | None
    judges: ThemeJudges
    scheduler: Scheduler
    digest: Digest
    gap_notes: GapNotes | None = None
    clock: Callable[[], datetime] = datetime.now
    _tmp: tempfile.TemporaryDirectory | None = field(default=None, repr=False)
    _purged: datetime | None = field(default=None, repr=False)

    @property
    def llm_name(self) -> str:
        return getattr(self.llm, "label", "none") if self.llm else "none"

    def sources(self, group_id: str | None = None) -> dict[str, Path]:
        """scope → folder: each managed group's folder and the shared one, where they exist."""
        root = self.settings.kb.knowledge_dir
        ids = [group_id] if group_id else list(self.settings.groups)
        out = {g: root / g for g in ids if (root / g).is_dir()}
        if (root / "shared").is_dir():
            out["shared"] = root / "shared"
        return out

    def sync_knowledge(self, progress: bool = False):
        """Sync every managed group's knowledge, then warm the per-group indexes and judges so the
        first member message is as fast as the rest."""
        report = self.kb.sync(self.sources(), progress=progress)
        for group_id in self.settings.groups:
            self.kb.search("warm up", [group_id, "shared"], k=1)
            self.judges.build(group_id)
        self.pipeline.warm()
        return report

    def knowledge_texts(self, group_id: str) -> dict[str, str]:
        """file name → text of a group's knowledge files (eval checks cited files for the facts)."""
        out = {}
        for folder in self.sources(group_id).values():
            for f in folder.rglob("*"):
                if f.suffix in (".md", ".txt"):
                    out[f.name] = f.read_text(encoding="utf-8")
        return out

    def reset(self, knowledge: Path) -> None:
        """Back to a clean slate between eval sandboxes: an empty store, no recent chat, and every
        group's knowledge folder restored from `knowledge` (then an incremental sync)."""
        self.store.clear()
        self.pipeline.forget()
        for group_id in self.settings.groups:
            target = self.settings.kb.knowledge_dir / group_id
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(knowledge, target)
        self.kb.sync(self.sources())
        for group_id in self.settings.groups:
            self.judges.build(group_id)

    def tick(self, now: datetime) -> list:
        """Time-driven work, called every half minute by the runner: scheduled posts and their drafts,
        the owners' weekly digest and notes of new gaps, and (hourly) dropping message text past its
        retention."""
        if self._purged is None or now - self._purged >= timedelta(hours=1):
            self.store.purge(now, self.settings.store.retention_days)
            purge_transcript(self.store, now)
            purge_reports(self.store, now - timedelta(days=self.settings.store.retention_days))
            self._purged = now
        notes = self.gap_notes.tick(now) if self.gap_notes else []
        return [*self.scheduler.tick(now), *self.digest.tick(now), *notes]

    def usage(self) -> dict:
        if not self.llm:
            return {"calls": 0, "tokens": 0}
        u = self.llm.usage
        return {"calls": u.calls, "tokens": u.prompt_tokens + u.completion_tokens}

    def close(self) -> None:
        self.judges.close()  # background rebuilds first: they read the knowledge index
        self.kb.close()
        if self.llm is not None:
            self.llm.close()  # stops a local model server the app started
        self.store.close()
        if self._tmp is not None:
            self._tmp.cleanup()


def build(settings: Settings, *, ephemeral: bool = False, clock: Callable[[], datetime] = datetime.now,
          llm: LLM | None | object = _FROM_SETTINGS, embedding_function: EmbeddingFunction | None = None,
          chroma_client: ClientAPI | None = None) -> App:
    """Build the app. ephemeral: knowledge index in a temporary folder and state in memory (tests, eval).
    The parts a test or a tool swaps are taken as arguments (defaults: from settings): the clock the
    model budget counts days by, the model (None: no model), the knowledge base's embedding function
    and Chroma client (the theme judge and the moderation model keep the offline encoder they were
    fitted on)."""
    tmp = tempfile.TemporaryDirectory(prefix="steward-") if ephemeral and chroma_client is None else None
    kb = make_kb(settings, Path(tmp.name) / "chroma" if tmp else settings.chroma_dir, client=chroma_client,
                 embedding_function=embedding_function, local=ephemeral)
    store = Store(":memory:" if ephemeral else settings.store_url)
    if llm is _FROM_SETTINGS:
        from agent.llm.provider import make_llm  # here: the OpenAI client it pulls in is 40 MB of RSS

        llm = make_llm(settings.llm, data_dir=settings.data_dir)
    writer = budget = None
    if llm is not None:
        tokens.ensure_offline(settings.data_dir)  # tiktoken's files from the package, never the network
        s = settings.llm
        budget = Budget(s.group_daily_tokens, s.member_daily_tokens, s.monthly_tokens, store=store, clock=clock)
        writer = AnswerWriter(llm, budget, s)
    prompts = Prompts(settings.prompts_dir)
    services = Services(settings=settings, store=store, kb=kb, prompts=prompts, llm=llm, clock=clock, budget=budget)
    judges = ThemeJudges(settings, kb)
    observers = [Recorder(store, settings.groups), TranscriptRecorder(store), ProbationRecorder(store, settings),
                 BlocklistWatch(services)]
    pipeline = Pipeline(services, routes(judges, writer), observers=observers)
    screen = Screen(services, next(r for r in pipeline.routes if isinstance(r, AnswerRoute)), judges)
    services.screen = screen  # /gaps lists only what the knowledge cannot answer now
    return App(settings=settings, store=store, kb=kb, pipeline=pipeline, llm=llm, judges=judges,
               scheduler=Scheduler(settings, store, kb, prompts, llm, budget=budget),
               digest=Digest(settings, store, prompts, screen=screen),
               gap_notes=GapNotes(settings, store, prompts, screen=screen), clock=clock, _tmp=tmp)


@contextmanager
def offline_screen(settings, group_id: str):
    """A screen on a throwaway index of the group's knowledge as it is on disk now, without a model:
    `steward report` runs beside a live bot without touching its index or its state."""
    app = build(settings.model_copy(update={"llm": LLMSettings()}), ephemeral=True)
    try:
        app.kb.sync(app.sources(group_id))
        yield screen_of(app)
    finally:
        app.close()
