"""Moderation on public labelled sets, through `steward moderate`'s code path; prints one JSON object.

    .venv/bin/python bench/bench_moderation_public.py [--datasets ../shared/datasets/eval] [--group ID]

Every text is judged as a fresh plain member's message in the configured group (default: the first),
with no LLM. Evaluation only: none of these sets is used to fit or tune anything.
- ChineseHarm-Bench: the 4,000 rows labelled 黑产广告, 欺诈, 谩骂引战, 不违规 (ad and link → 黑产广告,
  scam → 欺诈, abuse → 谩骂引战, anything else or nothing → 不违规): per-class F1, the share of
  harmful rows flagged as any violation and of 不违规 rows flagged.
- COLD test split: offensive = flagged abuse; F1. tg-spam eval split: spam recall (any violation) and
  the share of hams flagged. deepset prompt-injection test split: recall (any violation) and the share
  of benign prompts flagged.
Also the classifier's mean cost per message: both of its models, the sentence embedding included (on
top of the normalising every check shares).
"""
from __future__ import annotations

import csv
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from agent.moderation import classifier  # noqa: E402
from agent.moderate import verdicts  # noqa: E402
from agent.settings import load_settings  # noqa: E402

HARM = {"ad": "黑产广告", "link": "黑产广告", "scam": "欺诈", "abuse": "谩骂引战"}
CLASSES = ("黑产广告", "欺诈", "谩骂引战", "不违规")


def _kinds(texts: list[str], group) -> list[str | None]:
    return [v["kind"] for v in verdicts(texts, group)]


def _f1(pred: list, gold: list, label) -> float:
    tp = sum(p == label and g == label for p, g in zip(pred, gold))
    fp = sum(p == label and g != label for p, g in zip(pred, gold))
    fn = sum(p != label and g == label for p, g in zip(pred, gold))
    return round(2 * tp / (2 * tp + fp + fn), 4) if tp else 0.0


def chineseharm(folder: Path, group) -> dict:
    rows = [r for r in json.loads((folder / "chineseharm-bench" / "bench.json").read_text(encoding="utf-8"))
            if r["标签"] in CLASSES]
    gold = [r["标签"] for r in rows]
    kinds = _kinds([r["文本"] for r in rows], group)
    pred = [HARM.get(k, "不违规") for k in kinds]
    harmful = [k for k, g in zip(kinds, gold) if g != "不违规"]
    clean = [k for k, g in zip(kinds, gold) if g == "不违规"]
    return {"rows": len(rows), "f1": {c: _f1(pred, gold, c) for c in CLASSES},
            "harmful_flagged": round(sum(k is not None for k in harmful) / len(harmful), 4),
            "clean_flagged": round(sum(k is not None for k in clean) / len(clean), 4)}


def cold(folder: Path, group) -> dict:
    with open(folder / "cold-test.csv", encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    gold = ["abuse" if r["label"] == "1" else None for r in rows]
    pred = ["abuse" if k == "abuse" else None for k in _kinds([r["TEXT"] for r in rows], group)]
    return {"rows": len(rows), "abuse_f1": _f1(pred, gold, "abuse"),
            "flagged_any_of_safe": round(sum(p is not None for p, g in zip(pred, gold) if g is None) / gold.count(None), 4)}


def _recall_and_false_alarms(texts: list[str], positive: list[bool], group) -> dict:
    kinds = _kinds(texts, group)
    pos = [k for k, p in zip(kinds, positive) if p]
    neg = [k for k, p in zip(kinds, positive) if not p]
    return {"rows": len(texts), "recall": round(sum(k is not None for k in pos) / len(pos), 4),
            "negatives_flagged": round(sum(k is not None for k in neg) / len(neg), 4),
            "positive_kinds": {k or "none": pos.count(k) for k in sorted(set(pos), key=str)}}


def tg_spam(folder: Path, group) -> dict:
    with open(folder / "tg-spam-eval.csv", encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    return _recall_and_false_alarms([r["input"] for r in rows], [r["target"] == "1" for r in rows], group)


def deepset(folder: Path, group) -> dict:
    rows = [json.loads(line) for line in (folder / "deepset-prompt-injections-test.jsonl").read_text(encoding="utf-8").splitlines() if line]
    return _recall_and_false_alarms([r["text"] for r in rows], [r["label"] == 1 for r in rows], group)


def classifier_cost(texts: list[str]) -> float:
    """Mean milliseconds the classifier adds per message: scoring the normalised text the detectors
    already hold (normalising is shared with every other check, so it is not counted here); no
    embedding is reused from the runs before."""
    from agent.kb import embeddings

    model = classifier.shipped()
    normalised = [classifier.normal(t) for t in texts]
    embeddings._one.cache_clear()
    start = time.perf_counter()
    for t in normalised:
        model.scores_normal(t)
    return round((time.perf_counter() - start) * 1000 / len(texts), 4)


def main(argv: list[str]) -> dict:
    folder = Path(argv[argv.index("--datasets") + 1]) if "--datasets" in argv else ROOT.parent / "shared/datasets/eval"
    settings = load_settings(ROOT / "config")
    group = settings.groups[argv[argv.index("--group") + 1]] if "--group" in argv else next(iter(settings.groups.values()))
    sample = [r["文本"] for r in json.loads((folder / "chineseharm-bench" / "bench.json").read_text(encoding="utf-8"))[:1000]]
    return {"group": group.id, "chineseharm": chineseharm(folder, group), "cold_test": cold(folder, group),
            "tg_spam_eval": tg_spam(folder, group), "deepset_test": deepset(folder, group),
            "classifier_ms_per_message": classifier_cost(sample)}


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1:]), ensure_ascii=False, indent=1))
