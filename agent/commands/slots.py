"""The arguments of a natural command: who it is about, the free text, a draft number.

Owners name members the way they talk ("give Jake a warning", "把小林妈妈移出群"), not only by
@-mention, so names are read against the group's known people, display names and their unique parts
("Jake 🇦🇺" is also "Jake"). What a name resolves to is a contact id; a name never grants anything.
The words that remain, with people replaced by a stand-in, are what the intent banks compare.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from agent import patterns
from agent.schedule import timewords
from agent.settings import GroupConfig

_PART_SPLIT = patterns.compile(r"[|｜\-—_()（）\[\]【】·,，/\s]+")
_LATIN = patterns.compile(r"^[A-Za-z][A-Za-z'.]*$")
_CJK = patterns.compile(r"[\u4e00-\u9fff]")
_LEFT_MENTION = patterns.compile(r"@\S+\s?")
_COLON = patterns.compile(r"[：:]")
_NUMBER = patterns.compile(r"\d+")
# lead words that introduce the free text when no colon does ("记一下 周五交表", "remember that …")
_LEAD = patterns.compile(
    r"^(?:请|麻烦|帮我|帮忙|你)*(?:把这条|这条)?(?:记一下|记下来|记住|加到知识库|加进知识库|存到知识库|存一下|"
    r"通知大家|通知全体|告诉大家|跟大家说|给全群发个?通知|查一下|搜一下|查查|找一下)?(?:关于)?\s*"
    r"|^(?:please\s+)?(?:remember(?: that)?|note(?: down)?(?: that)?|add(?: this)? to (?:the )?(?:kb|knowledge base)|"
    r"tell everyone(?: that)?|announce(?: to everyone)?(?: that)?|search (?:the )?(?:kb|knowledge base)?(?: for)?|"
    r"look up)\s*",
    patterns.I,
)
# a time named in English (Chinese time phrases are agent.schedule.timewords')
_EN_TIME = patterns.compile(
    r"\b(?:\d{1,2}(?::\d{2})?\s*(?:am|pm)|\d{1,2}:\d{2}|noon|midnight|tonight|tomorrow|today|daily|weekly|"
    r"every (?:day|week|morning|evening)|(?:mon|tues|wednes|thurs|fri|satur|sun)day)\b", patterns.I)
_CN_TIME = patterns.compile(r"每(?:天|日|周|星期|礼拜|月)|\d{1,2}[:：]\d{2}")
# a span of time ("两个小时", "for an hour", "30m"): how long to be quiet, not when to post
_DURATION = patterns.compile(
    r"(?:\d+(?:\.\d+)?|[一两二三四五六七八九十半])\s*个?\s*(?:小时|钟头|分钟)|半天|一会儿?|"
    r"\bfor (?:an?|one|two|three|\d+|a few|the next)?\s*(?:hours?|minutes?|mins?|h|while|bit)\b|\b\d+\s*(?:h|m|min|mins|hrs?)\b",
    patterns.I)
# a refusal: "不要发", "别发", "don't post", "skip" — after the positives that also use negation words
_POSITIVE = patterns.compile(r"没问题|没毛病|不错|不用改|no problem|not bad|looks? (?:good|fine|ok)", patterns.I)
_NEGATION = patterns.compile(r"不|别|否|驳回|拒绝|跳过|打回|作废|\b(?:no|not|don't|do not|never|skip|reject|scrap|drop|hold)\b",
                             patterns.I)
_ABOUT = patterns.compile(r"(?:关于|有关|about|regarding|on)\s*(?P<q>.+?)(?:的内容|的资料|的条目|的记录)?[?？。!！]*$", patterns.I)


@dataclass(frozen=True)
class Slots:
    text: str  # the message for the banks: mentions and names replaced by a stand-in, before any colon
    targets: tuple[str, ...]  # contact ids of the people named (the bot excluded)
    rest: str  # what follows the first colon, or the message after its lead words
    number: int | None  # the first number (a draft id)
    timed: bool  # a time or date is named ("周五晚8点", "every Friday at 20:00")
    lasting: bool  # a span of time is named ("两个小时", "for an hour")
    refuses: bool  # worded as a refusal ("不发", "don't post")


def _aliases(group: GroupConfig) -> list[tuple[str, str]]:
    """(alias, contact id), longest first: full display names, and parts of them that name one person."""
    people = [*group.owners, *group.admins, *group.members]
    full = [(p.name, p.id) for p in people if p.name]
    owners_of: dict[str, set[str]] = {}
    for name, cid in full:
        for part in _PART_SPLIT.split(name):
            if (_CJK.search(part) and len(part) >= 2) or (_LATIN.match(part) and len(part) >= 3):
                owners_of.setdefault(part, set()).add(cid)
    parts = [(part, next(iter(ids))) for part, ids in owners_of.items() if len(ids) == 1]
    return sorted({*full, *parts}, key=lambda x: -len(x[0]))


def _names(group: GroupConfig) -> tuple[patterns.Pattern | None, dict[str, str]]:
    """One pattern for every alias (compiled once per alias set by agent.patterns) and its table."""
    table = dict(_aliases(group))
    if not table:
        return None, table
    alts = [rf"\b{patterns.escape(a)}\b" if _LATIN.match(a) else patterns.escape(a) for a in table]
    return patterns.compile("@?(?:" + "|".join(alts) + ")"), table


def read(body: str, group: GroupConfig | None, mentioned: tuple[str, ...] = ()) -> Slots:
    """Slots of `body`, the message with the bot's own mention already removed."""
    stand_in = "某人" if _CJK.search(body) else "someone"
    targets = list(mentioned)
    pattern, table = _names(group) if group is not None else (None, {})
    if pattern is not None:
        def swap(found) -> str:
            cid = table[found.group(0).lstrip("@")]
            if cid not in targets:
                targets.append(cid)
            return stand_in
        body = pattern.sub(swap, body)
    body = _LEFT_MENTION.sub(" ", body).strip()  # the bot under another name, or someone unknown
    head, _, tail = (part.strip() for part in _split_colon(body))
    if tail and len(head) >= 2:
        text, rest = head, tail
    else:
        text, rest = body, _LEAD.sub("", body, count=1).strip()
        if about := _ABOUT.search(body):
            rest = about.group("q").strip()
    number = _NUMBER.search(body)
    timed = bool(_EN_TIME.search(body) or _CN_TIME.search(body) or timewords.find(body, datetime.now().astimezone()))
    refuses = bool(_NEGATION.search(_POSITIVE.sub(" ", body)))
    lasting = bool(_DURATION.search(body))
    return Slots(text, tuple(targets), rest, int(number.group()) if number else None, timed, lasting, refuses)


def _split_colon(body: str) -> tuple[str, str, str]:
    """Around the first colon that introduces text; the colon of a clock time ("21:00") does not."""
    for found in _COLON.finditer(body):
        i, j = found.start(), found.end()
        if not (i > 0 and body[i - 1].isdigit() and j < len(body) and body[j].isdigit()):
            return body[:i], found.group(0), body[j:]
    return body, "", ""
