"""Dispatch: ordered routes, first match wins, failures contained, duplicates and strangers dropped."""
import threading
from datetime import datetime, timedelta, timezone

import pytest

from agent.events import Decision, DecisionKind, Member, Message, Role, Say
from agent.llm.prompts import Prompts
from agent.pipeline import Pipeline, Services
from agent.store import Store

T0 = datetime(2025, 3, 10, 10, 0, tzinfo=timezone(timedelta(hours=8)))


class Route:
    def __init__(self, name, matches=True, decides=True, fails=False):
        self.name, self.matches, self.decides, self.fails = name, matches, decides, fails
        self.seen = []

    def match(self, message, ctx):
        return self.matches

    def handle(self, message, ctx):
        self.seen.append(message)
        if self.fails:
            raise RuntimeError("boom")
        if not self.decides:
            return None
        return Decision(DecisionKind.ANSWER, message.id, self.name, actions=[Say(ctx.group.id, "hi")])


def msg(i, sender="wxid_m", group="demo", text="你好", ts=T0):
    return Message(id=f"m{i}", group_id=group, sender=Member(sender, "某人"), text=text, ts=ts)


@pytest.fixture
def services(settings, repo):
    return Services(settings=settings, store=Store(":memory:"), kb=None, prompts=Prompts(repo / "prompts"))


def test_first_matching_route_decides(services):
    a, b, c = Route("a", matches=False), Route("b", decides=False), Route("c")
    d = Pipeline(services, [a, b, c]).dispatch(msg(1))
    assert d.route == "c" and not a.seen and len(b.seen) == 1


def test_no_route_deciding_means_ignore(services):
    d = Pipeline(services, [Route("a", decides=False)]).dispatch(msg(1))
    assert d.kind == DecisionKind.IGNORE and d.route == "ignore"


def test_a_failing_route_is_contained(services):
    d = Pipeline(services, [Route("bad", fails=True), Route("good")]).dispatch(msg(1))
    assert d.route == "good"


def test_duplicate_ids_unmanaged_groups_and_own_messages_are_dropped(services):
    p = Pipeline(services, [Route("a")])
    assert p.dispatch(msg(1)) is not None
    assert p.dispatch(msg(1)) is None  # redelivered after a reconnect
    assert p.dispatch(msg(2, group="someone-elses-group")) is None
    bot = Message(id="m3", group_id="demo", sender=Member("wxid_bot", "bot", Role.BOT), text="x", ts=T0)
    assert p.dispatch(bot) is None


def test_roles_come_from_config_ids_not_names(services):
    route = Route("a")
    p = Pipeline(services, [route])
    owner = services.settings.groups["demo"].owners[0]
    p.dispatch(msg(1, sender=owner.id))
    p.dispatch(Message(id="m2", group_id="demo", sender=Member("wxid_fake", owner.name), text="x", ts=T0))
    assert route.seen[0].sender.role == Role.OWNER
    assert route.seen[1].sender.role == Role.MEMBER  # same display name, different contact id


def test_muted_group_keeps_deciding_but_says_nothing(services):
    p = Pipeline(services, [Route("a")])
    services.store.put("mute:demo", (T0 + timedelta(hours=2)).isoformat())
    d = p.dispatch(msg(1))
    assert d.kind == DecisionKind.ANSWER and d.actions == [] and d.detail["muted"]
    later = p.dispatch(msg(2, ts=T0 + timedelta(hours=3)))
    assert later.actions  # the mute expired


class Seen:
    def __init__(self):
        self.events = []

    def decided(self, message, decision):
        self.events.append(("decided", message.id, decision.kind))

    def joined(self, group_id, member, ts):
        self.events.append(("joined", group_id, member.id))

    def left(self, group_id, member, ts):
        raise RuntimeError("an observer's bug")


def test_welcome_on_join_lists_the_rules_and_observers_see_events(services):
    seen = Seen()
    p = Pipeline(services, [Route("a")], observers=[seen])
    actions = p.on_join("demo", Member("wxid_new", "新人"), T0)
    group = services.settings.groups["demo"]
    assert len(actions) == 1 and actions[0].mentions == ("wxid_new",)
    assert group.rules[0].text in actions[0].text and group.bot_name in actions[0].text
    p.dispatch(msg(1))
    p.on_leave("demo", Member("wxid_new", "新人"), T0)  # a failing observer is contained
    assert seen.events == [("joined", "demo", "wxid_new"), ("decided", "m1", DecisionKind.ANSWER)]


class Crash(BaseException):
    """Stands for the process dying mid-decision (not an Exception, so no route catches it)."""


class Dies:
    name = "dies"

    def match(self, message, ctx):
        return True

    def handle(self, message, ctx):
        raise Crash


def test_a_crash_while_deciding_leaves_the_redelivery_to_be_decided(services):
    with pytest.raises(Crash):
        Pipeline(services, [Dies()]).dispatch(msg(1))
    restarted = Pipeline(services, [Route("a")])  # same store, as after a restart
    assert restarted.dispatch(msg(1)).route == "a"
    assert restarted.dispatch(msg(1)) is None  # now it was decided: a later redelivery is dropped


class Gate:
    """A route that waits inside handle until released, to overlap two deliveries of one id."""

    name = "gate"

    def __init__(self):
        self.entered, self.release, self.calls = threading.Event(), threading.Event(), 0

    def match(self, message, ctx):
        return True

    def handle(self, message, ctx):
        self.calls += 1
        self.entered.set()
        self.release.wait(5)
        return Decision(DecisionKind.ANSWER, message.id, self.name, actions=[Say(ctx.group.id, "hi")])


def test_a_redelivery_during_the_decision_is_dropped(services):
    gate = Gate()
    p = Pipeline(services, [gate])
    results = []
    first = threading.Thread(target=lambda: results.append(p.dispatch(msg(1))))
    first.start()
    assert gate.entered.wait(5)
    assert p.dispatch(msg(1)) is None  # the same id again while the first is being decided
    gate.release.set()
    first.join(5)
    assert gate.calls == 1 and results[0].route == "gate"


def test_a_long_message_is_judged_on_its_head_and_tail(services):
    route = Route("a")
    p = Pipeline(services, [route])
    limit = services.settings.judge_chars
    text = "头" * 10 + "x" * (limit * 5) + "尾" * 10
    assert p.dispatch(msg(1, text=text)) is not None
    judged = route.seen[0].text
    assert len(judged) <= limit and judged.startswith("头" * 10) and judged.endswith("尾" * 10)
    p.dispatch(msg(2, text="短消息"))
    assert route.seen[1].text == "短消息"


def test_lone_surrogates_are_replaced_before_anything_is_written(services):
    route = Route("a")
    p = Pipeline(services, [route])
    broken = Message(id="m1", group_id="demo", sender=Member("wxid_m", "名\ud83d"), text="半个表情\ud83d", ts=T0,
                     quote="引用\udc00")
    d = p.dispatch(broken)
    assert d is not None
    judged = route.seen[0]
    for value in (judged.text, judged.sender.name, judged.quote):
        value.encode("utf-8")  # would raise on a lone surrogate
    assert judged.text.startswith("半个表情")
    services.store.add_strike("demo", "wxid_m", "ad", None, judged.id, judged.text, T0)  # the write that failed
