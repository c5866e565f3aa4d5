"""End to end through the real python-wechaty client, against the loopback puppet service on 127.0.0.1.

The routes here are scripted stand-ins (the real answer/moderation routes are tested on their own):
what is under test is the WeChat side — conversion of events, carrying out actions, order, pacing,
reconnects and de-duplication.
"""
from __future__ import annotations

import asyncio
import os
import signal
import threading
import time
from pathlib import Path

import pytest

from agent.channels import wechaty_actions
from agent.channels.runner import stop_on_signals
from agent.events import (Decision, DecisionKind, Kick, Kind, Message, Role, Say, SendImage, Whisper)
from agent.pipeline import Pipeline, Services
from agent.settings import GroupConfig, PacingSettings, Person, Settings
from agent.store import Store
from agent.testing.puppet import LoopbackPuppet
from agent.testing.rig import on_loopback

pytestmark = pytest.mark.e2e  # python-wechaty over gRPC to the loopback puppet service


OWNER, ALICE, BOB = "wxid_owner", "wxid_alice", "wxid_bob"


class Scripted:
    """Decides by the first word, records every message it sees (from the dispatch threads)."""

    name = "scripted"

    def __init__(self, image: Path | None = None):
        self.seen: list[Message] = []
        self.image = image
        self._lock = threading.Lock()

    def match(self, message, ctx):
        with self._lock:
            self.seen.append(message)
        return True

    def handle(self, m: Message, ctx) -> Decision:
        word, _, rest = m.text.partition(" ")
        g = m.group_id
        if word == "q":
            return Decision(DecisionKind.ANSWER, m.id, "answer", actions=[Say(g, f"答:{rest}", (m.sender.id,))])
        if word == "unknown" and m.to_bot:
            return Decision(DecisionKind.UNKNOWN, m.id, "answer", actions=[Say(g, "这个我不知道", (m.sender.id,))])
        if word == "spam":
            case = [Whisper(p.id, f"case: {m.sender.id} posted an ad in {g}") for p in ctx.group.owners]
            return Decision(DecisionKind.VIOLATION, m.id, "moderation",
                            actions=[Say(g, "请勿发广告（群规第1条）", (m.sender.id,)), *case])
        if word == "/kick" and m.sender.is_staff:
            return Decision(DecisionKind.COMMAND, m.id, "commands", actions=[Kick(g, rest.strip())])
        if word == "chart":
            return Decision(DecisionKind.COMMAND, m.id, "commands", actions=[SendImage(str(self.image), group_id=g)])
        if word.startswith("slow"):
            time.sleep(float(rest or 0.3))
            return Decision(DecisionKind.ANSWER, m.id, "answer", actions=[Say(g, f"done {m.text}")])
        if word == "seq":
            return Decision(DecisionKind.ANSWER, m.id, "answer", actions=[Say(g, m.text)])
        return Decision(DecisionKind.IGNORE, m.id, "ignore")

    def texts(self) -> list[str]:
        return [m.text for m in self.seen]


class Welcome:
    """Stands in for agent.llm.prompts.Prompts: renders the welcome from the values the pipeline passes."""

    def render(self, template, lang, **values):
        return f"欢迎 {values.get('name')} 加入 {values.get('group')}"


def group(gid: str, **kw) -> GroupConfig:
    return GroupConfig(id=gid, name=f"群{gid}", room_id=f"room-{gid}", theme="公众号运营",
                       owners=[Person(id=OWNER, name="群主")],
                       members=[Person(id=ALICE, name="Alice"), Person(id=BOB, name="Bob")], **kw)


def settings_for(tmp_path: Path, groups: list[GroupConfig], **pacing) -> Settings:
    return Settings(data_dir=tmp_path, groups={g.id: g for g in groups},
                    pacing=PacingSettings(group_gap_s=pacing.get("group_gap_s", 0),
                                          account_gap_s=pacing.get("account_gap_s", 0)))


def pipeline_for(settings: Settings, route: Scripted, observer=None, store: Store | None = None) -> Pipeline:
    services = Services(settings=settings, store=store or Store(), kb=None, prompts=Welcome())
    return Pipeline(services, [route], observers=[observer] if observer else [])


