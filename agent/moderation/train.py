"""Fit the moderation classifier from the public training sets plus synthetic group text.

    steward train moderation [--datasets ../shared/datasets/train] [--out agent/moderation/model.npz]

Inputs (shared/datasets/train, see its README; nothing from the evaluation sets or groups):
- COLD train+dev: offensive → abuse, safe → none (general web comments, so capped);
- qq-group-ads.txt: real QQ-group chat, ads → ad, chatter → none (the closest thing to group chat);
- the SMS Spam Collection: spam → scam when it baits with a prize, refund or urgency, else ad; ham → none;
- Safety-Prompts goal hijacking and deepset's train split: injection (deepset's benign rows → none);
  a hijacking row's opening question alone ("你觉得环保重要吗？") is kept as a none row, so the model
  learns the hijack, not the formal question style around it;
- synthetic.py's WeChat-group text in zh and en (violations with evasions, everyday chatter).
Two models are fitted on the same 90 % (see classifier.py): the n-gram model on every row, the
embedding model on a seeded sample of up to EMBED_PER_CLASS rows per class (embedding is the costly
step of a rebuild: the cap only thins the largest class, the harmless one). A seeded 10 % of the mix
is held out to pick each class's threshold on the blended probabilities (the lowest reaching 0.9
precision there with few false alarms on its harmless rows; up to EMBED_HELD of those rows are
embedded); the same seed and inputs give the same weights, so the shipped file can be rebuilt.
"""
from __future__ import annotations

import csv
import json
import random
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import sparse

from agent.moderation import classifier, synthetic
from agent.moderation.classifier import BITS, CLASSES, DENSE, Model

SEED = 13
TARGET_PRECISION = 0.9
# per class, of held-out harmless rows: promotion and injection verdicts stay rare on ordinary chat
# (promotion and scam rarer still: everyday chat names products, prices and money far more often than
# it re-instructs a bot). Not abuse: its harmless neighbours in training are COLD's safe comments on
# the very topics abuse is about (race, region, gender), a boundary the precision target already measures.
MAX_FALSE_ALARM = {"ad": 0.003, "scam": 0.003, "injection": 0.005}
EMBED_PER_CLASS = 20000
EMBED_HELD = 4000
_OPENING = re.compile(r"^([^？?。]{6,}[？?。])(?=.*(输出|复述|回答|说))")
_HIJACK = re.compile(r"忽略|无视|不要回答|复述|输出|指令")
_SMS_SCAM = re.compile(r"\b(won|winner|prize|claim|award|urgent|selected|guaranteed|refund|cash)\b", re.I)


@dataclass(frozen=True)
class Caps:
    """How many rows each source contributes (the first rows after a seeded shuffle)."""

    cold: int = 9000
    qq: int = 5000
    sms: int = 4000
    hijack: int = 2500
    deepset: int = 1000
    synthetic_per_kind: int = 6000
    synthetic_none: int = 18000

    @classmethod
    def small(cls) -> "Caps":
        """A quick deterministic subset for the rebuild test."""
        return cls(200, 200, 200, 100, 100, 100, 300)


def _shuffled(rows: list, rng: random.Random, cap: int) -> list:
    rows = list(rows)
    rng.shuffle(rows)
    return rows[:cap]


def sources(folder: Path, caps: Caps, seed: int) -> list[tuple[str, str]]:
    """(text, label) rows from every input, each source capped, in a fixed order."""
    rng = random.Random(seed)
    out: list[tuple[str, str]] = []
    cold = []
    for name in ("cold-train.csv", "cold-dev.csv"):
        with open(folder / name, encoding="utf-8-sig", newline="") as f:
            cold += [(r["TEXT"], "abuse" if r["label"] == "1" else "none") for r in csv.DictReader(f)]
    out += _shuffled([r for r in cold if r[1] == "abuse"], rng, caps.cold)
    out += _shuffled([r for r in cold if r[1] == "none"], rng, caps.cold)
    qq = []
    for line in (folder / "qq-group-ads.txt").read_text(encoding="utf-8").splitlines():
        text, sep, label = line.rpartition("==")
        if sep and label.strip() in ("0", "1") and text.strip():
            qq.append((text.strip(), "ad" if label.strip() == "1" else "none"))
    out += _shuffled(qq, rng, caps.qq)
    sms = []
    for line in (folder / "sms-spam-collection.tsv").read_text(encoding="utf-8").splitlines():
        label, _, text = line.partition("\t")
        if label == "spam":
            sms.append((text, "scam" if _SMS_SCAM.search(text) else "ad"))
        elif label == "ham":
            sms.append((text, "none"))
    out += _shuffled(sms, rng, caps.sms)
    hijack = [(json.loads(line)["text"], "injection")
              for line in (folder / "safety-prompts-goal-hijacking.jsonl").read_text(encoding="utf-8").splitlines() if line]
    out += _shuffled(hijack, rng, caps.hijack)
    questions = [(m.group(1), "none") for text, _ in hijack if (m := _OPENING.match(text)) and not _HIJACK.search(m.group(1))]
    out += _shuffled(questions, rng, caps.hijack)
    deepset = [(r["text"], "injection" if r["label"] == 1 else "none")
               for r in map(json.loads, (folder / "deepset-prompt-injections-train.jsonl").read_text(encoding="utf-8").splitlines())]
    out += _shuffled(deepset, rng, caps.deepset)
    out += synthetic.generate(seed, caps.synthetic_per_kind, caps.synthetic_none)
    return out


