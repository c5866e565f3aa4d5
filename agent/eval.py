"""`steward eval FOLDER`: replay a labelled group through the real pipeline and score its Decisions.

The folder contract is shared/eval/README.md: group.yaml, knowledge/*.md, messages.jsonl and
commands.jsonl. Every run builds a fresh, isolated knowledge base (in-memory Chroma) and store from the
folder alone, so figures never depend on what an earlier run or the operator's own data left behind.
"""
from __future__ import annotations

import json
import re
import statistics
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import yaml

from agent import patterns
from agent.events import Decision, DecisionKind, Kind, Member, Message
from agent.mentions import MentionParser
from agent.settings import GroupConfig, Settings

# "机器人名叫“小帮”" / "the bot is called 'Sunny'": how a group's description names its assistant
_BOT_NAME = patterns.compile(r"(?:助手|机器人|bot|assistant)[^“\"「'\n]{0,12}[“\"「']([^”\"」'\n]{1,16})[”\"」']", re.I)


def _norm(text: str) -> str:
    return patterns.sub(r"\s+", "", text).lower()


def group_names_bot(group: GroupConfig) -> bool:
    """Whether the folder told us the bot's name (else it keeps the config default)."""
    return group.bot_name != GroupConfig.model_fields["bot_name"].default


def groups_under(root: Path) -> list[Path]:
    """Group folders (with group.yaml and messages.jsonl) directly under `root`, sorted by name."""
    return sorted(p for p in Path(root).iterdir()
                  if (p / "group.yaml").is_file() and (p / "messages.jsonl").is_file())


def load_group(folder: Path) -> GroupConfig:
    """The eval's group.yaml is a subset of our group config; the bot's name comes from the description."""
    raw = yaml.safe_load((folder / "group.yaml").read_text(encoding="utf-8"))
    known = set(GroupConfig.model_fields)
    data = {k: v for k, v in raw.items() if k in known}
    if "bot_name" not in data:
        found = _BOT_NAME.search(raw.get("description", ""))
        if found:
            data["bot_name"] = found.group(1)
    return GroupConfig.model_validate(data)


def to_message(row: dict, group: GroupConfig, mentions: MentionParser, seq: int) -> Message:
    text = row["text"]
    ids, to_bot = mentions.parse(text)
    kind = Kind.RED_PACKET if text.startswith("[红包]") else Kind.TEXT
    role = group.role_of(row["sender"])
    ts = datetime.fromisoformat(row["ts"]) if row.get("ts") else datetime(2025, 1, 1, 12, 0, seq % 60)
    return Message(id=row["id"], group_id=group.id, sender=Member(row["sender"], group.name_of(row["sender"]), role),
                   text=text, ts=ts, kind=kind, mentions=ids, to_bot=to_bot)


def _ratio(a: int, b: int) -> float:
    return round(a / b, 4) if b else 0.0


@dataclass
class _PR:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    def out(self, n: int) -> dict:
        return {"n": n, "precision": _ratio(self.tp, self.tp + self.fp), "recall": _ratio(self.tp, self.tp + self.fn)}


def holds_facts(text: str, facts: list[str]) -> bool:
    """Every fact is in the text, case and whitespace aside: how the eval contract checks a reply (and
    calibration a passage)."""
    t = _norm(text)
    return all(_norm(f) in t for f in facts)


@contextmanager
def sandbox(folder: Path | str, settings: Settings, llm_mode: str = "none",
            configure: Callable[[GroupConfig], None] | None = None) -> Iterator[tuple[object, GroupConfig]]:
    """A fresh app built from the folder alone: its knowledge copied to a temporary folder, an index
    and a store that live and die with the block. `configure` may adjust the group (e.g. preview)."""
    from agent.app import build  # late: building loads the embedding model

    folder = Path(folder)
    group = load_group(folder)
    if configure is not None:
        configure(group)
    with tempfile.TemporaryDirectory(prefix="steward-eval-") as tmp:
        kdir = Path(tmp) / "knowledge"
        (kdir / group.id).mkdir(parents=True)
        for f in sorted((folder / "knowledge").glob("*")):
            if f.suffix in (".md", ".txt"):
                (kdir / group.id / f.name).write_text(f.read_text(encoding="utf-8"), encoding="utf-8")
        cfg = settings.model_copy(deep=True)
        cfg.data_dir = Path(tmp) / "data"
        cfg.store.path = Path(tmp) / "data" / "steward.db"
        cfg.kb.knowledge_dir = kdir
        cfg.groups = {group.id: group}
        if llm_mode == "none":
            cfg.llm.provider = "none"
        app = build(cfg, ephemeral=True)
        try:
            app.sync_knowledge()
            yield app, group
        finally:
            app.close()


