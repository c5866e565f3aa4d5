"""`/stats [7d|30d]` for owners: the figures and the chart go to the asker privately, because names of
silent members and counts are the owners' business, not the group's."""
from __future__ import annotations

import re

from agent import patterns
from agent.analytics import wording
from agent.analytics.days import last_days, local_day
from agent.analytics.funnel import summary
from agent.commands.api import OWNERS, CommandSpec, Context, Parsed
from agent.events import Action, Message, Say, SendImage, Whisper

MAX_DAYS = 90
_DAYS = patterns.compile(r"(\d+)\s*(?:d|天|日|days?)?", re.I)
_MONTH = patterns.compile(r"月|month", re.I)


def period(text: str) -> int:
    """'7d', '30天', '本月', 'month', '本周', '' → days to report (7 unless told otherwise)."""
    found = _DAYS.search(text)
    if found:
        return max(1, min(MAX_DAYS, int(found.group(1))))
    return 30 if _MONTH.search(text) else 7


def stats(parsed: Parsed, msg: Message, ctx: Context) -> list[Action]:
    days = period(parsed.text)
    group = ctx.group
    since, until = last_days(days, local_day(msg.ts, group.timezone))
    s = summary(ctx.services.store, group, since, until)
    text = "\n".join([ctx.sentence("stats_head", days=days, since=since, until=until),
                      ctx.sentence("stats_body", **wording.variables(s, group.language, ctx.services.settings.llm))])
    out = ctx.services.settings.data_dir / "analytics" / f"stats-{group.id}-{msg.sender.id}.png"
    from agent.analytics import charts  # here: matplotlib is 26 MB of RSS the bot needs only for /stats
    actions = [Whisper(msg.sender.id, text), SendImage(str(charts.save(s, group.language, out)), contact_id=msg.sender.id)]
    if not msg.private:
        actions.append(Say(group.id, ctx.sentence("stats_sent"), (msg.sender.id,)))
    return actions


COMMANDS = (CommandSpec("stats", ("stats", "统计"), "/stats [7d|30d]", stats, roles=OWNERS),)
