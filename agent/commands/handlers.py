"""What each command does. Handlers return actions; side effects on people wait for /confirm."""
from __future__ import annotations

import re
from datetime import datetime, timedelta

from agent import gaps, quoting
from agent import patterns
from agent.commands.parse import Parsed
from agent.commands.specs import BY_NAME, SPECS, may_run
from agent.events import Kick, Message, Say
from agent.analytics.commands import stats as _stats
from agent.moderation import commands as moderation_commands
from agent.pipeline import Context
from agent.schedule.commands import HANDLERS as SCHEDULE_HANDLERS

CONFIRM_MINUTES = 5
KB_CHAT_FILE = "added-in-chat.md"  # the curated file that entries added from chat go to
GAPS_SHOWN = 10
UNKNOWN_WORD_CHARS = 20
_DURATION = patterns.compile(r"(\d+(?:\.\d+)?|半|一|两|二|三|四|五|六|十)\s*(h|小时|个小时|个钟|m|min|分钟|d|天)", re.I)
_CN_NUM = {"半": 0.5, "一": 1, "两": 2, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "十": 10}


def duration(text: str, default: timedelta = timedelta(hours=1)) -> timedelta:
    """'2h', '两个小时', '30分钟', '1天' → timedelta; the default when no duration is given."""
    found = _DURATION.search(text)
    if not found:
        return default
    n = _CN_NUM.get(found.group(1)) or float(found.group(1))
    unit = found.group(2).lower()
    if unit in ("m", "min", "分钟"):
        return timedelta(minutes=n)
    if unit in ("d", "天"):
        return timedelta(days=n)
    return timedelta(hours=n)


def _say(ctx: Context, msg: Message, text: str) -> list:
    return [Say(ctx.group.id, text, (msg.sender.id,))]


def run(parsed: Parsed, msg: Message, ctx: Context) -> list:
    name = parsed.spec.name
    if (parsed.spec.needs_target and not parsed.targets) or (parsed.spec.needs_text and not parsed.text):
        return _say(ctx, msg, ctx.sentence("cmd_usage", usage=parsed.spec.usage))
    if parsed.spec.confirm:
        return _propose(parsed, msg, ctx)
    return HANDLERS[name](parsed, msg, ctx)


def _help(parsed: Parsed, msg: Message, ctx: Context) -> list:
    lines = [s.usage for s in SPECS if may_run(s, msg.sender.role) and s.name != "confirm"]
    unknown = parsed.extra.get("unknown")  # anyone's text: quoted, as any member text in a post
    head = ctx.sentence("cmd_unknown", word=quoting.quote(unknown, UNKNOWN_WORD_CHARS)) + "\n" if unknown else ""
    return _say(ctx, msg, head + ctx.sentence("cmd_help", bot=ctx.group.bot_name, commands="\n".join(lines)))


def _rules(parsed: Parsed, msg: Message, ctx: Context) -> list:
    rules = "\n".join(f"{i}. {r.text}" for i, r in enumerate(ctx.group.rules, 1))
    return _say(ctx, msg, ctx.sentence("cmd_rules", group=ctx.group.name or ctx.group.id, rules=rules))


def _kb_search(parsed: Parsed, msg: Message, ctx: Context) -> list:
    hits = ctx.services.kb.search(parsed.text, [ctx.group.id, "shared"], k=3)
    if not hits:
        return _say(ctx, msg, ctx.sentence("cmd_kb_none", query=parsed.text))
    lines = [f"{i}. {h.file} › {h.heading}：{h.text[:60]}…" for i, h in enumerate(hits, 1)]
    return _say(ctx, msg, ctx.sentence("cmd_kb_hits", query=parsed.text, hits="\n".join(lines)))


def _add_knowledge(ctx: Context, msg: Message, text: str, question: str | None = None) -> None:
    """Append to the group's chat-curated file, noting who added it and when, and re-index it."""
    note = ctx.sentence("kb_entry_note", who=ctx.group.name_of(msg.sender.id), when=msg.ts.strftime("%Y-%m-%d %H:%M"))
    ctx.services.kb.add_entry(ctx.group.id, KB_CHAT_FILE, f"{text}\n{note}", question=question,
                              folder=ctx.services.settings.kb.knowledge_dir / ctx.group.id)


def _kb_add(parsed: Parsed, msg: Message, ctx: Context) -> list:
    _add_knowledge(ctx, msg, parsed.text)
    return _say(ctx, msg, ctx.sentence("cmd_kb_added", text=parsed.text))


