"""An owner answering a bot warning in the group: quoting it with "这不是广告" / "false alarm" withdraws it.

WeChat gives a reply only the quoted text (agent.channels.wechaty reads it into Message.quote), so the
route remembers each warning it posts (which strike, which case, whose message) and a reply is matched
back to the latest warning of the group whose text the quote holds, or that holds the quote; a quote that
names a member ("@小明 提醒一下…") prefers that member's warning. The reply counts only from an owner
(by contact id, or the room owner the channel vouches for): a member writing the same words is judged
like any member message, and admins decide with /case. A warning that opened a case is dismissed as the
case (`/case N dismiss`); otherwise its strike is withdrawn here and the message is filed as the owners'
negative example (agent.moderation.feedback). Warnings are remembered for REPLY_HOURS only.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from agent import patterns
from agent.events import Action, Decision, DecisionKind, Message, Role, Say, Whisper
from agent.moderation import cases, feedback
from agent.moderation.articles import label
from agent.moderation.commands import read_dismissal
from agent.commands.api import Context
from agent.state import moderation as state
from agent.store import Store
from agent.textnorm import compact

REPLY_HOURS = 72  # a reply to a warning older than this is not matched to it
MIN_OVERLAP = 6  # a shorter quote matches no warning; a longer one cut off by WeChat still does
_MENTION = patterns.compile(r"^\s*@(\S+?)[\s\u2005]")

def remember(store: Store, group_id: str, message_id: str, case_id: int | None, member_id: str, member_name: str,
             kind: str, warning: str, ts: datetime) -> None:
    """Keep what a warning said and which message it was about, so an owner's reply to it can withdraw
    it. The strike is found by its message id: during a decision the store holds it until the message
    is marked seen, so it has no row id yet; the warning is held with it, in the same transaction."""
    state.remember_warning(store, group_id, message_id, case_id, member_id, member_name, kind, warning, ts,
                           forget_before=ts - timedelta(hours=REPLY_HOURS))


def is_dismissal(message: Message) -> bool:
    """An owner replying to a quoted message with words that call it a false alarm (cheap: the route's
    predicate). The pipeline stamped the role from the contact id."""
    return message.sender.role == Role.OWNER and bool(message.quote) and read_dismissal(message.text)


def quoted(store: Store, group_id: str, quote: str, now: datetime):
    """The latest warning of the group within REPLY_HOURS that the quote is (part of), or None."""
    named = _MENTION.match(quote)
    said = compact(_MENTION.sub("", quote).rstrip(" .…"))  # a long quote arrives cut, with an ellipsis
    if len(said) < MIN_OVERLAP:
        return None
    rows = state.recent_warnings(store, group_id, now - timedelta(hours=REPLY_HOURS))
    matching = [r for r in rows if said in compact(r["warning"]) or compact(r["warning"]) in said]
    if named:
        matching = [r for r in matching if r["member_name"] == named.group(1)] or matching
    return matching[0] if matching else None


def dismiss(message: Message, ctx: Context) -> Decision | None:
    """Withdraw the quoted warning and teach the group's classifier; None when the quote is no warning
    of ours (the message goes on to the next route)."""
    store, group = ctx.services.store, ctx.group
    warning = quoted(store, group.id, message.quote or "", message.ts)
    if warning is None:
        return None
    detail = {"intent": "case", "permitted": True, "warning": warning["id"]}
    if warning["case_id"] is not None:
        actions = cases.decide(warning["case_id"], "dismiss", message.sender, group, ctx.services, message.ts)
        state.close_warning(store, warning, withdraw=False)  # the case's dismissal withdrew it
        return Decision(DecisionKind.COMMAND, message.id, "moderation", actions=actions, detail=detail)
    strike = state.strike_of(store, group.id, warning["member_id"], warning["message_id"])
    if not state.close_warning(store, warning):
        actions: list[Action] = [Whisper(message.sender.id, ctx.sentence("feedback_already"))]
        return Decision(DecisionKind.COMMAND, message.id, "moderation", actions=actions, detail=detail)
    if strike:
        detail["example"] = feedback.add(store, group, warning["kind"], feedback.DISMISSED, strike["evidence"],
                                         message.sender.id, "reply", message.ts)
    text = ctx.sentence("feedback_withdrawn", member=warning["member_name"], label=label(warning["kind"], group.language))
    return Decision(DecisionKind.COMMAND, message.id, "moderation", actions=[Say(group.id, text, (warning["member_id"],))],
                    detail=detail)

