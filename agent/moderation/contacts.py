"""Contact handles in a message: mobile numbers, QQ numbers, WeChat and Telegram ids.

Read from the normalised view (agent.textnorm), so a handle written in full-width letters, Chinese
numerals, lookalike letters or split by emoji comes back as the plain handle. A mobile number counts
wherever it stands; a QQ number or an id only right after a word that announces one (微信, vx, QQ,
企鹅, telegram…), since "12345" or "abcdef" alone are ordinary text.
"""
from __future__ import annotations

from functools import cache

from agent import patterns
from agent.textnorm import lexicon, normalize

# 11-digit mainland mobile numbers, optionally after +86, grouped 3-4-4 or written whole
_MOBILE = patterns.compile(r"(?:\+?86|0086)?[ -]?(1[3-9][0-9](?:[ -]?[0-9]){8})")
# digits (with O/l/I lookalikes) in groups of three or more: "12345678", "138 0013 8000"
_DIGITS = patterns.compile(r"[0-9oil]{3,}(?:[ -][0-9oil]{3,})*")
_ID = patterns.compile(r"@?([a-z][a-z0-9_-]{4,31})")
_LOOKALIKE = str.maketrans("oil", "011", " -")
_TRAILING_WORD = patterns.compile(r"[a-z0-9_]+$")
_WORD_CHAR = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_-")


@cache
def _announced() -> patterns.Pattern:
    kinds = "|".join(f"(?P<{k}>{lexicon.contact_source(k)})" for k in lexicon.KINDS)
    return patterns.compile(f"(?:{kinds})(?P<fill>{lexicon.FILLER}*)")


def _ends_at_boundary(view: str, end: int) -> bool:
    return end >= len(view) or view[end] not in _WORD_CHAR


def _mobile(digits: str) -> bool:
    return len(digits) == 11 and digits[0] == "1" and digits[1] in "3456789"


def _after(view: str, kind: str, word: str, fill: str, at: int) -> str | None:
    """The handle a contact word of `kind` announces at position `at`, if there is one."""
    glued = not fill and word.isascii()  # "vxabc123": the word may be the start of an id
    number = _DIGITS.match(view, at)
    if number and _ends_at_boundary(view, number.end()):
        digits = number.group(0).translate(_LOOKALIKE)
        qq_shaped = 5 <= len(digits) <= 11 and digits[0] != "0"
        # "l23456" after a QQ word is a number; after 微信 it may be an id that starts with l
        letter_led = number.group(0)[0].isalpha()
        if _mobile(digits) or (qq_shaped and (kind == "qq" or (kind in ("wechat", "any") and not letter_led))):
            return digits
    if kind in ("qq", "phone") or glued:
        return None
    handle = _ID.match(view, at)
    if not handle or not _ends_at_boundary(view, handle.end()):
        return None
    name = handle.group(1)
    if kind == "telegram":
        return name if ("@" in fill or ":" in fill or handle.group(0).startswith("@")) and "-" not in name else None
    return name if 6 <= len(name) <= 20 else None


def handles(text: str) -> list[str]:
    """Every contact handle in `text`, normalised (digits only for numbers, lower-case ids), in order."""
    view = normalize(text)
    found: list[tuple[int, str]] = []
    for m in _announced().finditer(view):
        kind = next(k for k in lexicon.KINDS if m.group(k) is not None)
        fill = m.group("fill")
        handle = _after(view, kind, m.group(kind), fill, m.end())
        if not handle and (word := _TRAILING_WORD.search(fill)):
            # a filler word ("id", "号") may be the start of the id itself: "tg @id2048"
            handle = _after(view, kind, m.group(kind), fill[:word.start()], m.end() - len(fill) + word.start())
        if handle:
            found.append((m.end(), handle))
    for m in _MOBILE.finditer(view):
        before, after = view[m.start() - 1] if m.start() else "", view[m.end()] if m.end() < len(view) else ""
        if not before.isdigit() and not after.isdigit():
            found.append((m.start(1), m.group(1).replace(" ", "").replace("-", "")))
    return list(dict.fromkeys(handle for _, handle in sorted(found)))
