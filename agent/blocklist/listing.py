"""Putting a removed member on the blocklist: from an owner's case decision, or from /kick when the
member was removed for a scam or an ad (their strikes here say so, or the owner's words do)."""
from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from agent import patterns
from agent.state import blocklist as state, reports
from agent.state.tables import strikes

LISTED_KINDS = ("scam", "ad")  # what a manual kick must have been for
STRIKE_DAYS = 30
_SAYS = {"scam": patterns.compile(r"诈骗|骗子|骗钱|\bscam", patterns.IGNORECASE),
         "ad": patterns.compile(r"广告|推广|营销|\b(ad|ads|advert|spam)\b", patterns.IGNORECASE)}


def _evidence(store, where) -> list[str]:
    return [r["message_id"] for r in store.rows(sa.select(strikes.c.message_id).where(*where).order_by(strikes.c.id))]


def after_case(store, case, decider_id: str, now: datetime) -> bool:
    """A case decided as kick: its member goes on the list with the case's kind and its evidence."""
    if not case["member_id"]:
        return False
    evidence = _evidence(store, [strikes.c.case_id == case["id"]])
    report = reports.of_case(store, case["id"])
    if report is not None and report["message_id"]:
        evidence.append(report["message_id"])
    reason = case["kind"]
    if reason == "blocklist":  # a listed contact's case here: the listing's own reason, now this operator's
        known = state.entry(store, case["member_id"])
        reason, evidence = (known["reason"], known["evidence"]) if known else (reason, evidence)
    return state.add(store, case["member_id"], reason, evidence, case["group_id"], decider_id, "case", now)


def after_kick(store, group_id: str, member_id: str, words: str, decider_id: str, now: datetime) -> bool:
    """An owner's /kick: listed when it was for a scam or an ad."""
    struck = store.rows(sa.select(strikes.c.kind, strikes.c.message_id).where(
        strikes.c.group_id == group_id, strikes.c.member_id == member_id,
        strikes.c.ts >= now - timedelta(days=STRIKE_DAYS)).order_by(strikes.c.id))
    kinds = [r["kind"] for r in struck if r["kind"] in LISTED_KINDS]
    kinds += [k for k, said in _SAYS.items() if said.search(words or "")]
    if not kinds:
        return False
    evidence = [r["message_id"] for r in struck if r["kind"] in LISTED_KINDS]
    return state.add(store, member_id, kinds[0], evidence, group_id, decider_id, "kick", now)
