"""The owners' schedule commands: add, list, cancel and reschedule posts; approve, edit, skip drafts.

Declared here with their handlers (agent.commands.api). Schedule replies
go to the group like other command replies; draft review replies go privately to the owner, because
the review queue is private until a post goes out. A draft id is global, so an owner may review from
a private chat: the handler checks the sender is staff of the draft's own group.
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta

from agent import patterns
from agent.commands.api import CommandSpec, Context, Parsed
from agent.events import Message, Role, Say, Whisper
from agent.schedule import slots, timewords
from agent.schedule.drafting import MAX_CHARS
from agent.schedule.scheduler import Scheduler, Upcoming
from agent.schedule.store import Draft

STAFF = (Role.OWNER, Role.ADMIN)
PREVIEW = 24  # characters of a post shown in lists
_REF = r"(?:的)?(?:那条|那个)?(?:定时)?(?:推送|提醒|消息|通知|帖子)?"
_MOVE = patterns.compile(rf"^把?\s*(?P<from>.+?)\s*{_REF}\s*(?:改到|改成|改为|挪到|换到|推迟到|提前到|延后到)\s*(?P<to>.+?)[吧。!！]*$")
_RECURRING = patterns.compile(r"每(?:天|日|周|星期|礼拜)|\b(?:daily|weekly|every)\b", re.I)
_LEAD_IN = patterns.compile(r"^(?:在|于)?\s*[，,：:]?\s*")
_VERB = patterns.compile(r"^(?:定时)?(?:发|推送)(?:一|个)?(?:条|个|下)?(?:推送|通知|消息|公告)?(?:说)?[：:，,\s]*")
_REMIND = patterns.compile(r"^提醒(?:一下)?[：:，,\s]*")


def _scheduler(ctx: Context) -> Scheduler:
    s = ctx.services
    return Scheduler(s.settings, s.store, s.kb, s.prompts, s.llm)


def _now(msg: Message, ctx: Context) -> datetime:
    return msg.ts.astimezone(slots.zone(ctx.group.timezone))


def _arg(parsed: Parsed) -> str:
    """The command's text: the slash argument, or the whole natural phrase (its patterns capture none)."""
    return (parsed.text or parsed.extra.get("phrase", "")).strip()


def _say(ctx: Context, msg: Message, name: str, /, **values) -> list:
    return [Say(ctx.group.id, ctx.sentence(name, **values), (msg.sender.id,))]


def _usage(ctx: Context, msg: Message, parsed: Parsed) -> list:
    return _say(ctx, msg, "cmd_usage", usage=parsed.spec.usage)


# ---- schedule_add (and reschedule) ----
def schedule_add(parsed: Parsed, msg: Message, ctx: Context) -> list:
    """"/schedule add 2025-03-19 19:50 提醒…", "明天早上9点提醒大家…"; "把明天9点那条提醒挪到10点" moves one."""
    text, now = _arg(parsed), _now(msg, ctx)
    if (moved := _MOVE.match(text)) and _names_a_post(moved["from"], now):
        return _reschedule(moved["from"], moved["to"], parsed, msg, ctx)
    if _RECURRING.search(text):
        return _say(ctx, msg, "sched_recurring")
    when = timewords.find(text, now)
    if when is None or not when.has_time or _LEAD_IN.sub("", text[:when.start]):
        return _usage(ctx, msg, parsed)  # the time must come first, so text after it is the post
    body = _VERB.sub("", text[when.end:].strip(" ，,：:"))
    if _REMIND.match(body):
        body = ctx.sentence("sched_reminder", text=_REMIND.sub("", body))
    if not body.strip():
        return _usage(ctx, msg, parsed)
    if when.at <= now:
        return _say(ctx, msg, "sched_past", when=slots.show(ctx.group, when.at))
    if len(body) > MAX_CHARS:
        return _say(ctx, msg, "sched_too_long", chars=len(body), limit=MAX_CHARS)
    draft_id = _scheduler(ctx).add_once(ctx.group, body, when.at, msg.sender.id, msg.id, now)
    return _say(ctx, msg, "sched_added", id=draft_id, when=slots.show(ctx.group, slots.after_quiet(ctx.group, when.at)),
                text=body)


def _names_a_post(text: str, now: datetime) -> bool:
    """"明天早上9点" or "#3" and nothing else: so "9点 周六集合改到6:00" is a post to add, not a move."""
    found = timewords.find(text, now)
    return bool(patterns.fullmatch(r"#\s*\d+", text.strip())) or (found is not None and (found.start, found.end) == (0, len(text)))


