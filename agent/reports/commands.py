"""/report (举报): a member's report of a quoted message, as a case file for the owners.

The first report of a message opens a case (kind "report") and whispers its file to every owner:
the message, the two around it, the reporter (owners only) and what the moderation detectors make of
the text as if a plain member had said it. Further members' reports of it only raise its count; the
owners hear of it once more when the count reaches `reports.notify_again_at`. Owners decide it with
/case like any case. A member whose reports the owners dismissed `dismissed_limit` times within
`window_days` may file only `limited_per_day` a day. The group never sees any of it.
"""
from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta

from agent import patterns, quoting
from agent.clock import local
from agent.commands.api import EVERYONE, CommandSpec, Context, Parsed
from agent.events import Action, Kind, Member, Message, Role, Whisper
from agent.moderation import cases, feedback
from agent.moderation.articles import label
from agent.moderation.detectors import detect
from agent.moderation.text import Text
from agent.reports.locate import Located, locate
from agent.state import moderation as cases_state, reports as state

QUOTED_CHARS = 300
NEIGHBOUR_CHARS = 120
REASON_CHARS = 100
# a quoted reply that is a report: the word first, a reason after it if any
TRIGGER = patterns.compile(r"^\s*[/／]?(举报|report)(?:[\s:：,，。!！]+(?P<reason>.*))?$", re.I | re.S)


def reason_of(text: str) -> str | None:
    """The reason a report gives ("" for none), or None when the text is not a report."""
    found = TRIGGER.match(text)
    return (found.group("reason") or "").strip()[:REASON_CHARS] if found else None


def report(parsed: Parsed, msg: Message, ctx: Context) -> list[Action]:
    """/report [reason] on a quoted message (the command route's entry; the report route's is `file`)."""
    return file(msg, parsed.text[:REASON_CHARS], ctx)


def file(msg: Message, reason: str, ctx: Context) -> list[Action]:
    """File `msg`'s report of the message it quotes; every reply is private."""
    group, store = ctx.group, ctx.services.store
    if not msg.quote or msg.group_id is None or msg.private:
        return [Whisper(msg.sender.id, ctx.sentence("report_usage"))]
    if limited(store, group, msg):
        return [Whisper(msg.sender.id, ctx.sentence("report_limited"))]
    found = locate(store, group.id, msg.quote, msg.ts)
    if found.sender_id == msg.sender.id:  # one's own message: nothing to tell the owners
        return [Whisper(msg.sender.id, ctx.sentence("report_thanks"))]
    filed = state.file(store, group.id, found.key, found.message_id, found.sender_id, found.text[:QUOTED_CHARS],
                       msg.sender.id, reason, msg.ts)
    thanks = Whisper(msg.sender.id, ctx.sentence("report_thanks"))
    name = _name(found, group)
    if filed.case_id is None and not filed.again:
        case_id = store.open_case(group.id, found.sender_id or "", "report", None, "review", msg.ts)
        state.link_case(store, filed.report_id, case_id)
        store.put(cases.name_key(case_id), name)
        text = case_file(case_id, found, name, msg, reason, ctx)
        return [thanks, *(Whisper(o.id, text) for o in group.owners)]
    if filed.case_id is not None and not filed.again and filed.count == group.reports.notify_again_at:
        case = cases_state.case(store, filed.case_id)
        if case is not None and case["status"] == "open":
            text = ctx.sentence("report_more", case_id=filed.case_id, group=group.name or group.id,
                                count=filed.count, member=name or ctx.sentence("report_sender_unknown"),
                                quoted=quoting.quote(found.text, NEIGHBOUR_CHARS))
            return [thanks, *(Whisper(o.id, text) for o in group.owners)]
    return [thanks]


def limited(store, group, msg: Message) -> bool:
    """Whether this member's reports are held back: owners dismissed too many of them lately and
    today's allowance is used up."""
    policy = group.reports
    if state.dismissed_since(store, group.id, msg.sender.id, msg.ts - timedelta(days=policy.window_days)) \
            < policy.dismissed_limit:
        return False
    return state.filed_since(store, group.id, msg.sender.id, msg.ts - timedelta(days=1)) >= policy.limited_per_day


def _name(found: Located, group) -> str:
    if found.sender_id is None:
        return ""
    return found.sender_name or group.name_of(found.sender_id)


def detectors_view(text: str, ctx: Context, msg: Message) -> str:
    """What moderation finds in the quoted text said by a plain member (findings, most decisive first)."""
    group = ctx.group
    quoted = replace(msg, text=text, quote=None, kind=Kind.TEXT, url=None, payload=None, to_bot=False,
                     sender=Member(msg.sender.id, "", Role.MEMBER))
    seen = Text.of(quoted, group.bot_name)
    found = feedback.apply(detect(seen, group), seen, group, ctx.services.store, msg.ts)
    if not found:
        return ctx.sentence("report_detectors_none")
    lines = [ctx.sentence("report_detector", label=label(f.kind, group.language), confidence=f"{f.confidence:.2f}",
                          reason=f.reason) for f in found]
    return ("；" if group.language == "zh" else "; ").join(lines)


def case_file(case_id: int, found: Located, name: str, msg: Message, reason: str, ctx: Context) -> str:
    group = ctx.group

    def near(n) -> str:
        if n is None:
            return ctx.sentence("report_no_neighbour")
        said = _clip(n.text, NEIGHBOUR_CHARS) if n.text else ctx.sentence("report_hidden")
        return ctx.sentence("report_neighbour", name=n.name, text=said)

    unknown = ctx.sentence("report_sender_unknown")
    return ctx.sentence(
        "report_case", case_id=case_id, group=group.name or group.id, member=name or unknown,
        member_id=found.sender_id or "-", reporter=msg.sender.name or group.name_of(msg.sender.id),
        reporter_id=msg.sender.id, reason=reason or ctx.sentence("report_no_reason"),
        time=local(found.ts or msg.ts, group.timezone).strftime("%Y-%m-%d %H:%M"),
        quoted=_clip(found.text, QUOTED_CHARS),
        before=near(found.before), after=near(found.after), detectors=detectors_view(found.text, ctx, msg))


def _clip(text: str, limit: int) -> str:
    """The owners' copy of a member's words: whole (they judge the handle or link), on one line, clipped."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "…"


COMMANDS = (
    CommandSpec("report", ("report", "举报"), "/report [理由]（引用要举报的消息）", report,
                roles=EVERYONE),
)