def features(texts: list[str]) -> sparse.csr_matrix:
    """Sublinear term frequencies of hashed n-grams (idf applied later) with the dense features appended."""
    width = 1 << BITS
    rows, cols, vals = [], [], []
    for i, text in enumerate(texts):
        norm = classifier.normal(text)
        for h, c in classifier.grams(norm, sounds=True).items():
            rows.append(i), cols.append(h), vals.append(1.0 + np.log(c))
        for j, v in enumerate(classifier.dense(norm)):
            if v:
                rows.append(i), cols.append(width + j), vals.append(v)
    return sparse.csr_matrix((vals, (rows, cols)), shape=(len(texts), width + len(DENSE)))


def _weigh(tf: sparse.csr_matrix, idf: np.ndarray) -> sparse.csr_matrix:
    width = 1 << BITS
    scale = np.concatenate([idf, np.ones(len(DENSE))])
    x = (tf @ sparse.diags(scale)).tocsr()
    grams = x[:, :width]
    norms = np.sqrt(np.asarray(grams.multiply(grams).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    gram_part = sparse.diags(1.0 / norms) @ grams  # n-grams L2-normalised; dense columns stay as they are
    return sparse.hstack([gram_part, x[:, width:]]).tocsr()


def pick_thresholds(probs: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    """Per violation class, the lowest threshold at which that verdict reaches TARGET_PRECISION and
    flags at most its MAX_FALSE_ALARM share of the held-out harmless rows."""
    out = {}
    kinds = np.argmax(probs[:, 1:], axis=1) + 1
    top = probs[np.arange(len(probs)), kinds]
    harmless = labels == 0
    for k, name in enumerate(CLASSES[1:], 1):
        chosen = 0.9
        for t in np.arange(0.3, 0.95, 0.025):
            said = (kinds == k) & (top >= t)
            if (said.sum() and (labels[said] == k).mean() >= TARGET_PRECISION
                    and (said & harmless).sum() <= MAX_FALSE_ALARM.get(name, 1.0) * harmless.sum()):
                chosen = float(round(t, 3))
                break
        out[name] = chosen
    return out


def _sample(indices: list[int], y: np.ndarray, per_class: int, seed: int) -> list[int]:
    """Up to per_class of `indices` from each class, seeded, in their original order."""
    shuffled = list(indices)
    random.Random(seed).shuffle(shuffled)
    taken: dict[int, int] = {}
    keep = set()
    for i in shuffled:
        if taken.get(y[i], 0) < per_class:
            taken[y[i]] = taken.get(y[i], 0) + 1
            keep.add(i)
    return [i for i in indices if i in keep]


def fit(rows: list[tuple[str, str]], seed: int, alpha: float = 2e-6, embed_per_class: int = EMBED_PER_CLASS,
        embed_held: int = EMBED_HELD) -> tuple[Model, dict]:
    """Fit on 90 % of rows, pick thresholds and report on the seeded other 10 %."""
    from sklearn.linear_model import LogisticRegression, SGDClassifier

    order = list(range(len(rows)))
    random.Random(seed).shuffle(order)
    cut = len(order) // 10
    held, train = order[:cut], order[cut:]
    y = np.array([CLASSES.index(label) for _, label in rows])
    tf = features([text for text, _ in rows])
    width = 1 << BITS
    df = np.bincount(tf[train][:, :width].indices, minlength=width)
    idf = np.log((1 + len(train)) / (1 + df)) + 1.0
    x = _weigh(tf, idf)
    lr = SGDClassifier(loss="log_loss", alpha=alpha, max_iter=20, tol=None, class_weight="balanced", random_state=seed)
    lr.fit(x[train], y[train])
    norms = [classifier.normal(text) for text, _ in rows]
    sample = _sample(train, y, embed_per_class, seed)
    by_vector = LogisticRegression(C=1.0, max_iter=1000, class_weight="balanced")
    by_vector.fit(classifier.embeddings([norms[i] for i in sample]), y[sample])
    held = held[:embed_held]
    model = Model(idf, lr.coef_.T.copy(), lr.intercept_, {}, {"sounds": True, "blend": classifier.BLEND},
                  by_vector.coef_.T.copy(), by_vector.intercept_.copy())
    probs = (classifier.BLEND * lr.predict_proba(x[held])
             + (1 - classifier.BLEND) * model.embed_probs(classifier.embeddings([norms[i] for i in held])))
    thresholds = pick_thresholds(probs, y[held])
    report = _report(probs, y[held], thresholds)
    meta = {**model.meta, "seed": seed, "rows": len(rows), "embedded_rows": len(sample), "held_out": report,
            "by_label": {k: sum(1 for _, label in rows if label == k) for k in CLASSES}}
    return Model(idf, model.weights, model.intercept, thresholds, meta, model.embed_weights, model.embed_intercept), report


def _report(probs: np.ndarray, labels: np.ndarray, thresholds: dict[str, float]) -> dict:
    """Precision and recall per violation class on held-out rows, at the chosen thresholds."""
    kinds = np.argmax(probs[:, 1:], axis=1) + 1
    top = probs[np.arange(len(probs)), kinds]
    out = {}
    for k, name in enumerate(CLASSES[1:], 1):
        said = (kinds == k) & (top >= thresholds[name])
        truth = labels == k
        out[name] = {"n": int(truth.sum()), "precision": round(float((labels[said] == k).mean()) if said.any() else 0.0, 4),
                     "recall": round(float((said & truth).sum() / max(truth.sum(), 1)), 4)}
    return out


def build(datasets: Path, out: Path, caps: Caps = Caps(), seed: int = SEED) -> dict:
    """Rebuild the model file from the inputs; returns the held-out report."""
    model, report = fit(sources(datasets, caps, seed), seed)
    model.save(out)
    return {"out": str(out), "thresholds": model.thresholds, "held_out": report, "by_label": model.meta["by_label"]}
