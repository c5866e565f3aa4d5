"""Owners teaching moderation through the whole pipeline (the app on the shipped demo group): a warning
the owner answers "这不是广告" stops warning its look-alikes; a case the owner kicks flags its
look-alikes. Texts are written for these tests."""
from __future__ import annotations

import itertools
from datetime import datetime, timedelta

import pytest

from agent.events import DecisionKind, Member, Message, Say

T0 = datetime(2025, 6, 2, 20, 0)
ORANGES = "自家果园的脐橙熟了，十斤装只要59元包邮，想要的私聊"
ORANGES_AGAIN = "自家果园的脐橙熟了，十斤装只要69元包邮，想要的朋友私信"
GYM = "健身房新开业，办卡有优惠，感兴趣可以问我"
YOGA = "新开的瑜伽馆首月体验课半价，办卡更优惠，想去的私聊我"
YOGA_AGAIN = "新开的瑜伽馆首月体验课半价，想去的可以问我"
_ids = itertools.count()


def send(app, text, sender, at, quote=None, private=False):
    group = app.settings.groups["demo"]
    message = Message(f"fb-{next(_ids)}", None if private else "demo", Member(sender, group.name_of(sender)), text, at,
                      quote=quote, to_bot=private, private=private)
    return app.pipeline.dispatch(message)


def warning(decision) -> Say | None:
    said = [a for a in decision.actions if isinstance(a, Say)] if decision.kind == DecisionKind.VIOLATION else []
    return said[0] if said else None


@pytest.fixture
def case_app(settings, unit_parts):
    """The demo app with a case opened on the first strike, so an owner can kick at once."""
    from agent.app import build

    settings.groups["demo"].moderation.case_at = 1
    built = build(settings, ephemeral=True, **unit_parts)
    built.sync_knowledge()
    yield built
    built.close()


def test_an_owners_reply_to_a_warning_stops_its_look_alikes_from_another_member(app):
    group = app.settings.groups["demo"]
    owner, first, second, third = group.owners[0].id, group.members[0].id, group.members[1].id, group.members[2].id
    warned = warning(send(app, ORANGES, first, T0))
    assert warned is not None and warned.mentions == (first,)
    quote = f"@{group.name_of(first)}\u2005{warned.text}"  # as WeChat quotes the bot's warning
    done = send(app, "这不是广告，是群友自己家种的", third, T0 + timedelta(minutes=2), quote=quote)
    assert done.kind != DecisionKind.COMMAND and app.store.strikes("demo", first)  # a member's words change nothing
    done = send(app, "这不是广告，是群友自己家种的", owner, T0 + timedelta(minutes=3), quote=quote)
    assert done.kind == DecisionKind.COMMAND and done.route == "moderation"
    assert app.store.strikes("demo", first) == []
    later = send(app, ORANGES_AGAIN, second, T0 + timedelta(hours=1))
    assert later.kind != DecisionKind.VIOLATION and warning(later) is None


def test_a_kicked_case_flags_its_look_alike_that_was_only_a_hint_before(case_app):
    app = case_app
    group = app.settings.groups["demo"]
    owner, first, second, third = group.owners[0].id, group.members[0].id, group.members[1].id, group.members[2].id
    assert send(app, YOGA_AGAIN, third, T0).kind != DecisionKind.VIOLATION  # a hint, not a warning, without a model
    opened = send(app, YOGA, first, T0 + timedelta(minutes=1))
    case_id = opened.detail["case"]
    send(app, f"/case {case_id} kick", owner, T0 + timedelta(minutes=5), private=True)
    assert app.store.cases("demo")[0]["decision"] == "kick"
    again = send(app, YOGA_AGAIN, second, T0 + timedelta(hours=1))
    assert again.kind == DecisionKind.VIOLATION and again.violation.kind == "ad"
    assert "owners' example" in again.violation.reason and again.confidence >= 0.6


def test_an_owners_false_alarm_addressed_to_the_bot_is_feedback_not_a_command(app):
    """"@bot 误判了" quoting the warning reaches moderation even where the command banks would read the
    short text as an owner command; a slash command quoting a warning is still a command."""
    group = app.settings.groups["demo"]
    owner, first = group.owners[0].id, group.members[0].id
    warned = warning(send(app, GYM, first, T0))
    assert warned is not None
    quote = f"@{group.name_of(first)}\u2005{warned.text}"
    at = T0 + timedelta(minutes=1)
    message = Message("fb-addressed", "demo", Member(owner, group.name_of(owner)), "误判了", at, quote=quote, to_bot=True)
    done = app.pipeline.dispatch(message)
    assert done.kind == DecisionKind.COMMAND and done.route == "moderation"
    assert app.store.strikes("demo", first) == []
    slash = Message("fb-slash", "demo", Member(owner, group.name_of(owner)), "/help", at + timedelta(minutes=1),
                    quote=quote, to_bot=True)
    assert app.pipeline.dispatch(slash).route == "commands"
