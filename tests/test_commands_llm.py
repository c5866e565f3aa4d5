"""Natural commands the patterns miss are read by the model; the model only proposes."""
from datetime import datetime, timedelta, timezone

from agent.commands.understand import understand, worth_asking
from agent.events import Member, Message, Role
from agent.llm.prompts import Prompts
from agent.llm.provider import Completion, LLMUnavailable

T0 = datetime(2025, 3, 10, 10, 0, tzinfo=timezone(timedelta(hours=8)))


class Scripted:
    """A fake model: returns the queued texts and records what it was asked."""

    def __init__(self, *texts):
        self.texts, self.asked = list(texts), []

    def complete(self, system, user, max_tokens):
        self.asked.append((system, user))
        text = self.texts.pop(0)
        if isinstance(text, Exception):
            raise text
        return Completion(text, 50, 10, "fake")


def msg(text, to_bot=True, role=Role.MEMBER):
    return Message(id="m", group_id="demo", sender=Member("wxid_x", "x", role), text=text, ts=T0, to_bot=to_bot)


def sentence(repo):
    prompts = Prompts(repo / "prompts")
    return lambda name, **v: prompts.render(name, "zh", **v)


def test_only_staff_instructions_to_the_bot_are_worth_a_call():
    assert worth_asking(msg("@小跑 帮忙记一下：周六改到7点集合", role=Role.OWNER))
    assert not worth_asking(msg("@小跑 帮忙记一下：周六改到7点集合"))  # a member's words never cost a call
    assert not worth_asking(msg("周六几点集合？", role=Role.OWNER))  # a question: the answer route's
    assert not worth_asking(msg("帮忙记一下", to_bot=False, role=Role.OWNER))  # not addressed


def test_the_model_proposes_a_known_intent_with_its_argument(repo):
    llm = Scripted('好的：{"intent": "kb_add", "text": "周六改到7点集合"}')
    parsed, used = understand(msg("@小跑 帮忙记一下：周六改到7点集合"), llm, sentence(repo))
    assert parsed.spec.name == "kb_add" and parsed.text == "周六改到7点集合" and used == 60
    assert "<message>" in llm.asked[0][1] and "帮忙记一下" not in llm.asked[0][0]  # member text only as data


def test_unknown_intents_garbage_and_outages_are_no_command(repo):
    for reply in ('{"intent": "delete_everything"}', "not json at all", '{"intent": "confirm"}',
                  LLMUnavailable("down")):
        parsed, _ = understand(msg("@小跑 把群解散了"), Scripted(reply), sentence(repo))
        assert parsed is None


def test_the_model_proposes_and_permissions_decide(app, repo, monkeypatch):
    """A member's words are never sent to the model; an owner's are, and the broadcast the model reads
    is still only proposed (awaiting /confirm)."""
    from agent.commands import bank
    from agent.routes.commands import CommandRoute
    from agent.pipeline import Context
    from collections import deque

    monkeypatch.setattr(bank, "fitted", lambda: (2.0, 0.0))  # the banks read nothing: the model's turn

    services = app.pipeline.services
    group = app.settings.groups["demo"]
    llm, services.llm = services.llm, Scripted('{"intent": "broadcast", "text": "今晚停训"}')
    try:
        ctx = Context(group=group, services=services, recent=deque())
        route = CommandRoute()
        member = Message(id="k1", group_id="demo", sender=Member("wxid_x", "x"), text="@小跑 跟大家说今晚停训",
                         ts=T0, to_bot=True)
        assert not route.match(member, ctx) and services.llm.asked == []
        owner = Message(id="k2", group_id="demo", sender=Member(group.owners[0].id, "o", Role.OWNER),
                        text="@小跑 跟大家说今晚停训", ts=T0, to_bot=True)
        d = route.handle(owner, ctx)
        assert d.detail == {"intent": "broadcast", "permitted": True} and d.llm_calls == 1
        assert "/confirm" in d.reply  # a side effect on people is still only proposed
    finally:
        services.llm = llm
