"""What a group's owners taught its moderation: a bank of labelled examples that moves the classifier.

An owner dismissing a case or a warning ("这不是广告") files the message as a negative of its kind for
that group; an owner confirming a case (kick or warn) files it as a positive. A later message close to
an example of the same kind has the classifier's confidence moved towards the owners' label, within
bounds that keep one owner's clicks from switching a kind off:
  - only the classifier's finding moves; the exact checks (links and where they lead, QR codes, cards,
    handles, flood, the textbook injection phrases) stay as they are;
  - only near neighbours count: the similarity of the normalised texts (the mean of the sentence
    embedding's cosine and the character ratio) must reach `similarity`, with the full move from
    `full_similarity`; a message unlike every example keeps the classifier's verdict;
  - the move is the nearest example's of each label, never a sum, and at most `max_shift`: more clicks
    cover more neighbourhoods but do not add up. At the default (0.4) the surest classifier finding
    (0.99) drops just under the strong line: a dismissed look-alike becomes a hint for the model judge
    (no warning in no-LLM mode), it is never erased;
  - a confirmed example also raises a look-alike the classifier scored below a hint (a spam wave
    reworded); one the classifier withheld on purpose (a warning about a scam) stays withheld;
  - the bank is per group, holds at most `max_examples` (the oldest go first) for `expire_days`.
The bank keeps the example's normalised text (for the similarity and for `steward rules test`) and its
embedding, in a table of the state (agent.state.feedback).
"""
from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import numpy as np

from agent.moderation import classifier
from agent.moderation.detectors import HINT, SEVERITY, STRONG, Finding, learned
from agent.moderation.text import Text
from agent.settings import FeedbackPolicy, GroupConfig
from agent.state import feedback as state
from agent.store import Store

KINDS = classifier.CLASSES[1:]  # the kinds the classifier judges: the only ones feedback moves
DISMISSED, CONFIRMED = -1, 1

@dataclass(frozen=True)
class Example:
    id: int
    kind: str
    label: int  # DISMISSED or CONFIRMED
    text: str  # normalised
    decided_by: str  # the owner's contact id
    source: str  # "case 12", "reply"
    ts: datetime


@dataclass(frozen=True)
class Move:
    """How the bank moved one finding: the nearest example that moved it most, and by how much."""

    example: Example
    similarity: float
    shift: float  # added to the classifier's confidence (negative: towards no violation)
    before: float

    @property
    def note(self) -> str:
        """Appended to the finding's reason, so the case file and the dry run show it."""
        return f"owners' example #{self.example.id} {self.shift:+.2f}"


def spoken(t: Text) -> str:
    """The text an example and a message are compared on: the normalised view, spaces collapsed."""
    return " ".join(t.folded.split())


# ---- the bank --------------------------------------------------------------------------------------

_banks: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # store -> {group: (stamp, Bank)}
_lock = threading.Lock()


def _embed(texts: list[str]) -> np.ndarray:
    from agent.kb.embeddings import embed  # deferred: only groups with examples ever embed here

    return embed(texts)


def add(store: Store, group: GroupConfig, kind: str, label: int, evidence: str, decided_by: str, source: str,
        now: datetime) -> int | None:
    """File an owner's decision on a message as an example; the same text filed again takes the latest
    label. Kinds the classifier does not judge (link, flood) and empty evidence teach nothing: None."""
    text = spoken(Text(raw=evidence or ""))
    if kind not in KINDS or not text:
        return None
    vector = np.asarray(_embed([text])[0], dtype=np.float32).tobytes()
    policy = group.moderation.feedback
    return state.file(store, group.id, kind, label, text, vector, decided_by, source, now,
                      expire_before=now - timedelta(days=policy.expire_days), keep=policy.max_examples)


@dataclass(frozen=True)
class Bank:
    """One group's live examples, with their vectors stacked for one matrix product per message."""

    examples: tuple[Example, ...]
    vectors: np.ndarray  # (N, dim) float32, L2-normalised

    @property
    def kinds(self) -> set[str]:
        return {e.kind for e in self.examples}

    @property
    def confirmed(self) -> set[str]:
        """Kinds with a confirmed example: only these can add a finding the classifier left out."""
        return {e.kind for e in self.examples if e.label == CONFIRMED}

    def near(self, text: str, policy: FeedbackPolicy) -> dict[int, float]:
        """Examples the character ratio alone does not rule out (the cosine is at most 1), by index,
        with their ratio: most messages stop here, before any classifier rerun or embedding."""
        from rapidfuzz import fuzz, process

        if not self.examples:
            return {}
        ratios = process.cdist([text], [e.text for e in self.examples], scorer=fuzz.ratio, workers=1)[0] / 100
        return {i: float(r) for i, r in enumerate(ratios) if (1 + r) / 2 >= policy.similarity}

    def move(self, text: str, kind: str, before: float, policy: FeedbackPolicy, near: dict[int, float]) -> Move | None:
        """The nearest example of each label among this kind's `near` ones, each moving the score by at
        most max_shift as its similarity climbs from `similarity` to `full_similarity`; None if none is."""
        rows = [i for i in near if self.examples[i].kind == kind]
        if not rows:
            return None
        cosine = self.vectors[rows] @ _embed([text])[0]
        span = max(policy.full_similarity - policy.similarity, 1e-6)
        best: dict[int, tuple[float, float, Example]] = {}  # label -> (shift, similarity, example)
        for i, c in zip(rows, cosine):
            example, sim = self.examples[i], (float(c) + near[i]) / 2
            shift = policy.max_shift * min(max((sim - policy.similarity) / span, 0.0), 1.0)
            if shift > 0 and shift > best.get(example.label, (0.0,))[0]:
                best[example.label] = (shift, sim, example)
        up, down = best.get(CONFIRMED, (0.0, 0.0, None)), best.get(DISMISSED, (0.0, 0.0, None))
        net = up[0] - down[0]  # examples of both labels nearby: each pulls its way
        if not net:
            return None
        _, sim, example = up if net > 0 else down  # the one that decided the direction
        return Move(example, round(sim, 3), round(net, 3), before)


