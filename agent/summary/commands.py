"""/summary and its natural phrasings ("@bot 我错过了什么", "catch me up"): a catch-up for the asker.

Sent privately by default (`summary.reply`), at most once per member per `summary.per_member_minutes`
(a second request in that time gets a short note instead, so the command cannot be used to flood),
and never longer than `summary.max_chars`.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from agent.commands.api import EVERYONE, CommandSpec, Context, Parsed, say
from agent.events import Action, Message, Say, Whisper
from agent.summary import record
from agent.summary.compose import Composer
from agent.summary.window import since


def _key(ctx: Context, msg: Message) -> str:
    return f"summary:{ctx.group.id}:{msg.sender.id}"


def _narrator(ctx: Context, msg: Message):
    """The model's telling of the threads, when a model and a budget are configured (else None)."""
    services = ctx.services
    if services.llm is None or getattr(services, "budget", None) is None:
        return None
    from agent.summary.narrate import Narrator

    narrator = Narrator(services.llm, services.budget, services.settings.llm, services.prompts)
    return lambda lines: narrator.narrate(lines, lang=ctx.group.language, group_id=ctx.group.id,
                                          asker_id=msg.sender.id, max_chars=ctx.group.summary.max_chars // 3)


def summarize(parsed: Parsed, msg: Message, ctx: Context) -> list[Action]:
    policy, store = ctx.group.summary, ctx.services.store
    last = store.get(_key(ctx, msg))
    if last and msg.ts - datetime.fromisoformat(last) < timedelta(minutes=policy.per_member_minutes):
        return [Whisper(msg.sender.id, ctx.sentence("summary_again", minutes=policy.per_member_minutes))]
    start = since(parsed.text or msg.text, msg.ts, record.last_spoke(store, ctx.group.id, msg.sender.id, msg.ts))
    entries = record.entries(store, ctx.group.id, start, msg.ts)
    label = start.strftime("%m-%d %H:%M") if start.date() != msg.ts.date() else start.strftime("%H:%M")
    text = Composer(ctx.services.prompts, ctx.group.language, policy.max_chars).compose(
        entries, label, ctx.services.kb.ef, _narrator(ctx, msg))
    store.put(_key(ctx, msg), msg.ts.isoformat())
    if policy.reply == "group" and not msg.private:
        return [Say(ctx.group.id, text, (msg.sender.id,))]
    return [Whisper(msg.sender.id, text)]


COMMANDS = (
    CommandSpec("summary", ("summary", "总结", "摘要"), "/summary [3h|today|since yesterday]", summarize, roles=EVERYONE,
                asked=True),
)
