"""Owners' decisions on case files: kick, warn or dismiss, carried out once and logged.

The case id names the group, so an owner may decide from a private chat with the bot whichever group
that chat resolved to; the decider must still be an owner or admin of the *case's* group. The case goes
from open to closed in one conditional update, so two owners answering at once decide it once and the
second is told who was first. A dismissed case was a false alarm: the strike that opened it is
withdrawn so it neither counts on the ladder nor shows up in /why; the closed case stays as the audit.
An owner's decision also teaches the group's classifier: a dismissal files the message as a negative
example, a kick or a warning as a positive (agent.moderation.feedback). Admins' decisions are carried
out but teach nothing: only owners' feedback counts.
"""
from __future__ import annotations

from datetime import datetime

from agent.clock import local
from agent.events import Action, Kick, Member, Role, Say, Whisper
from agent.blocklist import listing as blocklist
from agent.moderation import feedback
from agent.moderation.articles import label
from agent.commands.api import Services
from agent.quoting import display_name
from agent.settings import GroupConfig
from agent.state import moderation as state

DECISIONS = ("kick", "warn", "dismiss")
DECISION_WORDS = {
    "zh": {"kick": "移出群聊", "warn": "正式警告", "dismiss": "驳回（撤销这次记录）"},
    "en": {"kick": "removed from the group", "warn": "formally warned", "dismiss": "dismissed (the strike withdrawn)"},
}


def name_key(case_id: int) -> str:
    """Where the member's display name at the time of the case is kept: the cases table has no name
    column, and a contact id is no way to address anyone in a group."""
    return f"moderation.case:{case_id}:name"


def member_name(store, case, group: GroupConfig) -> str:
    return store.get(name_key(case["id"])) or group.name_of(case["member_id"])


def load(store, case_id: int):
    return state.case(store, case_id)


def may_decide(case_group: GroupConfig, decider: Member, here: str) -> bool:
    """Staff of the case's group by contact id, or staff the channel recognised in that very group
    (WeChat's own room owner); being staff of another group is not enough."""
    return case_group.role_of(decider.id) != Role.MEMBER or (decider.is_staff and here == case_group.id)


def evidence(store, case) -> str:
    """The text of the message that opened the case, from its strike (empty once purged or withdrawn)."""
    return state.evidence(store, case["id"])


def teaches(case_group: GroupConfig, decider: Member, here: str) -> bool:
    """An owner of the case's group by contact id, or the room owner the channel vouched for there."""
    return case_group.role_of(decider.id) == Role.OWNER or (decider.role == Role.OWNER and here == case_group.id)


def close(store, case, decision: str, decider_id: str, now: datetime) -> bool:
    """Record the decision if the case is still open; False when someone decided it first. A
    dismissal withdraws the strike that opened the case."""
    return state.close_case(store, case["id"], decision, decider_id, now)


def decide(case_id: int, decision: str, decider: Member, here: GroupConfig, services: Services,
           now: datetime) -> list[Action]:
    """Carry out an owner's decision on a case: the actions for the channel, replies included.

    `here` is the group the owner's message was resolved to; it only sets the language of a reply
    about a case that does not exist (or is not theirs, which reads the same)."""
    prompts, store = services.prompts, services.store
    case = load(store, case_id)
    group = services.settings.groups.get(case["group_id"]) if case is not None else None
    if group is None or not may_decide(group, decider, here.id):
        return [Whisper(decider.id, prompts.render("case_unknown", here.language, case_id=case_id))]

    def sentence(name: str, **values) -> str:
        return prompts.render(name, group.language, **values)

    member = display_name(member_name(store, case, group), sentence("name_fallback"))  # posted in the group
    if decision == "kick" and not case["member_id"]:  # a report of a message whose sender is not known
        return [Whisper(decider.id, sentence("case_no_member", case_id=case_id))]
    said = evidence(store, case)  # read first: a dismissal withdraws the strike that holds it
    if not close(store, case, decision, decider.id, now):
        case = load(store, case_id)
        return [Whisper(decider.id, sentence(
            "case_already", case_id=case_id, who=group.name_of(case["decided_by"]),
            time=local(case["decided_ts"], group.timezone).strftime("%Y-%m-%d %H:%M"),
            decision=DECISION_WORDS[group.language][case["decision"]]))]
    if teaches(group, decider, here.id):
        feedback.add(store, group, case["kind"], feedback.DISMISSED if decision == "dismiss" else feedback.CONFIRMED,
                     said, decider.id, f"case {case_id}", now)
    what = label(case["kind"], group.language)
    article = sentence("case_article", number=case["article"]) if case["article"] else sentence("case_any_article")
    done = DECISION_WORDS[group.language][decision]
    actions: list[Action] = []
    if decision == "kick":
        blocklist.after_case(store, case, decider.id, now)  # the operator's other groups hear of them
        actions += [Kick(group.id, case["member_id"]),
                    Say(group.id, sentence("case_kicked", member=member, label=what, article=article))]
    elif decision == "warn":
        actions.append(Say(group.id, sentence("case_warned", member=member, label=what, article=article),
                           (case["member_id"],)))
    place = group.name or group.id
    actions.append(Whisper(decider.id, sentence("case_done", case_id=case_id, group=place, member=member, decision=done)))
    actions += [Whisper(o.id, sentence("case_handled", case_id=case_id, group=place, member=member, decision=done,
                                       who=group.name_of(decider.id)))
                for o in group.owners if o.id != decider.id]
    return actions
