"""The command registry: every command as a spec, so parsing, permissions and /help come from one list."""
from __future__ import annotations

from dataclasses import dataclass

from agent.events import Role

OWNERS = frozenset({Role.OWNER})
STAFF = frozenset({Role.OWNER, Role.ADMIN})
EVERYONE = frozenset({Role.OWNER, Role.ADMIN, Role.MEMBER})


@dataclass(frozen=True)
class CommandSpec:
    name: str  # the intent, as eval and the LLM parser name it
    slash: tuple[str, ...]  # accepted slash words, first is canonical: /kb add, /kb_add
    usage: str  # shown on bad arguments and in /help
    roles: frozenset[Role] = STAFF
    needs_target: bool = False  # an @member argument
    needs_text: bool = False  # a free-text argument
    confirm: bool = False  # side effect on people: ask, then act on /confirm


SPECS: tuple[CommandSpec, ...] = (
    CommandSpec("help", ("help", "帮助"), "/help", roles=EVERYONE),
    CommandSpec("rules", ("rules", "群规"), "/rules", roles=EVERYONE),
    CommandSpec("kb_search", ("kb search", "kb_search", "查知识库"), "/kb search <关键词>", needs_text=True),
    CommandSpec("kb_add", ("kb add", "kb_add", "加知识"), "/kb add <内容>", needs_text=True),
    CommandSpec("warn", ("warn", "警告"), "/warn @成员 <理由>", needs_target=True),
    CommandSpec("kick", ("kick", "踢"), "/kick @成员", needs_target=True, confirm=True),
    CommandSpec("mute_bot", ("mute", "mute_bot", "安静"), "/mute [时长，如 2h、30m]"),
    CommandSpec("unmute_bot", ("unmute", "unmute_bot"), "/unmute"),
    CommandSpec("stats", ("stats", "统计"), "/stats [7d|30d]", roles=OWNERS),
    CommandSpec("broadcast", ("broadcast", "通知"), "/broadcast <内容>", needs_text=True, confirm=True),
    # schedule_add and schedule_cancel read their time from the phrase themselves ("改到10点")
    CommandSpec("schedule_add", ("schedule add", "schedule_add"), "/schedule add <时间> <内容>"),
    CommandSpec("schedule_list", ("schedule list", "schedule_list"), "/schedule list"),
    CommandSpec("schedule_cancel", ("schedule cancel", "schedule_cancel"), "/schedule cancel <编号或时间>"),
    CommandSpec("approve_draft", ("approve", "approve_draft"), "/approve <草稿编号>", needs_text=True),
    CommandSpec("reject_draft", ("reject", "reject_draft", "skip"), "/reject <草稿编号> [理由]", needs_text=True),
    CommandSpec("edit_draft", ("edit", "edit_draft"), "/edit <草稿编号> <新内容>", needs_text=True),
    # the case file was the proposal: deciding it needs no second confirmation
    CommandSpec("case", ("case", "案件"), "/case <编号> kick|warn|dismiss"),
    CommandSpec("why", ("why", "为什么"), "/why", roles=EVERYONE),
    CommandSpec("gaps", ("gaps", "待补充"), "/gaps"),
    CommandSpec("answer_gap", ("answer", "回答"), "/answer <编号> <答案>", needs_text=True),
    CommandSpec("confirm", ("confirm", "确认"), "/confirm"),
    # the room is bound by the channel before routing (agent/channels/binding.py); this only confirms
    CommandSpec("bind", ("bind", "绑定"), "/bind", roles=OWNERS),
)

BY_NAME = {s.name: s for s in SPECS}


def may_run(spec: CommandSpec, role: Role) -> bool:
    return role in spec.roles
