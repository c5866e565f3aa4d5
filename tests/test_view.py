"""One verdict per message: the view is worked out once before the routes, an off-topic question is
decided by the theme route alone, and the answer route, once it matches, always decides."""
from datetime import datetime, timedelta, timezone

import pytest

from agent.events import DecisionKind, Member, Message
from agent.routes.answer import AnswerRoute
from agent.routes.theme import ThemeRoute

CST = timezone(timedelta(hours=8))
NOON = datetime(2025, 3, 10, 12, 0, tzinfo=CST)


class Counting:
    """The group's judge, counting how often a message is judged."""

    def __init__(self, judges):
        self.judges, self.calls = judges, 0

    def __call__(self, group_id):
        outer, inner = self, self.judges(group_id)

        class Judge:
            def __getattr__(self, name):
                return getattr(inner, name)

            def judge(self, text, before=()):
                outer.calls += 1
                return inner.judge(text, before)

        return Judge()


def routes_of(app):
    answer = next(r for r in app.pipeline.routes if isinstance(r, AnswerRoute))
    theme = next(r for r in app.pipeline.routes if isinstance(r, ThemeRoute))
    return answer, theme


def ask(app, text, i):
    member = app.settings.groups["demo"].members[0]
    message = Message(id=f"view-{i}", group_id="demo", sender=Member(member.id, member.name), text=text, ts=NOON)
    return app.pipeline.dispatch(message)


@pytest.mark.e2e
def test_an_offtopic_question_is_the_theme_routes_alone_and_judged_once(demo_app):
    answer, theme = routes_of(demo_app)
    counting = Counting(theme.judges)
    answer.theme_judges = theme.judges = counting
    handled = []
    real_handle = answer.handle
    answer.handle = lambda m, c: handled.append(m) or real_handle(m, c)
    d = ask(demo_app, "你们周末去看电影吗？听说那部新片评分很高，哪家影院音效最好？", i=1)
    assert d.kind == DecisionKind.NUDGE and d.route == "theme"
    assert not handled  # the answer route did not take it only to hand it back
    assert counting.calls == 1  # one topic verdict, read by both routes


@pytest.mark.e2e
def test_an_on_topic_question_is_decided_by_the_answer_route(demo_app):
    answer, theme = routes_of(demo_app)
    counting = Counting(theme.judges)
    answer.theme_judges = theme.judges = counting
    d = ask(demo_app, "半马比赛途中能量胶大概多久吃一支？", i=2)
    assert d.route == "answer" and d.kind in (DecisionKind.ANSWER, DecisionKind.UNKNOWN)
    assert counting.calls <= 1


def test_the_view_is_made_once_and_lazily(settings):
    """Shape, glue and candidates are computed at most once per message, and only when asked for."""
    from collections import deque

    from agent.view import MessageView

    group = settings.groups["demo"]
    message = Message("v9", "demo", Member("m", "m"), "能量胶多久吃一支？", NOON)
    view = MessageView(message, group, deque())
    found = []
    assert view.candidates(lambda: found.append(1) or ["c"]) == ["c"]
    assert view.candidates(lambda: found.append(1) or ["d"]) == ["c"] and found == [1]
    assert view.question is view.question and view.question.is_question
    assert "glue" not in vars(view)  # never asked: never computed


def test_an_owners_question_in_the_group_is_for_the_members(settings, repo):
    """An owner asking in the group asks the members; addressed to the bot it is the bot's."""
    from collections import deque
    from dataclasses import replace

    from agent.events import Role
    from agent.llm.prompts import Prompts
    from agent.pipeline import Context, Services
    from agent.store import Store

    group = settings.groups["demo"]
    owner = group.owners[0]
    services = Services(settings=settings, store=Store(":memory:"), kb=None, prompts=Prompts(repo / "prompts"))
    ctx = Context(group=group, services=services, recent=deque())
    asked = Message("v10", "demo", Member(owner.id, owner.name, Role.OWNER), "这周六的训练几点集合？", NOON)
    route = AnswerRoute()
    assert route.asks(asked, ctx) and not route.match(asked, ctx)
    assert route.match(replace(asked, id="v11", to_bot=True), ctx)


def test_a_question_to_another_member_is_theirs_unless_the_bot_knows(settings, repo):
    """A member's question that @-mentions another member is asked of them: the bot records no gap
    for it (it steps in only with a confident answer)."""
    from collections import deque

    from agent.llm.prompts import Prompts
    from agent.pipeline import Context, Services
    from agent.store import Store

    group = settings.groups["demo"]
    member, other = group.members[0], group.members[1]
    services = Services(settings=settings, store=Store(":memory:"), kb=None, prompts=Prompts(repo / "prompts"))
    route = AnswerRoute()
    for i, mentions in enumerate([(other.id,), ()]):
        message = Message(f"v2{i}", "demo", Member(member.id, member.name), f"@{other.name} 周六几点集合？", NOON,
                          mentions=mentions)
        ctx = Context(group=group, services=services, recent=deque())
        ctx.view_of(message).candidates(lambda: [])  # retrieval found nothing
        assert route.match(message, ctx) is not bool(mentions)


class FixedJudge:
    """A theme judge that always gives the same probability (the topic rule, not the fit, is tested)."""

    def __init__(self, p):
        self.p = p

    def judge(self, text, before=()):
        from agent.theme.judge import Judgement

        return Judgement(self.p, 0.0, {})


def test_the_topic_verdict_a_short_reply_takes_its_talks_topic(settings):
    """Above the cut: off-topic by itself. Between the reply cut and the cut: off-topic only as a
    short reply inside off-topic talk (inherited); a long message there stays on topic."""
    from collections import deque

    from agent.theme.judge import cutoff
    from agent.theme.topic import topic

    group = settings.groups["demo"]
    policy = group.theme_policy
    short = Message("t1", "demo", Member("m", "m"), "真的假的", NOON)
    long = Message("t2", "demo", Member("m", "m"), "周六长距离跑前一晚吃什么比较好，要不要提前做碳水加载呢，我怕跑到一半没力气", NOON)
    above = FixedJudge(cutoff(policy.margin) + 0.01)
    between = FixedJudge((cutoff(policy.margin) + cutoff(policy.reply_margin)) / 2)
    assert topic(above, long, group, deque(), in_drift=False).offtopic
    assert not topic(between, short, group, deque(), in_drift=False).offtopic
    inherited = topic(between, short, group, deque(), in_drift=True)
    assert inherited.offtopic and inherited.inherited
    assert not topic(between, long, group, deque(), in_drift=True).offtopic
