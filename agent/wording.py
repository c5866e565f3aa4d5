"""Joining sentences where a template meets text it did not write: knowledge, rules, member text.

A rule written as "不要转账。" in a template "{article}，谢谢配合" gave "不要转账。，谢谢配合"; a link
name ending in "。" before the template's own "。" gave "。。". Every prompt is filled through `fill`,
which joins each inserted piece to what follows with `join`, so no boundary shows two marks.
"""
from __future__ import annotations

import string

# marks that end or pause a sentence; closing brackets and quotes are not among them
PAUSE = frozenset("。．.，,；;：:、")
STRONG = frozenset("？?！!…")  # they carry meaning (a question, an exclamation, a trailing-off)
MARKS = PAUSE | STRONG
_FORMATTER = string.Formatter()


def join(left: str, right: str) -> str:
    """`left` + `right` with at most one mark where they meet.

    A question or exclamation mark on the left is kept (the template's plain mark after it goes);
    a plain mark on the left gives way to the mark the template puts there ("。，" → "，",
    "。。" → "。", "。？" → "？"). Two strong marks meeting are kept unless they are the same."""
    if not left or not right:
        return left + right
    a, b = ("…" if left.endswith("...") else left[-1]), right[0]  # "..." trails off like "…"
    if a not in MARKS or b not in MARKS:
        return left + right
    if a in STRONG:
        return left + right[1:] if (b in PAUSE or b == a) else left + right
    return left[:-1] + right


def fill(template: str, values: dict[str, object]) -> str:
    """`template.format(**values)`, each boundary between the template and a value joined by `join`."""
    out = ""
    for literal, field, spec, conversion in _FORMATTER.parse(template):
        out = join(out, literal)
        if field is None:
            continue
        value, _ = _FORMATTER.get_field(field, (), values)
        value = _FORMATTER.convert_field(value, conversion)
        out = join(out, _FORMATTER.format_field(value, spec or ""))
    return out
