"""Member text as data: what a member wrote reaches a bot post or a knowledge file only as a quotation.

A display name, a question or a quoted message is the member's, not the bot's: posted verbatim it lets
a spammer speak with the bot's voice ("欢迎 <short link> 加入…"), and written into a knowledge file it
becomes the group's knowledge (a pasted "**Q：…**" pair is read as an FAQ). So member text is
  - inlined: one line, without Markdown structure (headings, FAQ markers, lists, tables, emphasis,
    links, HTML comments), so it cannot add a section, an FAQ pair or a list to a file or a post;
  - masked: links, contact handles, calls to contact privately, @all and contact numbers are replaced
    by MASK, found by the moderation's own detectors over its normalised view of the text;
  - clipped: quotes are short, and only the head of a long message is ever looked at.
A display name that carried any of those is replaced whole by a neutral form the caller passes
(prompts/<lang>/name_fallback.txt): a name that advertises is an advert, whatever is left of it.
"""
from __future__ import annotations

import unicodedata
from functools import lru_cache

from agent import patterns
from agent.answering.questions import clean, focus, shape
from agent.kb.tokenize import current_vocabulary, follows_vocabulary
from agent.llm import vouch
from agent.moderation.cues import CONTACT, HANDLE
from agent.moderation.text import Text
from agent.textnorm import compact

MASK = "…"
SOURCE_LIMIT = 600  # characters of a member's text ever looked at: every quote is far shorter
QUOTE_LIMIT = 60  # default length of a quoted question
NAME_LIMIT = 20
WINDOW = 6  # words looked at together when a contact detail is spread over several ("加 V", "abc")

# a word: a run of Chinese characters, or a run of anything else but spaces
_WORD = patterns.compile(r"[\u3400-\u9fff\uf900-\ufaff]+|[^\s\u3400-\u9fff\uf900-\ufaff]+")
_FAQ_MARK = patterns.compile(
    r"(^|[\s，,。；;：:！!？?、（(【])(q\d{0,2}|a\d{0,2}|ｑ|ａ|问\d{0,2}|答\d{0,2}|问题|答案|question|answer)\s?[:：]",
    patterns.I)
_LEADING = patterns.compile(r"^(?:[#›｜•·]+\s*|[-+=]\s|\d{1,3}[.)、]\s)+")
_SPACES = patterns.compile(r"\s+")
# characters that make Markdown structure or HTML, and their inert stand-ins ("" drops the character)
_INERT = str.maketrans({"*": "", "`": "", "~": "", "[": "【", "]": "】", "<": "‹", ">": "›", "|": "｜",
                        "\\": "＼"})


def carried(text: str) -> list[str]:
    """The links, handles, calls to contact privately, @all and contact numbers in `text`, as the
    moderation's detectors and the reply guard's extractors read them (the normalised view)."""
    text = "".join(c for c in text if not "\ud800" <= c <= "\udfff")  # a lone surrogate has no UTF-8 form
    view, seen = vouch.view(text), Text(raw=text)
    found = [*vouch.links(view), *vouch.handles(view), *sorted(vouch.numbers(view)[0])]
    found += [m.group() for pattern in (HANDLE, CONTACT) for m in pattern.finditer(seen.compact) if m.group()]
    everyone = vouch.everyone(view)
    return found + ([everyone] if everyone else [])


def contact_free(text: str) -> bool:
    """True if `text` carries no link, handle, contact cue, @all or contact number."""
    return not carried(text[:SOURCE_LIMIT])


def mask(text: str) -> str:
    """`text` with each word that carries a link, handle, contact cue, @all or contact number
    replaced by MASK; words that do so only together ("加 V" and an id, "r u n 0 1") go together.
    Fails closed: if something is still found, the whole text is MASK."""
    found = [compact(item) for item in carried(text)]
    if not found:
        return text
    words = [m.span() for m in _WORD.finditer(text)]
    read = [compact(text[start:end]) for start, end in words]
    hidden: set[int] = set()
    for width in range(1, WINDOW + 1):  # the fewest neighbouring words that are, hold or spell an item
        for i in range(len(words) - width + 1):
            span = [j for j in range(i, i + width) if j not in hidden]
            joined = "".join(read[j] for j in span)
            if joined and any(item in joined or (len(joined) >= 3 and joined in item) for item in found):
                hidden.update(span)
    for width in range(1, WINDOW + 1):  # what the detectors find only in context
        if not carried(_render(text, words, hidden)):
            break
        for i in range(len(words) - width + 1):
            span = [j for j in range(i, i + width) if j not in hidden]
            if span and carried(" ".join(text[words[j][0]:words[j][1]] for j in span)):
                hidden.update(span)
    shown = _render(text, words, hidden)
    return MASK if carried(shown) else shown


def _render(text: str, words: list[tuple[int, int]], hidden: set[int]) -> str:
    """`text` with the hidden words replaced by MASK, neighbours sharing one."""
    out, at = "", 0
    for i, (start, end) in enumerate(words):
        if i in hidden:
            gap = text[at:start]
            out += "" if out.endswith(MASK) and not gap.strip() else gap + MASK
            at = end
    return out + text[at:]


def inline(text: str) -> str:
    """One line of plain text: no line breaks, control characters or Markdown/HTML structure, no
    FAQ marker ("Q：", "问：", "**Q…**") and no heading, list or quote mark in front."""
    chars = (" " if unicodedata.category(c) in ("Cc", "Zl", "Zp") else c for c in text
             if unicodedata.category(c) not in ("Cf", "Cs", "Co", "Cn"))
    flat = "".join(chars).translate(_INERT)
    for _ in range(3):  # a marker can hide behind another ("Q：A：…")
        unmarked = _FAQ_MARK.sub(lambda m: m.group(1), flat)
        if unmarked == flat:
            break
        flat = unmarked
    return _LEADING.sub("", _SPACES.sub(" ", flat)).strip()


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(limit - 1, 1)].rstrip() + MASK


def quote(text: str, limit: int = QUOTE_LIMIT) -> str:
    """A member's text as the bot may repeat it: inlined, masked, clipped. Only a little more than
    what is shown is read (a link cut at the edge is still read as one)."""
    return clip(mask(inline(text[:SOURCE_LIMIT])[: 2 * limit + 40]), limit)


def asking_clause(text: str, limit: int = QUOTE_LIMIT) -> str:
    """The question a member asked, quoted: from the first line that asks something (a pasted FAQ or
    notice below it is not the question), only its asking clauses (see answering.questions.focus)."""
    return _asking_clause(text, limit, current_vocabulary())


@follows_vocabulary  # the clauses that ask are found by their words
@lru_cache(maxsize=2048)  # the gap inbox re-reads the same questions for every /gaps, /answer and digest
def _asking_clause(text: str, limit: int, words: frozenset[str]) -> str:
    lines = [line for line in (inline(clean(raw)) for raw in text[:SOURCE_LIMIT].splitlines()) if line]
    asked = next((line for line in lines if shape(line).is_question), " ".join(lines))
    return quote(focus(asked) if asked else "", limit)


def display_name(name: str | None, fallback: str, limit: int = NAME_LIMIT) -> str:
    """A member's display name as a bot post may carry it, or `fallback` (the neutral form) when the
    name advertises (a link, handle, contact cue, @all, a number) or has nothing left to show."""
    if not name or not contact_free(name):
        return fallback
    shown = clip(inline(name[:SOURCE_LIMIT]).replace("@", ""), limit).strip()
    return shown if clean(shown) else fallback
