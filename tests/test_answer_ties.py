"""When the judge cannot tell the two best passages apart (confidences within TIE), both are quoted
and both cited; a clear winner is quoted alone. Through the real app on the demo knowledge, with the
judged candidates fixed so the tie is the test's, not the model's."""
from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from agent.answering.confidence import Candidate
from agent.events import DecisionKind, Member, Message, Role
from agent.answering.confidence import TIE
from agent.routes.answer import AnswerRoute

TS = datetime(2026, 3, 7, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize("gap, both", [(TIE / 2, True), (TIE * 4, False)])
def test_a_near_tie_quotes_both_passages(app, monkeypatch, gap, both):
    group = app.settings.groups["demo"]
    first, second = _two(app, group)
    fixed = [replace(first, confidence=0.9), replace(second, confidence=0.9 - gap)]
    monkeypatch.setattr(AnswerRoute, "_found", lambda self, view, ctx: fixed)
    member = Member("wxid_member_ties", "小林", Role.MEMBER)
    d = app.pipeline.dispatch(Message("m-tie", group.id, member, f"@{group.bot_name} 周六几点集合，带什么装备？", TS,
                                      to_bot=True))
    assert d.kind == DecisionKind.ANSWER
    reply = d.actions[0].text
    assert first.extract.text in reply and (second.extract.text in reply) is both
    assert len(d.sources) == (2 if both else 1)
    [cited] = [line for line in reply.splitlines() if "出自知识库" in line]
    assert ("；" in cited) is both  # both cited on the source line


def _two(app, group) -> tuple[Candidate, Candidate]:
    """Two real candidates from different passages of the demo knowledge."""
    from collections import deque

    from agent.pipeline import Context

    route = next(r for r in app.pipeline.routes if isinstance(r, AnswerRoute))
    found = route.candidates("周六长距离几点集合，要带什么装备", Context(group, app.pipeline.services, deque()))
    distinct = [c for c in found if c.extract.text != found[0].extract.text]
    assert found and distinct
    return found[0], distinct[0]
