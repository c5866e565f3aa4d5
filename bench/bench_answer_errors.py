"""Why answers go wrong, by kind: each answerable question's held-out decision, beside where the
passage holding every fact ranks in retrieval.

    steward eval --all ../shared/eval --holdout-each --json --details /tmp/d.jsonl > /dev/null
    .venv/bin/python bench/bench_answer_errors.py ../shared/eval /tmp/d.jsonl

Kinds (JSON counts per group): ok; not_in_knowledge (a fact is written nowhere in the files as the
label writes it); no_single_passage (the facts are split over passages); missed_rN (not answered,
though the passage ranked N holds them; N = 3 means beyond what the route judges); answered_wrong
(the quoted passage lacks a fact); quote_lost_facts (the passage held them, the quote cut them);
and decided_<kind> when another route took the message (ignore, nudge, violation).
"""
from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

from agent.eval import holds_facts, sandbox
from agent.eval import groups_under
from agent.routes.answer import CONSIDERED as JUDGED  # passages the answer route judges
from agent.settings import load_settings

ROOT = Path(__file__).resolve().parents[1]


def kind(decided: dict, facts: list[str], hits: list, knowledge: str) -> str:
    if decided["got"] == "answer" and decided["facts_ok"]:
        return "ok"
    if not holds_facts(knowledge, facts):
        return "not_in_knowledge"
    rank = next((i for i, h in enumerate(hits) if holds_facts(f"{h.heading}\n{h.text}", facts)), None)
    if rank is None:
        return "no_single_passage"
    if decided["got"] == "answer":
        top = decided["detail"]["candidates"][0]
        held = (hits[rank].file, hits[rank].heading) == (top[0], top[1])
        return "quote_lost_facts" if held else "answered_wrong"
    if decided["got"] == "unknown":
        return f"missed_r{min(rank, JUDGED)}"
    return f"decided_{decided['got']}"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("root", type=Path, help="a folder of labelled groups")
    ap.add_argument("details", type=Path, help="the JSONL `steward eval --details` wrote")
    args = ap.parse_args()
    decided = {(r["group"], r["id"]): r for r in map(json.loads, args.details.read_text(encoding="utf-8").splitlines())}
    settings = load_settings(ROOT / "config")
    out = {}
    for folder in groups_under(args.root):
        rows = [json.loads(x) for x in (folder / "messages.jsonl").read_text(encoding="utf-8").splitlines() if x.strip()]
        knowledge = "\n".join(p.read_text(encoding="utf-8") for p in sorted((folder / "knowledge").glob("*.md")))
        with sandbox(folder, settings) as (app, group):
            counts = Counter(kind(decided[(group.id, r["id"])], r["facts"],
                                 app.kb.search(r["text"], [group.id, "shared"], k=30), knowledge)
                             for r in rows if r["expect"] == "answer")
        out[group.id] = dict(sorted(counts.items()))
        print(f"{group.id}: {out[group.id]}", file=sys.stderr)
    print(json.dumps(out, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