def replay(app, group: GroupConfig, path: Path) -> Iterator[tuple[dict, Message, Decision | None]]:
    """Each recorded row, the Message it becomes, and the pipeline's Decision, in order."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    mentions = MentionParser(group, guess_bot=not group_names_bot(group))
    for seq, row in enumerate(rows):
        message = to_message(row, group, mentions, seq)
        yield row, message, app.pipeline.dispatch(message)


def run(folder: Path | str, settings: Settings, llm_mode: str = "none", details: list | None = None) -> dict:
    """Replay messages.jsonl and commands.jsonl; return the metrics object of the eval contract."""
    folder = Path(folder)
    with sandbox(folder, settings, llm_mode) as (app, group):
        metrics = _replay_messages(app, group, folder / "messages.jsonl", details)
        metrics["llm"] = app.llm_name
        usage = app.usage()
    metrics["commands"], commands_usage = _replay_commands(folder, settings, llm_mode, details)
    metrics["llm_calls"] = usage["calls"] + commands_usage["calls"]
    metrics["llm_tokens"] = usage["tokens"] + commands_usage["tokens"]
    return metrics


def _replay_messages(app, group: GroupConfig, path: Path, details: list | None) -> dict:
    owners = {p.id for p in group.owners}
    ans_ok = ans_src = unk_ok = invented = ign_ok = owner_flagged = must_not = 0
    nudge, viol = _PR(), _PR()
    by_type: dict[str, list[int]] = {}
    counts = {k: 0 for k in ("answer", "unknown", "ignore", "nudge", "violation")}
    latencies = []
    knowledge = app.knowledge_texts(group.id)
    total = 0
    for row, _, d in replay(app, group, path):
        total += 1
        kind = d.kind if d else DecisionKind.IGNORE
        reply = d.reply if d else ""
        latencies.append(d.elapsed_ms if d else 0.0)
        expect = row["expect"]
        counts[expect] = counts.get(expect, 0) + 1
        if expect == "answer" and kind == DecisionKind.ANSWER and holds_facts(reply, row.get("facts", [])):
            ans_ok += 1
            cited = {s.file for s in d.sources}
            if row.get("source") in cited or any(holds_facts(knowledge.get(f, ""), row["facts"]) for f in cited):
                ans_src += 1
        if expect == "unknown":
            unk_ok += kind == DecisionKind.UNKNOWN
            invented += kind == DecisionKind.ANSWER
        ign_ok += expect == "ignore" and kind == DecisionKind.IGNORE
        for label, pr in (("nudge", nudge), ("violation", viol)):
            hit, want = kind == label, expect == label
            pr.tp += hit and want
            pr.fp += hit and not want
            pr.fn += want and not hit
        if expect == "violation":
            got = d.violation.kind if d and d.violation else None
            by_type.setdefault(row["violation"], []).append(int(kind == DecisionKind.VIOLATION and got == row["violation"]))
        owner_flagged += row["sender"] in owners and kind == DecisionKind.VIOLATION
        must_not += any(_norm(s) in _norm(reply) for s in row.get("must_not", []))
        if details is not None:
            details.append({"id": row["id"], "expect": expect, "got": str(kind), "text": row["text"],
                            "reply": reply, "facts_ok": holds_facts(reply, row.get("facts", [])) if expect == "answer" else None,
                            "detail": d.detail if d else {}, "confidence": d.confidence if d else None,
                            "violation": (d.violation.kind if d and d.violation else None)})
    latencies.sort()
    return {
        "group": group.id, "messages": total, "llm": "none",
        "answer": {"n": counts["answer"], "accuracy": _ratio(ans_ok, counts["answer"]),
                   "source_accuracy": _ratio(ans_src, counts["answer"])},
        "unknown": {"n": counts["unknown"], "recall": _ratio(unk_ok, counts["unknown"]), "invented": invented},
        "ignore": {"n": counts["ignore"], "accuracy": _ratio(ign_ok, counts["ignore"])},
        "nudge": nudge.out(counts["nudge"]),
        "violation": {**viol.out(counts["violation"]),
                      "by_type": {k: {"n": len(v), "recall": _ratio(sum(v), len(v))} for k, v in sorted(by_type.items())}},
        "owner_flagged": owner_flagged, "must_not_hits": must_not,
        "latency_ms": {"p50": round(statistics.median(latencies), 2) if latencies else 0.0,
                       "p95": round(latencies[int(0.95 * (len(latencies) - 1))], 2) if latencies else 0.0},
    }


def _replay_commands(folder: Path, settings: Settings, llm_mode: str, details: list | None) -> tuple[dict, dict]:
    """Each command runs through the pipeline in a sandbox of its own: a fresh store and the folder's
    knowledge restored before it, so what one command changes (a knowledge entry, a mute, a pending
    confirmation) cannot affect the next. One index serves them all; restoring re-embeds only what a
    command changed. Returns the command metrics and the model usage they cost."""
    path = folder / "commands.jsonl"
    if not path.exists():
        return {"n": 0, "intent_accuracy": 0.0, "permission_errors": 0}, {"calls": 0, "tokens": 0}
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    ok = perm_err = 0
    with sandbox(folder, settings, llm_mode) as (app, group):
        mentions = MentionParser(group, guess_bot=not group_names_bot(group))
        for seq, row in enumerate(rows):
            app.reset(folder / "knowledge")
            d = app.pipeline.dispatch(to_message({**row, "ts": None}, group, mentions, seq))
            # a member's command in words that also broke a rule is refused as a violation, intent kept
            ran = d is not None and (d.kind == DecisionKind.COMMAND or "intent" in d.detail)
            intent = d.detail.get("intent", "none") if ran else "none"
            permitted = bool(ran and d.detail.get("permitted"))
            ok += intent == row["intent"]
            if row["intent"] != "none":
                perm_err += (not row["allowed"] and permitted) or (row["allowed"] and ran and not permitted)
            if details is not None:
                details.append({"id": row["id"], "expect": row["intent"], "got": intent, "permitted": permitted,
                                "text": row["text"], "reply": d.reply if d else ""})
        usage = app.usage()
    return {"n": len(rows), "intent_accuracy": _ratio(ok, len(rows)), "permission_errors": perm_err}, usage
