"""Recorded group messages replayed through the moderation route as a dry run.

Shared by `steward rules test` (what the current rules would flag, by article, before a change goes
live) and bench/bench_moderation.py (precision and recall on a labelled folder). Messages are built as
the eval builds them, the store lives in memory and actions are only returned, never carried out, so
a replay leaves nothing behind. The folder format is the eval's (shared/eval/README.md); labels are
optional, and only scored where present.
"""
from __future__ import annotations

import json
from collections import deque
from dataclasses import dataclass
from pathlib import Path

from agent.eval import to_message
from agent.events import Decision, DecisionKind
from agent.llm.prompts import Prompts
from agent.mentions import MentionParser
from agent.pipeline import Context, Services
from agent.routes.moderation import ModerationRoute
from agent.settings import GroupConfig, Settings
from agent.store import Store


@dataclass(frozen=True)
class Replayed:
    row: dict  # the recorded message as read from messages.jsonl
    decision: Decision | None  # None: the route let the message pass

    @property
    def flagged(self) -> str | None:
        """The violation kind the rules find, or None."""
        d = self.decision
        return d.violation.kind if d is not None and d.kind == DecisionKind.VIOLATION else None

    @property
    def expected(self) -> str | None:
        """The labelled violation kind, or None (also for unlabelled rows)."""
        return self.row.get("violation") if self.row.get("expect") == "violation" else None


def read_rows(folder: Path) -> list[dict]:
    path = folder / "messages.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def replay(rows: list[dict], group: GroupConfig, prompts_dir: Path, store: Store | None = None) -> list[Replayed]:
    """Every row through a fresh ModerationRoute (no LLM), in order, so strikes climb the ladder as
    they would live. `store` (the caller's, left open) may carry the owners' feedback examples;
    by default a fresh in-memory one."""
    services = Services(settings=Settings(groups={group.id: group}), store=store or Store(":memory:"), kb=None,
                        prompts=Prompts(prompts_dir), llm=None)
    ctx = Context(group=group, services=services, recent=deque(maxlen=12))
    route, mentions = ModerationRoute(), MentionParser(group)
    out = []
    for seq, row in enumerate(rows):
        message = to_message(row, group, mentions, seq)
        out.append(Replayed(row, route.handle(message, ctx) if route.match(message, ctx) else None))
    if store is None:
        services.store.close()
    return out


def by_article(replayed: list[Replayed]) -> dict[int | None, list[Replayed]]:
    """Flagged messages grouped by the article they break (None: no rule covers the kind)."""
    out: dict[int | None, list[Replayed]] = {}
    for r in replayed:
        if r.flagged:
            out.setdefault(r.decision.violation.article, []).append(r)
    return out


def score(replayed: list[Replayed], group: GroupConfig) -> dict:
    """Violation precision, recall, recall by kind and owners flagged, over the labelled rows."""
    owners = {p.id for p in group.owners}
    labelled = [r for r in replayed if "expect" in r.row]
    tp = sum(bool(r.flagged and r.expected) for r in labelled)
    fp = sum(bool(r.flagged and not r.expected) for r in labelled)
    fn = sum(bool(r.expected and not r.flagged) for r in labelled)
    by_kind: dict[str, list[int]] = {}
    for r in labelled:
        if r.expected:
            by_kind.setdefault(r.expected, []).append(int(r.flagged == r.expected))
    return {
        "group": group.id, "labelled": len(labelled), "violations": tp + fn,
        "precision": round(tp / (tp + fp), 3) if tp + fp else 0.0,
        "recall": round(tp / (tp + fn), 3) if tp + fn else 0.0,
        "by_kind": {k: {"n": len(v), "recall": round(sum(v) / len(v), 3)} for k, v in sorted(by_kind.items())},
        "owner_flagged": sum(bool(r.flagged) and r.row.get("sender") in owners for r in replayed),
    }
