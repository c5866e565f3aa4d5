"""Fit the command bank's threshold and margin on labelled groups, and score each group held out.

    .venv/bin/python bench/fit_commands.py ../shared/eval [--write]

Every message a group's owners or members address to the bot is a labelled example: commands.jsonl
gives its intent; messages.jsonl rows addressed to the bot are `none` (questions, chatter). For each
group, (threshold, margin) are picked on the other groups and that group is scored with them: intent
accuracy over its commands.jsonl (slash forms and unaddressed text included, as the route reads them)
and how many of its addressed chat messages would wrongly become commands. With --write, the pair
picked on all groups goes to agent/commands/bank_fit.json. Prints JSON. Deterministic: the grid is
fixed and ties go to the middle of the best region.
"""
from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from agent.commands import bank, parse
from agent.eval import group_names_bot, load_group, to_message
from agent.mentions import MentionParser

THRESHOLDS = np.round(np.arange(0.30, 0.80, 0.01), 2)
MARGINS = np.round(np.arange(-0.15, 0.20, 0.01), 2)


@dataclass
class Example:
    group: str
    label: str  # the intent, or "none"
    fixed: str | None  # what the route decides without the bank (slash, unaddressed), if it does
    reading: bank.Reading | None  # the bank's reading of an addressed natural text
    from_commands: bool


def examples(folder: Path) -> list[Example]:
    group = load_group(folder)
    mentions = MentionParser(group, guess_bot=not group_names_bot(group))
    out = []
    for name, from_commands in (("commands.jsonl", True), ("messages.jsonl", False)):
        rows = [json.loads(x) for x in (folder / name).read_text(encoding="utf-8").splitlines() if x.strip()]
        for seq, row in enumerate(rows):
            message = to_message({**row, "ts": None}, group, mentions, seq)
            label = row["intent"] if from_commands else "none"
            body = parse._MENTION.sub(" ", message.text.strip()).strip()
            polite = message.sender.is_staff and not message.mentions and parse._POLITE.match(body)
            if body.startswith(("/", "／")):
                found = parse.parse(message, group)
                out.append(Example(group.id, label, found.spec.name, None, from_commands))
            elif not (message.to_bot or polite):
                out.append(Example(group.id, label, "none", None, from_commands))
            else:
                reading, _ = parse.reading(message, group)
                out.append(Example(group.id, label, None, reading, from_commands))
    return out


def decide(e: Example, threshold: float, margin: float) -> str:
    if e.fixed is not None:
        return e.fixed
    if e.reading.intent != bank.NONE and e.reading.is_command(threshold, margin):
        return e.reading.intent
    return "none"


def score(rows: list[Example], threshold: float, margin: float) -> dict:
    cmds = [e for e in rows if e.from_commands]
    chat = [e for e in rows if not e.from_commands and e.fixed is None]
    right = sum(decide(e, threshold, margin) == e.label for e in cmds)
    false = sum(decide(e, threshold, margin) != "none" for e in chat)
    return {"intent_accuracy": round(right / max(1, len(cmds)), 4), "chat_read_as_command": false,
            "addressed_chat": len(chat)}


def pick(rows: list[Example]) -> tuple[float, float]:
    """Most labelled examples right (commands and addressed chat alike); among equals, the middle of
    the best region, so a pair at the edge of a plateau is not chosen by the order of the grid."""
    scored = [(sum(decide(e, t, m) == e.label for e in rows), float(t), float(m)) for t in THRESHOLDS for m in MARGINS]
    top = max(s for s, _, _ in scored)
    best = sorted((t, m) for s, t, m in scored if s == top)
    threshold = best[len(best) // 2][0]
    margins = [m for t, m in best if t == threshold]
    return threshold, margins[len(margins) // 2]


def main(root: Path, write: bool) -> None:
    folders = sorted(p for p in root.iterdir() if (p / "group.yaml").exists())
    data = {f.name: examples(f) for f in folders}
    report = {}
    for name, rows in data.items():
        others = [e for g, r in data.items() if g != name for e in r]
        t, m = pick(others)
        report[name] = {"threshold": t, "margin": m, **score(rows, t, m)}
    accs = [r["intent_accuracy"] for r in report.values()]
    t, m = pick([e for r in data.values() for e in r])
    summary = {"held_out": report, "mean": round(float(np.mean(accs)), 4), "worst": min(accs),
               "fitted_on_all": {"threshold": t, "margin": m}}
    if write:
        bank.FIT.write_text(json.dumps({"threshold": t, "margin": m}) + "\n", encoding="utf-8")
    print(json.dumps(summary, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main(Path(sys.argv[1]), "--write" in sys.argv[2:])
