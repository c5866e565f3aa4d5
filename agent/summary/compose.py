"""A catch-up summary that reads on a phone: the window's owners' messages, answered and open
questions, scheduled posts that went out and the main threads, fitted under a length cap.

What an owner said and what the bot answered are the summary's reason to exist, so they are fitted
first and trimmed last; threads and open questions give way when the window was busy. Hidden entries
(violations, recalled messages) are never quoted: they are not even handed to the thread finder.
Members' words and names are quoted as any bot post quotes them (agent.quoting): a summary must not
carry a spammer's number or link to everyone who asks what they missed.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from agent import quoting
from agent.summary.threads import Embed, threads

THREADS_SHOWN = 3
WIDEST, NARROWEST = 60, 12  # characters kept of one quoted message, before and after fitting the cap
PEOPLE_NAMED = 3
Narrate = Callable[[list[str]], str | None]


class EntryKind(StrEnum):
    CHAT = "chat"
    ANSWERED = "answered"  # a question the bot answered: `answer` holds its first line, `source` the file
    OPEN = "open"  # a question still without an answer
    OWNER = "owner"  # anything an owner said
    POST = "post"  # a scheduled post that went out
    HIDDEN = "hidden"  # decided a violation, or recalled by its sender: never quoted


@dataclass(frozen=True)
class Entry:
    ts: datetime
    sender_id: str
    sender_name: str
    text: str
    kind: EntryKind
    answer: str = ""
    source: str = ""


def shorten(text: str, width: int) -> str:
    """One line of at most `width` characters, whitespace collapsed, an ellipsis where it was cut."""
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: max(width - 1, 1)].rstrip() + "…"


@dataclass
class _Parts:
    owner: list[Entry]
    answered: list[Entry]
    open: list[Entry]
    posts: list[Entry]
    threads: list[tuple[Entry, list[str]]]  # the central message and who took part
    prose: str | None = None  # the threads told by the model, in place of their lines


def as_shown(e: Entry, fallback: str) -> Entry:
    """A member's entry as a bot post may show it: masked, one line, a neutral name for one that
    advertises. Owners' words and the bot's own posts are shown as they were."""
    if e.kind in (EntryKind.OWNER, EntryKind.POST):
        return e
    text = quoting.mask(quoting.inline(e.text[:quoting.SOURCE_LIMIT]))
    return replace(e, text=text, sender_name=quoting.display_name(e.sender_name, fallback))


def _parts(entries: Sequence[Entry], embed: Embed | None, fallback: str) -> _Parts:
    shown = [as_shown(e, fallback) for e in entries if e.kind is not EntryKind.HIDDEN]
    chat = [e for e in shown if e.kind is EntryKind.CHAT]
    found = []
    for t in threads([e.text for e in chat], embed)[:THREADS_SHOWN]:
        if len(t.members) < 2 and found:
            break  # a lone message is a thread only when nothing else was said
        names = list(dict.fromkeys(chat[i].sender_name for i in t.members))
        found.append((chat[t.central], names))
    by = {k: [e for e in shown if e.kind is k] for k in EntryKind}
    return _Parts(by[EntryKind.OWNER], by[EntryKind.ANSWERED], by[EntryKind.OPEN], by[EntryKind.POST], found)


class Composer:
    """Renders the parts through prompts/<lang>/summary_*.txt and fits them under `cap` characters."""

    def __init__(self, prompts, lang: str, cap: int):
        self.prompts, self.lang, self.cap = prompts, lang, cap

    def _say(self, prompt: str, /, **values) -> str:
        return self.prompts.render(f"summary_{prompt}", self.lang, **values)

    def _people(self, names: list[str]) -> str:
        if len(names) <= PEOPLE_NAMED:
            return self._say("people", names="、".join(names) if self.lang == "zh" else ", ".join(names))
        return self._say("people_more", names=("、" if self.lang == "zh" else ", ").join(names[:PEOPLE_NAMED]),
                         count=len(names))

    def _thread_lines(self, p: _Parts, width: int) -> list[str]:
        return [self._say("thread_line", text=shorten(e.text, width), people=self._people(names)) for e, names in p.threads]

    def _render(self, p: _Parts, since: str, total: int, width: int) -> str:
        out = [self._say("head", since=since, count=total)]
        sections = (
            ("owner", [self._say("owner_line", name=e.sender_name, text=shorten(e.text, width)) for e in p.owner]),
            ("answered", [self._say("answered_line", question=shorten(e.text, width),
                                    answer=shorten(e.answer, width), source=e.source) for e in p.answered]),
            ("open", [self._say("open_line", question=shorten(e.text, width)) for e in p.open]),
            ("posts", [self._say("post_line", text=shorten(e.text, width)) for e in p.posts]),
            ("threads", [p.prose] if p.prose and p.threads else self._thread_lines(p, width)),
        )
        for name, lines in sections:
            if lines:
                out += [self._say(f"section_{name}"), *lines]
        return "\n".join(out)

    def compose(self, entries: Sequence[Entry], since: str, embed: Embed | None = None,
                narrate: Narrate | None = None) -> str:
        """The summary of `entries` (the window's transcript in time order), at most `cap` characters.
        `narrate` (the model, if one is configured) may tell the threads in prose; None keeps their lines."""
        if not any(e.kind is not EntryKind.HIDDEN for e in entries):
            return self._say("empty", since=since)
        p = _parts(entries, embed, self.prompts.render("name_fallback", self.lang).strip())
        if narrate is not None and p.threads:
            p.prose = narrate(self._thread_lines(p, WIDEST))
        total = len(entries)
        for width in range(WIDEST, NARROWEST - 1, -4):
            text = self._render(p, since, total, width)
            if len(text) <= self.cap:
                return text
        # still too long at the narrowest quotes: the optional sections give way, the least needed first
        for drop in ("threads", "posts", "open"):
            setattr(p, drop, [])
            text = self._render(p, since, total, NARROWEST)
            if len(text) <= self.cap:
                return text
        return shorten(text, self.cap)  # owners' words and answers alone overflow: the cap still holds
