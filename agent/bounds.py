"""Reading a long text on its head and tail: every judge that costs time per character (the pipeline's
judges, the embedding, the classifier, the reply guard) reads at most a bounded part of a message, and
a message's point is in its first and last lines."""
from __future__ import annotations


def head_and_tail(text: str, limit: int, joint: str = "\n…\n") -> str:
    """At most about `limit` characters: the text's start and end joined by `joint`, or the whole text
    if it is short."""
    if len(text) <= limit:
        return text
    half = (limit - len(joint)) // 2
    return f"{text[:half]}{joint}{text[-half:]}"
