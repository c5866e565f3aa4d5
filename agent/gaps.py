"""The question-gap inbox: what members asked that the knowledge could not answer.

Near-duplicates ("沙龙有停车位吗" / "沙龙那边能停车吗") are merged so owners answer a question once;
an answer becomes a knowledge entry and the members who asked are told in the group.
The store keeps what the member wrote; everything read from here carries only its asking clause,
quoted (agent.quoting), since it is listed to owners, posted back to the askers and written into the
knowledge as an FAQ question.
"""
from __future__ import annotations

from dataclasses import dataclass
import numpy as np

from agent.kb.embeddings import embed
from agent.quoting import MASK, asking_clause
from agent.state import gaps as state
from agent.store import Store

SAME_QUESTION = 0.8  # cosine similarity above which two gap questions are one


@dataclass(frozen=True)
class Gap:
    id: int  # the first gap's id: what owners type in /answer
    question: str  # the first asker's question, its asking clause quoted: safe to post and to write
    askers: tuple[str, ...]  # contact ids, in asking order, no repeats
    gap_ids: tuple[int, ...]
    addressed: bool  # someone asked the bot directly


def open_gaps(store: Store, group_id: str) -> list[Gap]:
    """Open gaps of a group, near-duplicates merged, most asked first."""
    rows = store.open_gaps(group_id)
    if not rows:
        return []
    questions = [asking_clause(r["question"]) or MASK for r in rows]  # MASK: nothing left to show
    vecs = embed(questions)
    clusters: list[list[int]] = []
    for i in range(len(rows)):
        for cluster in clusters:
            if float(np.max(vecs[cluster] @ vecs[i])) >= SAME_QUESTION:
                cluster.append(i)
                break
        else:
            clusters.append([i])
    gaps = []
    for cluster in clusters:
        members = [rows[i] for i in cluster]
        askers = tuple(dict.fromkeys(r["asker_id"] for r in members))
        gaps.append(Gap(members[0]["id"], questions[cluster[0]], askers, tuple(r["id"] for r in members),
                        any(r["addressed"] for r in members)))
    return sorted(gaps, key=lambda g: (-len(g.gap_ids), g.id))


def find(store: Store, group_id: str, gap_id: int) -> Gap | None:
    return next((g for g in open_gaps(store, group_id) if gap_id in g.gap_ids), None)


def close(store: Store, gap: Gap, answer: str) -> None:
    state.answer(store, gap.gap_ids, answer)
