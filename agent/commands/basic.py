"""The bot's own commands: its rules, silencing it, binding its room and broadcasting through it."""
from __future__ import annotations

import re
from datetime import timedelta

from agent import patterns
from agent.commands.api import EVERYONE, OWNERS, CommandSpec, Context, Parsed, say
from agent.events import Action, Message, Say

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


def rules(parsed: Parsed, msg: Message, ctx: Context) -> list[Action]:
    listed = "\n".join(f"{i}. {r.text}" for i, r in enumerate(ctx.group.rules, 1))
    return say(ctx, msg, ctx.sentence("cmd_rules", group=ctx.group.name or ctx.group.id, rules=listed))


def mute(parsed: Parsed, msg: Message, ctx: Context) -> list[Action]:
    until = msg.ts + duration(parsed.text + " " + parsed.extra.get("phrase", ""))
    ctx.services.store.put(f"mute:{ctx.group.id}", until.isoformat())
    return say(ctx, msg, ctx.sentence("cmd_muted", until=until.strftime("%H:%M")))


def unmute(parsed: Parsed, msg: Message, ctx: Context) -> list[Action]:
    ctx.services.store.put(f"mute:{ctx.group.id}", None)
    return say(ctx, msg, ctx.sentence("cmd_unmuted"))


def broadcast(parsed: Parsed, msg: Message, ctx: Context) -> list[Action]:
    """Runs once the owner has confirmed: the owner's text, posted to the group as the bot."""
    return [Say(ctx.group.id, parsed.text)]


def bind(parsed: Parsed, msg: Message, ctx: Context) -> list[Action]:
    """The channel binds a room before routing (only the configured owners' /bind counts); here the
    owner hears that this room is the group's room."""
    return say(ctx, msg, ctx.sentence("cmd_bound", group=ctx.group.name or ctx.group.id))


COMMANDS = (
    CommandSpec("rules", ("rules", "群规"), "/rules", rules, roles=EVERYONE),
    CommandSpec("mute_bot", ("mute", "mute_bot", "安静"), "/mute [时长，如 2h、30m]", mute),
    CommandSpec("unmute_bot", ("unmute", "unmute_bot"), "/unmute", unmute),
    CommandSpec("broadcast", ("broadcast", "通知"), "/broadcast <内容>", broadcast, needs_text=True, confirm=True),
    # the room is bound by the channel before routing (agent/channels/binding.py); this only confirms
    CommandSpec("bind", ("bind", "绑定"), "/bind", bind, roles=OWNERS),
)