class MemberEvents:
    """Pipeline observer: the joins and leaves it was told of."""

    def __init__(self):
        self.joins: list[str] = []
        self.leaves: list[str] = []

    def joined(self, group_id, member, ts):
        self.joins.append(member.id)

    def left(self, group_id, member, ts):
        self.leaves.append(member.id)


class Decisions:
    """Observer: every (message, decision) the runner produced, in the order it produced them."""

    def __init__(self):
        self.items: list[tuple[Message, Decision | None]] = []

    def __call__(self, message, decision):
        self.items.append((message, decision))

    def ids(self) -> list[str]:
        return [m.id for m, d in self.items if d is not None]


@pytest.fixture
def g1():
    return group("g1")


@pytest.fixture
def route(tmp_path):
    image = tmp_path / "chart.png"
    image.write_bytes(b"\x89PNG fake chart")
    return Scripted(image)


async def test_room_message_is_answered_with_a_mention(tmp_path, g1, route):
    settings = settings_for(tmp_path, [g1])
    async with on_loopback(settings, pipeline_for(settings, route)) as (lb, channel):
        lb.say(g1, ALICE, "q 几点开课", mentions=("bot",))
        [reply] = await lb.wait_for(lambda: lb.texts(g1))
    assert reply.mentions == (ALICE,)
    assert reply.text.startswith("@Alice") and reply.text.endswith("答:几点开课")
    [seen] = route.seen
    assert seen.group_id == "g1" and seen.sender.id == ALICE and seen.sender.role == Role.MEMBER
    assert seen.to_bot and seen.text == "q 几点开课" and seen.mentions == ("bot",)


async def test_bot_is_addressed_by_name_when_the_service_gives_no_mention_ids(tmp_path, g1, route):
    settings = settings_for(tmp_path, [g1])
    async with on_loopback(settings, pipeline_for(settings, route)) as (lb, _):
        lb.say(g1, ALICE, "@小助手\u2005unknown 退款怎么办")
        lb.say(g1, ALICE, "unknown 没有点名")
        await lb.wait_for(lambda: len(route.seen) == 2)
        [reply] = await lb.wait_for(lambda: lb.texts(g1))
    assert [m.to_bot for m in route.seen] == [True, False]
    assert route.seen[0].text == "unknown 退款怎么办"
    assert reply.text.endswith("这个我不知道") and reply.mentions == (ALICE,)


@pytest.mark.parametrize("trusted", [True, False])
async def test_the_rooms_wechat_owner_is_an_owner_only_where_the_config_trusts_it(tmp_path, route, trusted):
    g = group("g1").model_copy(update={"owners": [], "trust_room_owner": trusted})  # config names no owner
    settings = settings_for(tmp_path, [g])
    lb = LoopbackPuppet()
    lb.add_room("room-g1", "群g1", owner_id="wxid_boss", member_ids=[ALICE])
    async with on_loopback(settings, pipeline_for(settings, route), puppet=lb):
        lb.say("room-g1", "wxid_boss", "hello")
        lb.say("room-g1", ALICE, "hello")
        await lb.wait_for(lambda: len(route.seen) == 2)
    assert [m.sender.role for m in route.seen] == [Role.OWNER if trusted else Role.MEMBER, Role.MEMBER]


async def test_violation_sends_the_owner_a_private_case_file(tmp_path, g1, route):
    settings = settings_for(tmp_path, [g1])
    async with on_loopback(settings, pipeline_for(settings, route)) as (lb, _):
        lb.say(g1, BOB, "spam 加我微信领红包")
        [case] = await lb.wait_for(lambda: lb.private(OWNER))
        [warning] = await lb.wait_for(lambda: lb.texts(g1))
    assert case.room_id is None and "wxid_bob" in case.text
    assert warning.mentions == (BOB,) and "群规第1条" in warning.text