def examples(store: Store, group_id: str, since: datetime | None = None) -> list:
    """The group's example rows, oldest first (from `since` on: expired ones left out)."""
    return state.examples(store, group_id, since)


def copy(source: Store, target: Store, group_id: str) -> int:
    """Copy a group's examples (vectors included) into another store: a dry run judges with the live
    bank without writing to it. Returns how many."""
    return state.copy(source, target, group_id)


def bank(store: Store, group: GroupConfig, now: datetime) -> Bank:
    """The group's examples younger than `expire_days`; read again only when they changed."""
    cutoff = now - timedelta(days=group.moderation.feedback.expire_days)
    stamp = state.stamp(store, group.id, cutoff)
    with _lock:
        cached = _banks.setdefault(store, {}).get(group.id)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    rows = examples(store, group.id, cutoff)
    live = tuple(Example(r["id"], r["kind"], r["label"], r["text"], r["decided_by"], r["source"], r["ts"]) for r in rows)
    vectors = (np.stack([np.frombuffer(r["vector"], dtype=np.float32) for r in rows]) if rows
               else np.zeros((0, 1), dtype=np.float32))
    built = Bank(live, vectors)
    with _lock:
        _banks[store][group.id] = (stamp, built)
    return built


# ---- the hook --------------------------------------------------------------------------------------


def apply(found: list[Finding], t: Text, group: GroupConfig, store: Store, now: datetime) -> list[Finding]:
    """`found` (detect's findings, most decisive first) with the classifier's finding moved by the
    group's examples, or one added where only a confirmed look-alike speaks; strong findings stay in
    front, detect's order kept otherwise."""
    examples, policy, text = bank(store, group, now), group.moderation.feedback, spoken(t)
    if not examples.examples or not (found or examples.confirmed):
        return found
    near = examples.near(text, policy)
    if not near:
        return found  # no example is close: the classifier's verdict stands
    said = learned(t, group)
    if said is None:
        unseen = _unseen(t, examples, policy, near)
        return found if unseen is None else sorted([*found, unseen[0]], key=lambda f: not f.strong)
    if said not in found or said.kind not in examples.kinds:
        return found  # the classifier's finding was merged into an exact one (a promotion by link)
    moved = examples.move(text, said.kind, said.confidence, policy, near)
    if moved is None:
        return found
    changed = replace(said, confidence=_moved(said.confidence, moved), reason=f"{said.reason}, {moved.note}")
    return sorted((changed if f == said else f for f in found), key=lambda f: not f.strong)  # stable sort


def _unseen(t: Text, examples: Bank, policy: FeedbackPolicy, near: dict[int, float]) -> tuple[Finding, Move] | None:
    """A finding for a message the classifier scored below a hint, when it is close to a message the
    owners confirmed: its own score for that kind, moved up. A finding the classifier withheld on
    purpose (a warning about a scam, an allowed job post: scored high, yet no finding) stays withheld."""
    model = classifier.shipped()
    scores = model.scores_normal(f"@ {spoken(t)}" if t.to_bot else spoken(t))
    best = None
    for kind in examples.confirmed & {examples.examples[i].kind for i in near}:
        ratio = scores[kind] / model.thresholds[kind]
        if ratio >= HINT:
            continue
        moved = examples.move(spoken(t), kind, STRONG * ratio, policy, near)
        if moved is not None and moved.shift > 0 and (best is None or _moved(moved.before, moved) > best[0].confidence):
            best = Finding(kind, f"like a message the owners confirmed, {moved.note}", SEVERITY[kind],
                           _moved(moved.before, moved)), moved
    return best


def _moved(confidence: float, move: Move) -> float:
    return round(min(max(confidence + move.shift, 0.0), 0.99), 3)


def explain(store: Store, group: GroupConfig, text: str, now: datetime) -> Move | None:
    """Which example moves the classifier's verdict on `text`, and by how much (for the dry run)."""
    t, examples, policy = Text(raw=text), bank(store, group, now), group.moderation.feedback
    near = examples.near(spoken(t), policy)
    if not near:
        return None
    said = learned(t, group)
    if said is None:
        unseen = _unseen(t, examples, policy, near)
        return unseen[1] if unseen else None
    return examples.move(spoken(t), said.kind, said.confidence, policy, near)