def _warn(parsed: Parsed, msg: Message, ctx: Context) -> list:
    target = parsed.targets[0]
    reason = parsed.text or "-"
    ctx.services.store.add_strike(ctx.group.id, target, "manual", None, msg.id, reason, msg.ts)
    return [Say(ctx.group.id, ctx.sentence("cmd_warned", reason=reason), (target,))]


def _mute(parsed: Parsed, msg: Message, ctx: Context) -> list:
    until = msg.ts + duration(parsed.text + " " + parsed.extra.get("phrase", ""))
    ctx.services.store.put(f"mute:{ctx.group.id}", until.isoformat())
    return _say(ctx, msg, ctx.sentence("cmd_muted", until=until.strftime("%H:%M")))


def _unmute(parsed: Parsed, msg: Message, ctx: Context) -> list:
    ctx.services.store.put(f"mute:{ctx.group.id}", None)
    return _say(ctx, msg, ctx.sentence("cmd_unmuted"))


def _gaps(parsed: Parsed, msg: Message, ctx: Context) -> list:
    open_ = gaps.open_gaps(ctx.services.store, ctx.group.id)
    if not open_:
        return _say(ctx, msg, ctx.sentence("cmd_gaps_none"))
    lines = [ctx.sentence("cmd_gaps_line", id=g.id, question=g.question, count=len(g.askers)) for g in open_[:GAPS_SHOWN]]
    return _say(ctx, msg, ctx.sentence("cmd_gaps", count=len(open_), gaps="\n".join(lines)))


def _answer_gap(parsed: Parsed, msg: Message, ctx: Context) -> list:
    """An owner's answer becomes an FAQ entry; the members who asked are told in the group."""
    number, _, answer = parsed.text.partition(" ")
    gap = gaps.find(ctx.services.store, ctx.group.id, int(number)) if number.isdigit() else None
    if gap is None or not answer.strip():
        return _say(ctx, msg, ctx.sentence("cmd_usage", usage=parsed.spec.usage))
    answer = answer.strip()
    _add_knowledge(ctx, msg, answer, question=gap.question)
    gaps.close(ctx.services.store, gap, answer)
    told = Say(ctx.group.id, ctx.sentence("gap_answered", question=gap.question, answer=answer), gap.askers)
    return [told, *_say(ctx, msg, ctx.sentence("cmd_gap_closed", id=gap.id, count=len(gap.askers)))]


def _propose(parsed: Parsed, msg: Message, ctx: Context) -> list:
    """Side effects on people are proposed first; the same owner confirms within a few minutes."""
    expires = msg.ts + timedelta(minutes=CONFIRM_MINUTES)
    ctx.services.store.put(f"confirm:{ctx.group.id}:{msg.sender.id}", {
        "intent": parsed.spec.name, "text": parsed.text, "targets": list(parsed.targets), "expires": expires.isoformat()})
    what = parsed.text if parsed.spec.name == "broadcast" else "、".join(ctx.group.name_of(t) for t in parsed.targets)
    return _say(ctx, msg, ctx.sentence("cmd_confirm", action=parsed.spec.usage.split()[0], what=what, minutes=CONFIRM_MINUTES))


def _confirm(parsed: Parsed, msg: Message, ctx: Context) -> list:
    key = f"confirm:{ctx.group.id}:{msg.sender.id}"
    pending = ctx.services.store.get(key)
    ctx.services.store.put(key, None)
    if not pending or datetime.fromisoformat(pending["expires"]) < msg.ts:
        return _say(ctx, msg, ctx.sentence("cmd_nothing_to_confirm"))
    if pending["intent"] == "kick":
        return [Kick(ctx.group.id, t) for t in pending["targets"]] + _say(ctx, msg, ctx.sentence("cmd_done"))
    return [Say(ctx.group.id, pending["text"])]


def _bind(parsed: Parsed, msg: Message, ctx: Context) -> list:
    """The channel binds a room before routing (only the configured owners' /bind counts); here the
    owner hears that this room is the group's room."""
    return _say(ctx, msg, ctx.sentence("cmd_bound", group=ctx.group.name or ctx.group.id))


HANDLERS = {
    **SCHEDULE_HANDLERS,
    "case": moderation_commands.case, "why": moderation_commands.why,
    "help": _help, "rules": _rules, "kb_search": _kb_search, "kb_add": _kb_add, "warn": _warn,
    "mute_bot": _mute, "unmute_bot": _unmute, "stats": _stats, "confirm": _confirm,
    "gaps": _gaps, "answer_gap": _answer_gap, "bind": _bind,
}
assert set(HANDLERS) | {s.name for s in SPECS if s.confirm} == set(BY_NAME)