def _reschedule(old: str, new: str, parsed: Parsed, msg: Message, ctx: Context) -> list:
    """Move the post named by `old` (its time, or "#id") to `new` (a time; the day stays if unsaid)."""
    now, sched = _now(msg, ctx), _scheduler(ctx)
    items = sched.upcoming(ctx.group, now)
    dst = timewords.find(new, now)
    if by_id := patterns.fullmatch(r"#\s*(\d+)", old.strip()):
        item = next((u for u in items if u.draft and u.draft.id == int(by_id[1])), None)
        if item is None:
            return _say(ctx, msg, "sched_not_found", what=old.strip())
    else:
        item = _one(items, timewords.find(old, now), msg, ctx)
        if not isinstance(item, Upcoming):
            return item
    if dst is None:
        return _usage(ctx, msg, parsed)
    was = (item.draft.post_at if item.draft else item.slot).astimezone(now.tzinfo)
    to = datetime.combine(dst.at.date() if dst.has_date else was.date(), dst.at.timetz() if dst.has_time else was.timetz())
    if dst.has_time and not dst.half_day and to.hour < 12 <= was.hour:
        to += timedelta(hours=12)  # "晚上8点的改到9点" means 21:00
    if to <= now:
        return _say(ctx, msg, "sched_past", when=slots.show(ctx.group, to))
    ok, review = sched.move(ctx.group, item, to, now)
    if not ok:
        return _say(ctx, msg, "sched_not_movable", what=_label(ctx, item))
    return _say(ctx, msg, "sched_moved", what=_label(ctx, item), when=slots.show(ctx.group, slots.after_quiet(ctx.group, to))) + review


# ---- schedule_list / schedule_cancel ----
def schedule_list(parsed: Parsed, msg: Message, ctx: Context) -> list:
    """The posts to come; each configured schedule's next slot is drafted first if it was not (its
    review goes privately to the owners), so the list names draft numbers to /approve."""
    sched, now = _scheduler(ctx), _now(msg, ctx)
    reviews = sched.draft_next(ctx.group, now)
    items = sched.upcoming(ctx.group, now)
    if not items:
        return _say(ctx, msg, "sched_list_empty")
    return _say(ctx, msg, "sched_list", items="\n".join(_label(ctx, u) for u in items)) + reviews


def schedule_cancel(parsed: Parsed, msg: Message, ctx: Context) -> list:
    """By draft id ("/schedule cancel 3") or by time ("取消周五21:00那条推送")."""
    text, now = _arg(parsed), _now(msg, ctx)
    sched = _scheduler(ctx)
    items = sched.upcoming(ctx.group, now)
    when = timewords.find(text, now)
    if when is not None:
        item = _one(items, when, msg, ctx)
    elif number := patterns.search(r"\d+", text):
        item = next((u for u in items if u.draft and u.draft.id == int(number.group())), None)
        if item is None:
            return _say(ctx, msg, "sched_not_found", what=f"#{number.group()}")
    else:
        return _usage(ctx, msg, parsed)
    if not isinstance(item, Upcoming):
        return item
    if not sched.cancel(ctx.group, item, msg.sender.id, now):
        return _say(ctx, msg, "sched_not_found", what=_label(ctx, item))
    return _say(ctx, msg, "sched_cancelled", what=_label(ctx, item))


def _one(items: list[Upcoming], when: timewords.When, msg: Message, ctx: Context) -> Upcoming | list:
    """The one upcoming post at `when` (that minute, or that day when no time was said), or a reply."""
    def local(at: datetime) -> datetime:
        return at.astimezone(when.at.tzinfo)

    def hit(u: Upcoming) -> bool:
        times = {local(u.at), local(u.draft.post_at if u.draft else u.slot)}
        if when.has_time:
            return any(t.replace(second=0, microsecond=0) == when.at for t in times)
        return any(t.date() == when.at.date() for t in times)

    found = [u for u in items if hit(u)]
    shown = slots.show(ctx.group, when.at) if when.has_time else when.at.date().isoformat()
    if not found:
        return _say(ctx, msg, "sched_not_found", what=shown)
    if len(found) > 1:
        return _say(ctx, msg, "sched_ambiguous", what=shown, items="\n".join(_label(ctx, u) for u in found))
    return found[0]


def _label(ctx: Context, u: Upcoming) -> str:
    when = slots.show(ctx.group, u.at)
    if u.draft is None:
        return ctx.sentence("sched_item_undrafted", when=when, schedule=u.schedule_id)
    preview = u.draft.text.replace("\n", " ")
    preview = preview if len(preview) <= PREVIEW else preview[:PREVIEW] + "…"
    return ctx.sentence(f"sched_item_{u.draft.status}", id=u.draft.id, when=when,
                        schedule="chat" if u.draft.from_chat else u.schedule_id, text=preview)