async def test_kick_after_the_owners_command_and_the_leave_is_counted(tmp_path, g1, route):
    settings = settings_for(tmp_path, [g1])
    events = MemberEvents()
    async with on_loopback(settings, pipeline_for(settings, route, events)) as (lb, channel):
        lb.say(g1, ALICE, f"/kick {BOB}")  # a member cannot
        lb.say(g1, OWNER, f"/kick {BOB}")
        [kick] = await lb.wait_for(lambda: lb.kicks())
        await channel.runner.drain(5)
        await lb.wait_for(lambda: events.leaves == [BOB])
    assert (kick.room_id, kick.to_id) == ("room-g1", BOB)
    assert BOB not in lb.rooms["room-g1"].member_ids


async def test_welcome_on_join(tmp_path, g1, route):
    settings = settings_for(tmp_path, [g1])
    events = MemberEvents()
    async with on_loopback(settings, pipeline_for(settings, route, events)) as (lb, _):
        lb.join(g1, "wxid_new", "新人")
        [welcome] = await lb.wait_for(lambda: lb.texts(g1))
    assert welcome.mentions == ("wxid_new",) and "欢迎 新人 加入 群g1" in welcome.text
    assert events.joins == ["wxid_new"]


async def test_unmanaged_rooms_and_own_messages_are_ignored(tmp_path, g1, route):
    settings = settings_for(tmp_path, [g1])
    decisions = Decisions()
    lb = LoopbackPuppet([g1], echo_self=True)
    lb.add_room("room-other", "别的群", owner_id="wxid_x", member_ids=[ALICE])
    async with on_loopback(settings, pipeline_for(settings, route), puppet=lb, observer=decisions):
        lb.say("room-other", ALICE, "q 这里不归我管")
        lb.say(g1, ALICE, "q first")
        await lb.wait_for(lambda: lb.texts(g1))  # the bot's reply is echoed back as a message event
        last = lb.say(g1, ALICE, "hello")  # arrives after the echo, so the echo was handled before it
        await lb.wait_for(lambda: last in decisions.ids())
    assert route.texts() == ["q first", "hello"]
    assert lb.texts("room-other") == []
    assert not any(m.sender.id == "bot" for m in route.seen)


async def test_a_topic_alone_binds_no_room_until_a_configured_owner_says_bind(tmp_path, route):
    g = group("g1").model_copy(update={"room_id": None, "topic": "自媒体写作互助群"})
    settings = settings_for(tmp_path, [g])
    lb = LoopbackPuppet()
    lb.add_room("r-123", "自媒体写作互助群", owner_id=OWNER, member_ids=[ALICE])
    lb.add_room("r-456", "自媒体写作互助群2", owner_id=OWNER, member_ids=[ALICE])
    async with on_loopback(settings, pipeline_for(settings, route), puppet=lb) as (_, channel):
        assert channel.room_of_group == {}
        lb.say("r-123", ALICE, "q 还没绑定")
        lb.say("r-123", ALICE, "/bind")  # a member's /bind binds nothing
        lb.say("r-456", OWNER, "/bind")  # nor does the owner's in a room without the topic
        lb.say("r-123", OWNER, "/bind")
        await lb.wait_for(lambda: route.seen)
        lb.say("r-123", ALICE, "q 这个")
        [reply] = await lb.wait_for(lambda: lb.texts("r-123"))
        assert channel.room_of_group == {"g1": "r-123"}
    assert route.texts() == ["/bind", "q 这个"] and reply.text.endswith("答:这个")
    assert lb.texts("r-456") == []


