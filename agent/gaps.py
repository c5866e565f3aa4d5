"""The question-gap inbox: what members asked that the knowledge could not answer.

Near-duplicates ("沙龙有停车位吗" / "沙龙那边能停车吗") are merged so owners answer a question once;
an answer becomes a knowledge entry and the members who asked are told in the group (agent.gap_commands).
Each open gap has a number of its group, given in asking order and kept in the store, so the number
an owner read in /gaps or a note names the same question until it is answered (then it is free).
The store keeps what the member wrote; everything read from here carries only its asking clause,
quoted (agent.quoting), since it is listed to owners, posted back to the askers and written into the
knowledge as an FAQ question.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

from agent.kb.embeddings import embed
from agent.quoting import MASK, asking_clause
from agent.state import gaps as state
from agent.store import Store

SAME_QUESTION = 0.8  # cosine similarity above which two gap questions are one
_numbering = threading.Lock()  # numbers are read and given under it (several dispatch threads)


@dataclass(frozen=True)
class Gap:
    id: int  # the gap's number in its group: what owners type in /answer
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
    clusters.sort(key=lambda c: rows[c[0]]["id"])
    numbers = _numbers(store, group_id, [tuple(rows[i]["id"] for i in c) for c in clusters])
    gaps = []
    for cluster, number in zip(clusters, numbers):
        members = [rows[i] for i in cluster]
        askers = tuple(dict.fromkeys(r["asker_id"] for r in members))
        gaps.append(Gap(number, questions[cluster[0]], askers, tuple(r["id"] for r in members),
                        any(r["addressed"] for r in members)))
    return sorted(gaps, key=lambda g: (-len(g.gap_ids), g.id))


def _numbers(store: Store, group_id: str, clusters: list[tuple[int, ...]]) -> list[int]:
    """The number of each cluster of gap rows (given in asking order): the one a row of it had,
    else the next after the highest in use; numbers of gaps no longer open are dropped."""
    key = f"gaps:numbers:{group_id}"
    with _numbering:
        known = {int(row): n for row, n in (store.get(key) or {}).items()}
        out: list[int | None] = []
        for rows in clusters:
            had = sorted({known[r] for r in rows if r in known} - {n for n in out if n is not None})
            out.append(had[0] if had else None)
        top = max((n for n in out if n is not None), default=0)
        for i, n in enumerate(out):
            if n is None:
                top += 1
                out[i] = top
        given = {str(r): n for rows, n in zip(clusters, out) for r in rows}
        if given != {str(r): n for r, n in known.items()}:
            store.put(key, given)
    return out


def find(store: Store, group_id: str, number: int) -> Gap | None:
    """The open gap an owner names by its number."""
    return next((g for g in open_gaps(store, group_id) if g.id == number), None)


def close(store: Store, gap: Gap, answer: str) -> None:
    state.answer(store, gap.gap_ids, answer)