# ---- review: approve_draft / reject_draft / edit_draft ----
def approve_draft(parsed: Parsed, msg: Message, ctx: Context) -> list:
    draft, reply = _draft(parsed, msg, ctx)
    if draft is None:
        return reply
    sched = _scheduler(ctx)
    if not sched.drafts.update(draft.id, msg.ts, expect=("pending",), status="approved", editor=msg.sender.id):
        return _state(draft.id, msg, ctx, sched)
    return _whisper(msg, ctx, "sched_approved", id=draft.id, when=_when(ctx, draft))


def reject_draft(parsed: Parsed, msg: Message, ctx: Context) -> list:
    """/reject 3, /skip 3: this draft is not posted (the schedule's next slot is drafted as usual)."""
    draft, reply = _draft(parsed, msg, ctx)
    if draft is None:
        return reply
    sched = _scheduler(ctx)
    if not sched.drafts.update(draft.id, msg.ts, status="rejected", editor=msg.sender.id):
        return _state(draft.id, msg, ctx, sched)
    return _whisper(msg, ctx, "sched_rejected", id=draft.id)


def edit_draft(parsed: Parsed, msg: Message, ctx: Context) -> list:
    """/edit 3 <new text>: the owner's text replaces the draft and, being theirs, is approved."""
    found = patterns.match(r"\s*#?(\d+)\s*[：:，,]?\s*(.+)", _arg(parsed), re.S)
    if not found:
        return _whisper(msg, ctx, "cmd_usage", usage=parsed.spec.usage)
    draft, reply = _draft(parsed, msg, ctx)
    if draft is None:
        return reply
    text = found.group(2).strip()
    if len(text) > MAX_CHARS:
        return _whisper(msg, ctx, "sched_too_long", chars=len(text), limit=MAX_CHARS)
    sched = _scheduler(ctx)
    if sched.drafts.posts(draft.id) or not sched.drafts.update(
            draft.id, msg.ts, status="approved", text=text, editor=msg.sender.id):
        return _state(draft.id, msg, ctx, sched)
    return _whisper(msg, ctx, "sched_edited", id=draft.id, when=_when(ctx, draft), text=text)


def _draft(parsed: Parsed, msg: Message, ctx: Context) -> tuple[Draft | None, list]:
    """The draft the command names, if the sender is staff of its group; else (None, a reply)."""
    number = patterns.search(r"\d+", _arg(parsed))
    if number is None:
        return None, _whisper(msg, ctx, "cmd_usage", usage=parsed.spec.usage)
    draft = _scheduler(ctx).drafts.get(int(number.group()))
    home = ctx.services.settings.groups.get(draft.group_id) if draft else None
    if draft is None or home is None or (draft.group_id != ctx.group.id and home.role_of(msg.sender.id) not in STAFF):
        return None, _whisper(msg, ctx, "sched_no_draft", id=number.group())  # others' drafts are not named
    return draft, []


def _state(draft_id: int, msg: Message, ctx: Context, sched: Scheduler) -> list:
    """Why a review command changed nothing: the draft's current state, in words."""
    draft = sched.drafts.get(draft_id)
    state = ctx.sentence(f"sched_state_{draft.status}")
    return _whisper(msg, ctx, "sched_draft_state", id=draft_id, state=state)


def _when(ctx: Context, draft: Draft) -> str:
    home = ctx.services.settings.groups[draft.group_id]
    return slots.show(home, slots.after_quiet(home, draft.post_at))


def _whisper(msg: Message, ctx: Context, name: str, /, **values) -> list:
    return [Whisper(msg.sender.id, ctx.sentence(name, **values))]


COMMANDS = (
    # schedule_add and schedule_cancel read their time from the phrase themselves ("改到10点")
    CommandSpec("schedule_add", ("schedule add", "schedule_add"), "/schedule add <时间> <内容>", schedule_add),
    CommandSpec("schedule_list", ("schedule list", "schedule_list"), "/schedule list", schedule_list),
    CommandSpec("schedule_cancel", ("schedule cancel", "schedule_cancel"), "/schedule cancel <编号或时间>", schedule_cancel),
    CommandSpec("approve_draft", ("approve", "approve_draft"), "/approve <草稿编号>", approve_draft, needs_text=True),
    CommandSpec("reject_draft", ("reject", "reject_draft", "skip"), "/reject <草稿编号> [理由]", reject_draft,
                needs_text=True),
    CommandSpec("edit_draft", ("edit", "edit_draft"), "/edit <草稿编号> <新内容>", edit_draft, needs_text=True),
)