async def test_non_text_kinds_reach_the_pipeline_typed(tmp_path, g1, route):
    settings = settings_for(tmp_path, [g1])
    lb = LoopbackPuppet([g1])
    lb.add_contact("wxid_card", "卖课老师")
    async with on_loopback(settings, pipeline_for(settings, route), puppet=lb):
        lb.say(g1, BOB, kind=Kind.IMAGE, data=b"\x89PNG qr", filename="qr.png")
        lb.say(g1, BOB, "限时优惠", kind=Kind.LINK, url="https://spam.example/x", title="免费领取")
        lb.say(g1, BOB, "", kind=Kind.MINI_PROGRAM, url="pages/buy?id=1", title="拼团")
        lb.say(g1, BOB, kind=Kind.CONTACT_CARD, card_id="wxid_card")
        lb.say(g1, BOB, kind=Kind.FILE, filename="资料.zip")
        lb.say(g1, BOB, kind=Kind.RED_PACKET)
        lb.say(g1, BOB, kind=Kind.EMOJI)
        lb.say(g1, BOB, "「Alice：几点开课」\n- - - - - - - - - - - - - - -\n八点")
        await lb.wait_for(lambda: len(route.seen) == 8)
    image, link, mini, card, file, red, emoji, quoted = route.seen
    assert image.kind == Kind.IMAGE and image.payload == b"\x89PNG qr"
    assert (link.kind, link.url, link.text) == (Kind.LINK, "https://spam.example/x", "免费领取 限时优惠")
    # cards and mini-programs carry their identity as url: allow_accounts matches on it, not on names
    assert (mini.kind, mini.url, mini.text) == (Kind.MINI_PROGRAM, "wx-loopback", "拼团")
    assert (card.kind, card.url, card.text) == (Kind.CONTACT_CARD, "wxid_card", "卖课老师")
    assert (file.kind, file.text) == (Kind.FILE, "资料.zip")
    assert red.kind == Kind.RED_PACKET and emoji.kind == Kind.EMOJI
    assert (quoted.kind, quoted.quote, quoted.text) == (Kind.TEXT, "几点开课", "八点")


async def test_a_lone_surrogate_from_the_service_arrives_scrubbed(tmp_path, g1, route):
    settings = settings_for(tmp_path, [g1])
    async with on_loopback(settings, pipeline_for(settings, route)) as (lb, _):
        # protobuf fields cannot carry one; a link card's JSON payload can, as an escape
        lb.say(g1, BOB, kind=Kind.LINK, url="https://x.example/\ud83d", title="限时\udc00优惠")
        [link] = await lb.wait_for(lambda: route.seen)
    assert (link.text, link.url) == ("限时\ufffd优惠", "https://x.example/\ufffd")


async def test_private_messages_from_owners_only(tmp_path, route):
    g1, g2 = group("g1"), group("g2").model_copy(update={"owners": [Person(id="wxid_o2")]})
    settings = settings_for(tmp_path, [g1, g2])
    async with on_loopback(settings, pipeline_for(settings, route)) as (lb, _):
        lb.whisper(ALICE, "q 我不是群主")
        lb.whisper(OWNER, "q 我是群主")
        await lb.wait_for(lambda: route.seen)
        await asyncio.sleep(0.05)
    [seen] = route.seen
    assert (seen.group_id, seen.sender.id, seen.to_bot, seen.text) == ("g1", OWNER, True, "q 我是群主")
    assert seen.sender.role == Role.OWNER  # stamped by the pipeline from config


async def test_private_message_of_an_owner_of_two_groups_has_no_group(tmp_path, route):
    settings = settings_for(tmp_path, [group("g1"), group("g2")])
    seen: list[Message] = []

    class Recording(Pipeline):
        def dispatch(self, message):
            seen.append(message)
            return super().dispatch(message)

    pipeline = Recording(Services(settings=settings, store=Store(), kb=None, prompts=Welcome()), [route])
    async with on_loopback(settings, pipeline) as (lb, _):
        lb.whisper(OWNER, "/groups")
        await lb.wait_for(lambda: seen)
    assert seen[0].group_id is None and seen[0].to_bot and route.seen == []  # the lead's command route resolves


async def test_send_image(tmp_path, g1, route):
    settings = settings_for(tmp_path, [g1])
    async with on_loopback(settings, pipeline_for(settings, route)) as (lb, _):
        lb.say(g1, OWNER, "chart")
        [file] = await lb.wait_for(lambda: lb.files())
    assert (file.room_id, file.file_name, file.file_bytes) == ("room-g1", "chart.png", b"\x89PNG fake chart")


