"""Every command in one list: each feature declares its own (spec, permission and handler together,
agent.commands.api) and is named once here, as the routes are named once in agent.app.

Parsing, permissions, /help and the model's list of intents all read SPECS. Two commands are about
the list itself and live here: /help, and /confirm, which runs a proposed command's handler.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from agent import quoting
from agent.analytics import commands as analytics
from agent.blocklist import commands as blocklist
from agent.commands import basic
from agent.commands.api import EVERYONE, CommandSpec, Context, Parsed, say, usage
from agent.events import Action, Message
from agent import gap_commands as gaps
from agent.kb import commands as kb
from agent.moderation import commands as moderation
from agent.reports import commands as reports
from agent.probation import commands as probation
from agent.schedule import commands as schedule
from agent.summary import commands as summary

CONFIRM_MINUTES = 5
UNKNOWN_WORD_CHARS = 20


def _help(parsed: Parsed, msg: Message, ctx: Context) -> list[Action]:
    lines = [s.usage for s in SPECS if s.may_run(msg.sender.role) and s.name != "confirm"]
    unknown = parsed.extra.get("unknown")  # anyone's text: quoted, as any member text in a post
    head = ctx.sentence("cmd_unknown", word=quoting.quote(unknown, UNKNOWN_WORD_CHARS)) + "\n" if unknown else ""
    return say(ctx, msg, head + ctx.sentence("cmd_help", bot=ctx.group.bot_name, commands="\n".join(lines)))


def _confirm(parsed: Parsed, msg: Message, ctx: Context) -> list[Action]:
    """The same owner confirms their own proposal within CONFIRM_MINUTES; then its handler runs."""
    key = f"confirm:{ctx.group.id}:{msg.sender.id}"
    pending = ctx.services.store.get(key)
    ctx.services.store.put(key, None)
    if not pending or datetime.fromisoformat(pending["expires"]) < msg.ts or pending["intent"] not in BY_NAME:
        return say(ctx, msg, ctx.sentence("cmd_nothing_to_confirm"))
    spec = BY_NAME[pending["intent"]]
    return spec.handler(Parsed(spec, pending["text"], tuple(pending["targets"])), msg, ctx)


SPECS: tuple[CommandSpec, ...] = (
    CommandSpec("help", ("help", "帮助"), "/help", _help, roles=EVERYONE),
    *basic.COMMANDS,
    *kb.COMMANDS,
    *moderation.COMMANDS,
    *analytics.COMMANDS,
    *schedule.COMMANDS,
    *gaps.COMMANDS,
    *summary.COMMANDS,
    *reports.COMMANDS,
    *blocklist.COMMANDS,
    *probation.COMMANDS,
    CommandSpec("confirm", ("confirm", "确认"), "/confirm", _confirm),
)
BY_NAME = {s.name: s for s in SPECS}


def run(parsed: Parsed, msg: Message, ctx: Context) -> list[Action]:
    """Run a permitted command: the usage line on missing arguments, a proposal for side effects on
    people, else its handler."""
    spec = parsed.spec
    if (spec.needs_target and not parsed.targets) or (spec.needs_text and not parsed.text):
        return usage(ctx, msg, parsed)
    if spec.confirm:
        return _propose(parsed, msg, ctx)
    return spec.handler(parsed, msg, ctx)


def _propose(parsed: Parsed, msg: Message, ctx: Context) -> list[Action]:
    """Side effects on people are proposed first; the same owner confirms within a few minutes."""
    expires = msg.ts + timedelta(minutes=CONFIRM_MINUTES)
    ctx.services.store.put(f"confirm:{ctx.group.id}:{msg.sender.id}", {
        "intent": parsed.spec.name, "text": parsed.text, "targets": list(parsed.targets), "expires": expires.isoformat()})
    what = parsed.text if not parsed.spec.needs_target else "、".join(ctx.group.name_of(t) for t in parsed.targets)
    return say(ctx, msg, ctx.sentence("cmd_confirm", action=parsed.spec.usage.split()[0], what=what,
                                      minutes=CONFIRM_MINUTES))
