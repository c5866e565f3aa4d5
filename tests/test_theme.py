"""Theme guard: glue is never off-topic; the drift policy nudges rarely (window, cooldown, quiet
hours, daily cap, staff exempt, preview); the judge separates chatter from the group's own world."""
from collections import deque
from datetime import datetime, timedelta, timezone

import pytest

from agent.events import Decision, DecisionKind, Kind, Member, Message, Role
from agent.store import Store
from agent.theme.glue import is_glue, is_reaction
from agent.theme.judge import describe
from agent.theme.policy import should_nudge

CST = timezone(timedelta(hours=8))
NOON = datetime(2025, 3, 10, 12, 0, tzinfo=CST)


def msg(text, ts=NOON, role=Role.MEMBER, kind=Kind.TEXT, sender="wxid_m"):
    return Message(id=f"{text}-{ts}", group_id="demo", sender=Member(sender, "m", role), text=text, ts=ts, kind=kind)


@pytest.mark.parametrize("text", ["早上好呀☀️", "谢谢群主🙏", "收到", "+1", "哈哈哈哈哈", "[捂脸]", "大家晚安 明儿见🌙",
                                  "Thanks!", "good morning all", "欢迎欢迎～", "红包只有0.02 哈哈哈哈哈"])
def test_social_glue(text):
    assert is_glue(msg(text))


@pytest.mark.parametrize("text", ["上周末爬了趟山 景色超美 谁也去过吗", "长距离慢跑配速应该多少", "What pace should beginners run at?"])
def test_not_glue(text):
    assert not is_glue(msg(text))


@pytest.mark.parametrize("text,reaction", [("+1", True), ("对对对", True), ("666", True), ("谢谢🙏", False),
                                           ("omg thank you 🙏", False), ("哈哈哈哈", False), ("收到", False), ("早", False)])
def test_bare_reactions_are_told_from_greetings_thanks_and_laughter(text, reaction):
    assert is_glue(msg(text)) and is_reaction(msg(text)) is reaction


def test_red_packets_and_stickers_are_glue_whatever_their_text():
    assert is_glue(msg("新年红包 手快有 周末愉快 下周也要加油训练哦", kind=Kind.RED_PACKET))
    assert is_glue(msg("", kind=Kind.EMOJI))


def test_description_splits_on_and_off_topic(settings):
    group = settings.groups["demo"].model_copy(update={
        "description": "在题内：训练计划、配速、装备。\n不在题内：追星、买车租房、股票基金。\n一律违规：广告、刷屏。"})
    on, off = describe(group)
    assert "配速" in on and "股票基金" in off and "买车租房" in off
    assert not any("广告" in x for x in on + off)  # violations are moderation's, not the theme's


def test_the_closing_words_of_an_offtopic_list_are_not_an_offtopic_item(settings):
    """"…等和跑步无关的闲聊" names the theme to exclude it: the theme must not become off-topic."""
    group = settings.groups["demo"].model_copy(update={
        "description": "这些算跑题：理财、宠物、装修等和跑步、训练无关的话题。\nOff topic: stocks, pets and other chat unrelated to running."})
    _, off = describe(group)
    assert {"理财", "宠物", "装修", "stocks", "pets"} <= set(off)
    assert not any("跑步" in x or "训练" in x or "running" in x for x in off)


def offtopic_window(n, start=NOON):
    recent = deque(maxlen=12)
    for i in range(n):
        m = msg(f"闲聊{i}", ts=start + timedelta(minutes=i))
        recent.append((m, Decision(DecisionKind.NUDGE, m.id, "theme")))
    return recent


def test_single_offtopic_message_is_not_a_drift(settings):
    group, store = settings.groups["demo"], Store(":memory:")
    send, why = should_nudge(msg("闲聊"), group, deque(), store)
    assert not send and why == "not yet a drift"


def test_drift_nudges_once_then_cooldown_then_again(settings):
    group, store = settings.groups["demo"], Store(":memory:")
    need = group.theme_policy.min_offtopic_in_window
    recent = offtopic_window(need - 1)
    assert should_nudge(msg("又一条闲聊", ts=NOON + timedelta(minutes=10)), group, recent, store) == (True, "")
    assert should_nudge(msg("还在聊", ts=NOON + timedelta(minutes=11)), group, recent, store) == (False, "cooldown")
    later = NOON + timedelta(minutes=group.theme_policy.cooldown_minutes + 11)
    assert should_nudge(msg("继续聊", ts=later), group, offtopic_window(need - 1, later), store)[0]