async def test_reconnects_after_a_dropped_stream_without_handling_twice(tmp_path, g1, route):
    settings = settings_for(tmp_path, [g1])
    decisions = Decisions()
    async with on_loopback(settings, pipeline_for(settings, route), observer=decisions) as (lb, channel):
        first = lb.say(g1, ALICE, "q 第一条")
        await lb.wait_for(lambda: lb.texts(g1))
        lb.drop_stream()
        lb.say(g1, ALICE, "q 断线时发的")  # kept by the service until the client is back
        await lb.wait_for(lambda: lb.connects == 2)
        lb.redeliver(first)
        last = lb.say(g1, ALICE, "q 之后")
        await lb.wait_for(lambda: last in decisions.ids())
        await lb.wait_for(lambda: len(lb.texts(g1)) == 3)
    assert route.texts() == ["q 第一条", "q 断线时发的", "q 之后"]
    assert decisions.ids().count(first) == 1
    assert channel.sessions == 2  # reconnected once (how fast is bench/bench_wechaty_load.py's to tell)


async def test_a_restarted_service_is_reconnected_with_backoff_and_nothing_is_lost(tmp_path, g1, route):
    settings = settings_for(tmp_path, [g1])
    from agent.channels.wechaty import Backoff

    async with on_loopback(settings, pipeline_for(settings, route), backoff=Backoff(first=0.05, cap=0.2)) as (lb, ch):
        lb.say(g1, ALICE, "q before")
        await lb.wait_for(lambda: lb.texts(g1))
        await lb.restart(down_s=0.5)  # connection reset and port closed for half a second
        lb.say(g1, ALICE, "q after")
        await lb.wait_for(lambda: len(lb.texts(g1)) == 2, timeout=10)
    assert route.texts() == ["q before", "q after"]
    assert ch.sessions >= 3  # at least one attempt failed while the port was closed


async def test_a_restarted_process_does_not_answer_a_redelivered_message_again(tmp_path, g1, route):
    """De-duplication lives in the store, not in the process: a new client with the same store skips it."""
    settings = settings_for(tmp_path, [g1])
    store = Store(tmp_path / "steward.db")
    lb = LoopbackPuppet([g1])
    async with on_loopback(settings, pipeline_for(settings, route, store=store), puppet=lb):
        first = lb.say(g1, ALICE, "q once")
        await lb.wait_for(lambda: lb.texts(g1))
    decisions = Decisions()
    async with on_loopback(settings, pipeline_for(settings, route, store=store), puppet=lb, observer=decisions):
        lb.redeliver(first)
        last = lb.say(g1, ALICE, "q twice?")
        await lb.wait_for(lambda: last in decisions.ids())
    assert route.texts() == ["q once", "q twice?"] and first not in decisions.ids()


async def test_a_slow_group_does_not_hold_up_others_and_order_is_kept(tmp_path, route):
    groups = [group(f"g{i}") for i in range(3)]
    settings = settings_for(tmp_path, groups)
    decisions = Decisions()
    async with on_loopback(settings, pipeline_for(settings, route), observer=decisions, workers=4) as (lb, _):
        slow = lb.say(groups[0], ALICE, "slow 0.5")
        after_slow = lb.say(groups[0], ALICE, "seq g0-1")
        sent = {g.id: [lb.say(g, ALICE, f"seq {g.id}-{n}") for n in range(10)] for g in groups[1:]}
        await lb.wait_for(lambda: all(i in decisions.ids() for ids in sent.values() for i in ids))
        assert slow not in decisions.ids()  # the others did not wait for it
        await lb.wait_for(lambda: after_slow in decisions.ids())
        await lb.wait_for(lambda: len(lb.texts()) == 22)
    ids = decisions.ids()
    assert ids.index(slow) < ids.index(after_slow)
    for gid, expected in sent.items():
        assert [i for i in ids if i in expected] == expected
        assert [s.text for s in lb.texts(gid)] == [f"seq {gid}-{n}" for n in range(10)]


async def test_sends_are_paced_per_group_and_per_account(tmp_path, route):
    g1, g2 = group("g1"), group("g2")
    settings = settings_for(tmp_path, [g1, g2], group_gap_s=0.15, account_gap_s=0.05)
    async with on_loopback(settings, pipeline_for(settings, route)) as (lb, _):
        for n in range(3):
            lb.say(g1, ALICE, f"seq a{n}")
            lb.say(g2, ALICE, f"seq b{n}")
        await lb.wait_for(lambda: len(lb.texts()) == 6, timeout=10)
    times = [s.t for s in lb.texts()]
    assert min(b - a for a, b in zip(times, times[1:])) >= 0.045
    for g in (g1, g2):
        t = [s.t for s in lb.texts(g)]
        assert min(b - a for a, b in zip(t, t[1:])) >= 0.14


