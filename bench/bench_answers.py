"""Answer or "don't know" on questions written for a group's own knowledge, outside the dev set.

A check that the answerability calibration carries over to knowledge it was not set on. Each line of
the questions file: {"q": …, "expect": "answer"|"unknown", "facts": [...]}. Asked as members (not
addressed), one at a time with an hour between them, through the real pipeline. Prints figures.

    .venv/bin/python bench/bench_answers.py [--group demo] [--questions bench/data/demo_questions.jsonl]
"""
from __future__ import annotations

import argparse
import json
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

from agent.app import build
from agent.channels.memory import MemoryChannel
from agent.events import DecisionKind
from agent.settings import load_settings

ROOT = Path(__file__).resolve().parents[1]


def norm(text: str) -> str:
    return re.sub(r"\s+", "", text).lower()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--group", default="demo")
    ap.add_argument("--questions", default=str(ROOT / "bench" / "data" / "demo_questions.jsonl"))
    ap.add_argument("--show", action="store_true", help="print every question's outcome")
    args = ap.parse_args()
    settings = load_settings(ROOT / "config")
    app = build(settings, ephemeral=True)
    app.sync_knowledge()
    group = settings.groups[args.group]
    channel = MemoryChannel(app.pipeline, group, clock=datetime(2027, 3, 8, 10, 0, tzinfo=timezone(timedelta(hours=8))),
                            step=timedelta(hours=1))
    rows = [json.loads(x) for x in Path(args.questions).read_text(encoding="utf-8").splitlines() if x.strip()]
    asker = group.members[0].id
    right = answered = unknown_ok = invented = n_answer = n_unknown = 0
    for row in rows:
        d = channel.send(asker, row["q"])
        kind = d.kind if d else DecisionKind.IGNORE
        ok = kind == DecisionKind.ANSWER and all(norm(f) in norm(d.reply) for f in row.get("facts", []))
        if row["expect"] == "answer":
            n_answer += 1
            answered += kind == DecisionKind.ANSWER
            right += ok
        else:
            n_unknown += 1
            unknown_ok += kind == DecisionKind.UNKNOWN
            invented += kind == DecisionKind.ANSWER
        if args.show:
            print(f"{row['expect']:7} → {kind:7} {'✓' if ok or (row['expect'] == kind) else '✗'} "
                  f"{d.confidence or 0:.2f} {row['q']}")
    app.close()
    print(f"answerable: {n_answer}, answered {answered}, right (all facts) {right} → accuracy {right / max(n_answer, 1):.2f}")
    print(f"unanswerable: {n_unknown}, said unknown {unknown_ok} → recall {unknown_ok / max(n_unknown, 1):.2f}; "
          f"invented answers {invented}")


if __name__ == "__main__":
    main()
