"""Markdown table rows read as cells: the one reading shared by ingest (what a row embeds as, FAQ
tables) and the reply (a row quoted with its column names), so a row is cut the same way wherever
it is read."""
from __future__ import annotations

from agent import patterns

_RULE = patterns.compile(r":?-+:?")


def cells(line: str) -> tuple[str, ...]:
    """A table line's cells, stripped; () for the separator row under the header ('|---|:--:|')."""
    found = tuple(c.strip() for c in line.strip().strip("|").split("|"))
    return () if all(not c or _RULE.fullmatch(c) for c in found) else found
