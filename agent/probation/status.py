"""Who is on probation now, and whether a message is a newcomer's agreement to the rules.

Identity is the contact id: a member has a probation row only from a join the bot saw (agent.state.
probation), so members who were there before the bot, and every eval member, are never on it.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from agent import patterns
from agent.moderation.ladder import stored_time
from agent.policies import ProbationPolicy
from agent.state import probation
from agent.store import Store

_AGREE = patterns.compile(  # read on the text without an @-mention, spaces or punctuation
    r"(好的?|嗯)?我?(已经?(阅读?|看)(过|完)?了?并?)?(同意|赞同|遵守)(群规|规则|以上)?了?|"
    r"(ok|okay|yes)?i?(haveread(and)?)?(agree|agreed)(to(the)?rules)?|i?(will)?followtherules"
)
_NOISE = patterns.compile(r"@\S+|[\s\W_]+")


def active(row, policy: ProbationPolicy, now: datetime) -> bool:
    """On probation: seen joining, not vouched for, and within the first messages or the first days."""
    if row is None or row["trusted_ts"] is not None or not policy.on:
        return False
    joined = stored_time(row["joined_ts"], now)
    return row["messages"] < policy.messages or now - joined < timedelta(days=policy.days)


def on_probation(store: Store, group, member_id: str, now: datetime) -> bool:
    if not group.probation.on:
        return False  # no query when the group has it off
    return active(probation.row(store, group.id, member_id), group.probation, now)


def is_agreement(text: str) -> bool:
    """"同意", "我同意群规", "I agree", "agreed!" (an @-mention and punctuation aside), and nothing more."""
    return _AGREE.fullmatch(_NOISE.sub("", text.casefold())) is not None
