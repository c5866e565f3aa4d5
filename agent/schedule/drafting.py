"""What a scheduled post says: gathered from the group's knowledge and the week's questions, written
by the model when there is one, else filled into a template.

Both paths start from the same material (the knowledge sections and questions picked for the kind),
so the model path can only rephrase what the template would have used, and its sources are cited by
us, not by the model. A model failure, an empty budget or a reply the guard refuses falls back to the
template, so a scheduled post never depends on the model being up.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from agent import patterns
from agent.events import Source
from agent.llm import tokens
from agent.llm.guard import as_data, check_reply
from agent.llm.errors import LLMUnavailable
from agent.clock import local
from agent.quoting import asking_clause
from agent.schedule.store import ScheduleStore
from agent.state import gaps as gap_rows
from agent.settings import GroupConfig, ScheduleConfig
from agent.store import Store
from agent.summary import record as transcript
from agent.summary.compose import Composer, EntryKind

log = logging.getLogger(__name__)

MAX_CHARS = 600  # a post longer than this is a wall of text on a phone screen
WEEK = timedelta(days=7)
DAY = timedelta(days=1)  # what a scheduled summary covers: the day up to its drafting
TIP_CANDIDATES = 8  # sections the tip of the week rotates through
EVENT_SECTIONS = 2
DIGEST_ITEMS = 5
DRAFT_TOKENS = 800  # reply budget for a model-written post (MAX_CHARS of Chinese, with room)
NO_DRAFT = "NO_DRAFT"
_CITED = patterns.compile(r"\n?[ \t]*(?:来源|出处|sources?)[ \t]*[:：][ \t]*([\d\s,，、]*)$", re.I)


@dataclass(frozen=True)
class Section:
    file: str
    heading: str
    text: str

    @property
    def cite(self) -> str:
        return Source(self.file, self.heading).cite()


@dataclass(frozen=True)
class Question:
    text: str
    askers: int
    answer: str | None  # set once an owner answered the gap


@dataclass
class Material:
    sections: list[Section] = field(default_factory=list)
    answered: list[Question] = field(default_factory=list)
    open: list[Question] = field(default_factory=list)


@dataclass(frozen=True)
class Composed:
    text: str  # "" when there is nothing worth posting; `note` says why
    sources: list[str]
    note: str = ""  # for the owners' review only


def plain(markdown: str) -> str:
    """Knowledge Markdown as WeChat text: no table rules, pipes, emphasis marks or heading hashes."""
    lines = []
    for line in markdown.splitlines():
        if patterns.fullmatch(r"\s*\|?[\s:|-]+\|?\s*", line) and "-" in line:
            continue  # a table's |---|---| rule
        if line.strip().startswith("|"):
            line = " · ".join(c.strip() for c in line.strip().strip("|").split("|"))
        line = patterns.sub(r"^#{1,6}\s+", "", line)
        lines.append(patterns.sub(r"\*\*(.+?)\*\*|__(.+?)__", lambda m: m.group(1) or m.group(2), line).rstrip())
    return "\n".join(lines).strip()


def fit(text: str, room: int) -> str:
    """`text` cut to `room` characters, at the last sentence or line end that fits."""
    if len(text) <= room:
        return text
    cut = text[: max(room - 1, 0)]
    end = max(cut.rfind(c) for c in "。！？!?\n")
    return cut[: end + 1].rstrip() if end >= room // 3 else cut.rstrip() + "…"


def week_questions(store: Store, group_id: str, now: datetime) -> tuple[list[Question], list[Question]]:
    """(answered, open) questions of the last week, the most asked first; repeats of one question
    (same words, other punctuation) count once per asker."""
    groups: dict[str, dict] = {}
    for row in gap_rows.since(store, group_id, now - WEEK):
        key = patterns.sub(r"[\W_]+", "", row["question"]).casefold()
        g = groups.setdefault(key, {"text": asking_clause(row["question"]), "askers": set(), "answer": None})
        g["askers"].add(row["asker_id"])
        if row["status"] != "open" and row["answer"]:
            g["answer"] = row["answer"]
    ranked = sorted(groups.values(), key=lambda g: -len(g["askers"]))  # stable: first asked first
    qs = [Question(g["text"], len(g["askers"]), g["answer"]) for g in ranked]
    return [q for q in qs if q.answer][:DIGEST_ITEMS], [q for q in qs if not q.answer][:DIGEST_ITEMS]


class Drafter:
    def __init__(self, store: Store, drafts: ScheduleStore, kb, prompts, llm=None, budget=None,
                 encoding: str = tokens.DEFAULT_ENCODING):
        self.store, self.drafts, self.kb, self.prompts = store, drafts, kb, prompts
        self.llm, self.budget, self.encoding = llm, budget, encoding

    def compose(self, group: GroupConfig, sched: ScheduleConfig, now: datetime) -> Composed:
        if sched.text:
            return Composed(sched.text.strip()[:MAX_CHARS], [])
        if sched.kind == "summary":
            return self._summary(group, now)
        material = self.gather(group, sched, now)
        note = self._say(group, "draft_note_open", questions="；".join(q.text for q in material.open)) if material.open else ""
        if self.llm is not None:
            written = self._write(group, sched, material)
            if written is not None:
                return Composed(written[0], written[1], note)
            note = "\n".join(filter(None, [self._say(group, "draft_note_fallback"), note]))
        text, sources, empty = self._template(group, sched, material)
        return Composed(text, sources, empty if not text else note)

    def _summary(self, group: GroupConfig, now: datetime) -> Composed:
        """The day's catch-up from the transcript, as /summary writes it (agent.summary.compose, without
        the model: the owners read it before it goes out). Nothing said that day: nothing to post."""
        start = now - DAY
        entries = transcript.entries(self.store, group.id, start, now)
        if not any(e.kind is not EntryKind.HIDDEN for e in entries):
            return Composed("", [], self._say(group, "draft_none_transcript"))
        label = local(start, group.timezone).strftime("%m-%d %H:%M")
        text = Composer(self.prompts, group.language, group.summary.max_chars).compose(entries, label, self.kb.ef)
        return Composed(text, [])

    # ---- material ----
    def gather(self, group: GroupConfig, sched: ScheduleConfig, now: datetime) -> Material:
        scopes = [group.id, "shared"]
        answered, open_ = week_questions(self.store, group.id, now)
        m = Material(answered=answered, open=open_)
        if sched.kind == "tip":
            hits = self._search(sched.brief or group.theme, scopes, TIP_CANDIDATES)
            m.sections = self._rotate(group.id, sched.id, hits)
        elif sched.kind == "events":
            query = sched.brief or self._say(group, "draft_events_query")
            m.sections = self._search(query, scopes, EVENT_SECTIONS)
        elif sched.kind == "digest" and self.llm is not None:
            # knowledge that may answer the open questions, for the model to use
            m.sections = [s for q in open_[:3] for s in self._search(q.text, scopes, 1)]
        elif sched.kind == "custom" and sched.brief:
            m.sections = self._search(sched.brief, scopes, EVENT_SECTIONS)
        return m

    def _search(self, query: str, scopes: list[str], k: int) -> list[Section]:
        return [Section(h.file, h.heading, h.text) for h in self.kb.search(query, scopes, k=k)]

    def _rotate(self, group_id: str, schedule_id: str, hits: list[Section]) -> list[Section]:
        """The section used longest ago (never used counts as longest), best search rank on ties:
        deterministic, and every section of the brief gets its turn before one repeats."""
        if not hits:
            return []
        history = self.drafts.recent_sources(group_id, schedule_id)

        def age(s: Section) -> int:
            return next((i for i, used in enumerate(history) if s.cite in used), len(history) + 1)

        return [max(hits, key=age)]  # max keeps the first (best ranked) of equal ages

    # ---- template ----
    def _template(self, group: GroupConfig, sched: ScheduleConfig, m: Material) -> tuple[str, list[str], str]:
        """(text, sources, reason when empty)."""
        title = sched.brief or ("" if sched.kind == "custom" else self._say(group, f"draft_title_{sched.kind}"))
        if sched.kind == "digest":
            if not m.answered:
                return "", [], self._say(group, "draft_none_questions")
            head = self._say(group, "draft_digest", title=title, items="")
            items, used = [], 0
            for n, q in enumerate(m.answered, 1):
                item = self._say(group, "draft_digest_item", n=n, question=q.text, answer=q.answer)
                if len(head) + used + len(item) + 1 > MAX_CHARS:
                    break
                items.append(item)
                used += len(item) + 1
            return self._say(group, "draft_digest", title=title, items="\n".join(items)), [], ""
        if not m.sections or not title:
            return "", [], self._say(group, "draft_none_knowledge")
        cite = self._say(group, "draft_cite", sources="；".join(dict.fromkeys(s.cite for s in m.sections)))
        heading = m.sections[0].heading.split(" › ")[-1]
        name = "draft_tip" if sched.kind == "tip" else "draft_events"
        room = MAX_CHARS - len(self._say(group, name, title=title, heading=heading, body="", cite=cite))
        body = fit("\n\n".join(plain(s.text) for s in m.sections), room)
        text = self._say(group, name, title=title, heading=heading, body=body, cite=cite)
        return text, [s.cite for s in m.sections], ""

    # ---- model ----
    def _write(self, group: GroupConfig, sched: ScheduleConfig, m: Material) -> tuple[str, list[str]] | None:
        """(text with our citation line, sources used), or None to take the template."""
        entries = [as_data(f"[{i}] {s.cite}\n{s.text}") for i, s in enumerate(m.sections, 1)]
        entries += [as_data(f"Q：{q.text}\nA：{q.answer}") for q in m.answered]
        questions = "\n".join(as_data(f"- {q.text}（{q.askers}）") for q in m.open) or "-"
        system = self._say(group, "draft_system", group=group.name or group.id, theme=group.theme,
                           bot=group.bot_name, max_chars=MAX_CHARS - 60)
        context = "\n\n".join(entries)
        brief = sched.brief or ("" if sched.kind == "custom" else self._say(group, f"draft_title_{sched.kind}"))
        user = self._say(group, "draft_user", brief=as_data(brief or "-"), knowledge=context or "-", questions=questions)
        if self.budget is not None:
            estimate = tokens.count(system + user, self.encoding) + DRAFT_TOKENS
            if self.budget.allow(group.id, "scheduler", estimate) != "full":
                log.info("llm budget spent for %s: drafting %s from the template", group.id, sched.id)
                return None
        try:
            done = self.llm.complete(system, user, DRAFT_TOKENS)
        except LLMUnavailable as exc:
            log.warning("model unavailable, drafting %s from the template: %s", sched.id, exc)
            return None
        if self.budget is not None:
            self.budget.spend(group.id, "scheduler", done.prompt_tokens + done.completion_tokens)
        if NO_DRAFT in done.text:
            return None
        body, used = self._cited(done.text, m.sections)
        cite = self._say(group, "draft_cite", sources="；".join(s.cite for s in used)) if used else ""
        body = check_reply(body, context, system, max_chars=MAX_CHARS - len(cite) - 1)
        if body is None:
            log.warning("model draft for %s refused by the guard; drafting from the template", sched.id)
            return None
        return ("\n".join(filter(None, [body, cite])), [s.cite for s in used])

    @staticmethod
    def _cited(text: str, sections: list[Section]) -> tuple[str, list[Section]]:
        """Strip the model's closing "来源：1,3" line; the sections it names (all, when it names none)."""
        found = _CITED.search(text.strip())
        if not found:
            return text.strip(), sections
        picks = {int(n) for n in patterns.findall(r"\d+", found.group(1))}
        used = [s for i, s in enumerate(sections, 1) if i in picks]
        return text.strip()[: found.start()].strip(), used or sections

    def _say(self, group: GroupConfig, name: str, /, **values) -> str:
        return self.prompts.render(name, group.language, **values)