def test_daily_cap(settings):
    group = settings.groups["demo"].model_copy(deep=True)
    group.theme_policy.cooldown_minutes, group.theme_policy.max_per_day = 0, 2
    store = Store(":memory:")
    sent = [should_nudge(msg(f"闲聊{i}", ts=NOON + timedelta(minutes=i)), group,
                         offtopic_window(5, NOON + timedelta(minutes=i)), store) for i in range(4)]
    assert [s for s, _ in sent] == [True, True, False, False] and sent[-1][1] == "daily cap"
    next_day = NOON + timedelta(days=1)
    assert should_nudge(msg("新的一天", ts=next_day), group, offtopic_window(5, next_day), store)[0]


def test_quiet_hours_staff_and_preview(settings):
    group, store = settings.groups["demo"].model_copy(deep=True), Store(":memory:")
    night = NOON.replace(hour=23, minute=30)
    assert should_nudge(msg("夜聊", ts=night), group, offtopic_window(5, night), store) == (False, "quiet hours")
    owner = msg("群主闲聊", role=Role.OWNER)
    assert should_nudge(owner, group, offtopic_window(5), store) == (False, "staff chatter")
    group.theme_policy.preview = True
    assert should_nudge(msg("闲聊"), group, offtopic_window(5), store) == (False, "preview: would nudge")
    # preview keeps the caps as if it had sent: the next one is in the cooldown, as it would be live
    assert should_nudge(msg("还在闲聊", ts=NOON + timedelta(minutes=1)), group, offtopic_window(5), store) == (False, "cooldown")


def test_theme_route_on_the_real_judge(demo_app):
    """Through the real pipeline: life chatter is judged off-topic, the group's own talk is not;
    laughter and thanks are ignored even inside a drift, a bare "+1" to it is part of it."""
    from agent.channels.memory import MemoryChannel

    group = demo_app.settings.groups["demo"]
    ch = MemoryChannel(demo_app.pipeline, group, clock=NOON)
    member = group.members[0].id
    assert ch.send(member, "昨晚那部电视剧最后一集太好看了 你们追了吗").kind == DecisionKind.NUDGE
    assert ch.send(member, "哈哈哈哈").kind == DecisionKind.IGNORE
    assert ch.send(member, "谢谢").kind == DecisionKind.IGNORE
    assert ch.send(member, "你们周末去看电影吗 听说那部新片评分很高").kind == DecisionKind.NUDGE
    assert ch.send(member, "+1").kind == DecisionKind.NUDGE
    decision = ch.send(member, "今天的间歇跑我跑了8组400米，最后两组配速掉得厉害")
    assert decision.kind != DecisionKind.NUDGE


@pytest.mark.parametrize("text,off", [
    ("楼下新开了家烤鸭店 排队排到马路上", True),  # food chatter, though the knowledge talks of eating before a run
    ("我家狗今天把沙发咬坏了 气死我了", True),
    ("my flight got delayed three hours, stuck at the airport", True),
    ("周六长距离跑前一晚吃什么比较好，要不要碳水加载", False),
    ("新手第一次参加训练营，每周跑几次合适", False),
])
def test_the_fitted_judge_on_the_demo_group(app, text, off):
    assert app.judges("demo").is_offtopic(text) is off, text


def test_talk_just_before_leans_a_short_reply(app):
    judge = app.judges("demo")
    chatter = ["昨晚那场球赛看了吗 最后一分钟绝杀", "看了 太刺激了", "主队今年能夺冠吧"]
    training = ["今天间歇跑配速多少合适", "周四的拉伸课几点开始", "长距离要不要带能量胶"]
    assert judge.judge("我觉得能", chatter).probability > judge.judge("我觉得能", training).probability


def test_weights_fitted_without_a_group_are_kept_for_honest_eval():
    from agent.theme.judge import FEATURES, FIT, weights
    import json

    data = json.loads(FIT.read_text(encoding="utf-8"))
    n = len(FEATURES)
    assert data["features"] == list(FEATURES) and len(data["all"]["context"]["coef"]) == n + n * (n - 1) // 2
    for name in data["without"]:
        assert weights(name).threshold == data["without"][name]["threshold"]
    assert weights("no-such-group").threshold == data["all"]["threshold"]
