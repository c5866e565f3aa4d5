"""What owners' feedback changes on a replayed group: false warnings avoided, violations recovered or lost.

    .venv/bin/python bench/bench_moderation_feedback.py ../shared/eval            # every group folder
    .venv/bin/python bench/bench_moderation_feedback.py ../shared/eval/parents   # one

Each group's messages.jsonl is replayed in order through ModerationRoute (no LLM, in-memory store) twice:
as shipped, and with a simulated owner who answers every warning at once using the folder's labels:
a warning on a message labelled not a violation is dismissed (a negative example, its strike withdrawn),
and with --confirm a warning on a labelled violation of that kind is confirmed (a positive). Later
messages are judged with the examples so far, as live. Nothing is fitted here: the feedback thresholds
are the config defaults (picked on public training ads), so every group's figure is held out.
Prints JSON: per group, then the totals.
"""
from __future__ import annotations

import json
import sys
from collections import deque
from pathlib import Path

from agent.eval import load_group, to_message
from agent.llm.prompts import Prompts
from agent.mentions import MentionParser
from agent.moderation import feedback
from agent.replay import read_rows
from agent.pipeline import Context, Services
from agent.routes.moderation import ModerationRoute
from agent.settings import Settings
from agent.state import moderation
from agent.store import Store

ROOT = Path(__file__).resolve().parents[1]


def judged(folder: Path, owner: bool, confirm: bool) -> tuple[list[tuple[dict, str | None]], int, int]:
    """(row, flagged kind) per message; and how many dismissals and confirmations the owner made."""
    group = load_group(folder)
    store = Store(":memory:")
    ctx = Context(group=group, services=Services(settings=Settings(groups={group.id: group}), store=store, kb=None,
                                                 prompts=Prompts(ROOT / "prompts"), llm=None), recent=deque(maxlen=12))
    route, mentions = ModerationRoute(), MentionParser(group)
    out, dismissed, confirmed = [], 0, 0
    for seq, row in enumerate(read_rows(folder)):
        message = to_message(row, group, mentions, seq)
        decision = route.handle(message, ctx) if route.match(message, ctx) else None
        kind = decision.violation.kind if decision is not None and decision.violation is not None else None
        out.append((row, kind))
        if not owner or kind is None or decision.detail.get("shadow"):
            continue
        expected = row.get("violation") if row.get("expect") == "violation" else None
        if expected is None:
            moderation.withdraw_strikes(store, group.id, message.id)  # as an owner's dismissal does
            dismissed += feedback.add(store, group, kind, feedback.DISMISSED, message.text, "owner", "bench", message.ts) is not None
        elif confirm and expected == kind:
            confirmed += feedback.add(store, group, kind, feedback.CONFIRMED, message.text, "owner", "bench", message.ts) is not None
    store.close()
    return out, dismissed, confirmed


def compare(folder: Path, confirm: bool) -> dict:
    shipped, _, _ = judged(folder, owner=False, confirm=False)
    taught, dismissed, confirmed = judged(folder, owner=True, confirm=confirm)
    false_before = {r["id"] for r, k in shipped if k and r.get("expect") != "violation"}
    false_after = {r["id"] for r, k in taught if k and r.get("expect") != "violation"}
    caught_before = {r["id"] for r, k in shipped if k and r.get("expect") == "violation"}
    caught_after = {r["id"] for r, k in taught if k and r.get("expect") == "violation"}
    violations = sum(r.get("expect") == "violation" for r, _ in shipped)
    return {"group": folder.name, "messages": len(shipped), "violations": violations,
            "dismissals": dismissed, "confirmations": confirmed,
            "false_warnings": len(false_before), "false_warnings_after": len(false_after),
            "false_warnings_avoided": len(false_before - false_after),
            "violations_caught": len(caught_before), "violations_caught_after": len(caught_after),
            "violations_recovered": len(caught_after - caught_before), "violations_lost": len(caught_before - caught_after)}


def main(argv: list[str]) -> None:
    confirm = "--confirm" in argv
    paths = [Path(a) for a in argv if not a.startswith("--")] or [ROOT.parent / "shared" / "eval"]
    folders = [p for path in paths for p in ([path] if (path / "messages.jsonl").exists()
                                             else sorted(d for d in path.iterdir() if (d / "messages.jsonl").exists()))]
    rows = [compare(f, confirm) for f in folders]
    totals = {k: sum(r[k] for r in rows) for k in rows[0] if k != "group"} if rows else {}
    print(json.dumps({"confirm": confirm, "groups": rows, "total": totals}, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main(sys.argv[1:])