async def test_stop_finishes_in_flight_work(tmp_path, g1, route):
    settings = settings_for(tmp_path, [g1])
    decisions = Decisions()
    lb = LoopbackPuppet([g1])
    async with on_loopback(settings, pipeline_for(settings, route), puppet=lb, observer=decisions):
        lb.say(g1, ALICE, "slow 0.3")
        lb.say(g1, ALICE, "seq queued behind it")
        await lb.wait_for(lambda: route.seen)  # being decided now; leaving the block sets stop
    assert [s.text for s in lb.texts(g1)] == ["done slow 0.3", "seq queued behind it"]


async def test_sigterm_sets_stop():
    stop = asyncio.Event()
    undo = stop_on_signals(stop)
    try:
        os.kill(os.getpid(), signal.SIGTERM)
        await asyncio.wait_for(stop.wait(), 2)
    finally:
        undo()
    assert stop.is_set()


async def test_a_send_that_timed_out_is_not_sent_again(tmp_path, g1, route):
    """The puppet carries out the send but its answer comes after the timeout: one copy, not two."""
    settings = settings_for(tmp_path, [g1])
    async with on_loopback(settings, pipeline_for(settings, route), send_timeout_s=0.5) as (lb, channel):
        lb.answer_delay_s = 1.0
        with pytest.raises(asyncio.TimeoutError):
            await channel.perform(Say("g1", "只发一次"))
        lb.answer_delay_s = 0.0
        assert await channel.perform(Say("g1", "下一条"))
        await lb.wait_for(lambda: [s.text for s in lb.texts(g1)][-1:] == ["下一条"], timeout=5)
    assert [s.text for s in lb.texts(g1)] == ["只发一次", "下一条"]


async def test_a_send_the_service_refused_is_retried_once(tmp_path, g1, route):
    """The call failed before the service carried it out (UNAVAILABLE): sent again, one copy; refused
    twice, the send fails."""
    settings = settings_for(tmp_path, [g1])
    async with on_loopback(settings, pipeline_for(settings, route)) as (lb, channel):
        lb.refuse["MessageSendText"] = 1
        assert await channel.perform(Say("g1", "第一条"))
        lb.refuse["MessageSendText"] = 2
        with pytest.raises(wechaty_actions.stream_errors()):
            await channel.perform(Say("g1", "第二条"))
    assert [s.text for s in lb.texts(g1)] == ["第一条"]


async def test_a_send_the_service_answered_with_an_error_is_not_retried(tmp_path, g1, route):
    """Any status but UNAVAILABLE is the service's answer to this send: it fails at once, tried once."""
    settings = settings_for(tmp_path, [g1])
    async with on_loopback(settings, pipeline_for(settings, route)) as (lb, channel):
        lb.refuse_status, lb.refuse["MessageSendText"] = "INTERNAL", 1
        before = lb.calls.get("MessageSendText", 0)
        with pytest.raises(wechaty_actions.stream_errors()):
            await channel.perform(Say("g1", "只试一次"))
        assert lb.calls["MessageSendText"] == before + 1
        assert await channel.perform(Say("g1", "下一条"))
    assert [s.text for s in lb.texts(g1)] == ["下一条"]


async def test_a_stalled_connection_is_noticed_by_the_ding_probe(tmp_path, g1, route):
    settings = settings_for(tmp_path, [g1])
    async with on_loopback(settings, pipeline_for(settings, route), probe_s=0.2) as (lb, channel):
        lb.stall()  # connection open, nothing answered: no error ever reaches the client
        await lb.wait_for(lambda: channel.dropped_at, timeout=5)
        lb.resume()
        lb.say(g1, ALICE, "q 还在吗")
        [reply] = await lb.wait_for(lambda: lb.texts(g1), timeout=10)
    assert reply.text.endswith("答:还在吗") and channel.sessions >= 2
