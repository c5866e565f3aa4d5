"""Violation precision and recall of the moderation route alone, on any eval group folder.

    .venv/bin/python bench/bench_moderation.py ../shared/eval/newmedia [--show]

Replays messages.jsonl through ModerationRoute (no LLM, in-memory store) exactly as the eval builds
messages, and prints precision, recall, recall per kind and owners flagged. --show lists the misses.
"""
from __future__ import annotations

import json
import sys
from collections import deque
from pathlib import Path

from agent.eval import MentionParser, load_group, to_message
from agent.events import DecisionKind
from agent.llm.prompts import Prompts
from agent.pipeline import Context, Services
from agent.routes.moderation import ModerationRoute
from agent.settings import Settings
from agent.store import Store

ROOT = Path(__file__).resolve().parents[1]


def run(folder: Path, show: bool = False) -> dict:
    group = load_group(folder)
    services = Services(settings=Settings(groups={group.id: group}), store=Store(":memory:"), kb=None,
                        prompts=Prompts(ROOT / "prompts"), llm=None)
    ctx = Context(group=group, services=services, recent=deque(maxlen=12))
    route, mentions = ModerationRoute(), MentionParser(group)
    owners = {p.id for p in group.owners}
    tp = fp = fn = owner_flagged = 0
    by_kind: dict[str, list[int]] = {}
    rows = [json.loads(line) for line in (folder / "messages.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]
    for seq, row in enumerate(rows):
        message = to_message(row, group, mentions, seq)
        decision = route.handle(message, ctx) if route.match(message, ctx) else None
        flagged = decision is not None and decision.kind == DecisionKind.VIOLATION
        got = decision.violation.kind if flagged else None
        expected = row.get("violation") if row["expect"] == "violation" else None
        owner_flagged += flagged and row["sender"] in owners
        if expected:
            by_kind.setdefault(expected, []).append(int(got == expected))
        tp += bool(flagged and expected)
        fp += bool(flagged and not expected)
        fn += bool(expected and not flagged)
        if show and (got != expected):
            print(f"{row['id']}: expected {expected} got {got}: {row['text'][:70]}", file=sys.stderr)
    return {
        "group": group.id, "violations": tp + fn,
        "precision": round(tp / (tp + fp), 3) if tp + fp else 0.0,
        "recall": round(tp / (tp + fn), 3) if tp + fn else 0.0,
        "by_kind": {k: {"n": len(v), "recall": round(sum(v) / len(v), 3)} for k, v in sorted(by_kind.items())},
        "owner_flagged": owner_flagged,
    }


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    print(json.dumps(run(Path(args[0]), "--show" in sys.argv), ensure_ascii=False, indent=1))
