"""Drafting: templates from the knowledge without a model (tip rotation, events, digest), the model
path citing what it used, and every model failure falling back to the template."""
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace

import pytest

from agent.llm.prompts import Prompts
from agent.llm.provider import Completion, LLMUnavailable
from agent.schedule.drafting import MAX_CHARS, Drafter, plain
from agent.schedule.store import ScheduleStore
from agent.settings import GroupConfig, Person, ScheduleConfig
from agent.state import gaps as gap_rows
from agent.store import Store

REPO = Path(__file__).resolve().parents[1]
NOW = datetime(2025, 3, 16, 9, 0, tzinfo=timezone(timedelta(hours=8)))
SECTIONS = [
    SimpleNamespace(file="training.md", heading="训练要点 › 配速", text="轻松跑比目标配速慢60–90秒，能完整说话。"),
    SimpleNamespace(file="recovery.md", heading="拉伸", text="跑后拉伸每个动作保持30秒。"),
    SimpleNamespace(file="gear.md", heading="跑鞋", text="跑鞋大约跑600–800公里换一双。"),
]
GROUP = GroupConfig(id="run", name="跑团", theme="跑步训练", owners=[Person(id="o")])


class KB:
    def __init__(self, sections=SECTIONS):
        self.sections = sections

    def search(self, query, scopes, k=5):
        return self.sections[:k]


class FakeLLM:
    def __init__(self, reply=None, fails=False):
        self.reply, self.fails, self.calls = reply, fails, []

    def complete(self, system, user, max_tokens):
        self.calls.append((system, user))
        if self.fails:
            raise LLMUnavailable("timeout")
        return Completion(self.reply, 100, 50, "fake")


@pytest.fixture
def store():
    return Store(":memory:")


def drafter(store, kb=None, llm=None):
    return Drafter(store, ScheduleStore(store), kb or KB(), Prompts(REPO / "prompts"), llm)


def test_tip_of_the_week_rotates_through_sections_deterministically(store):
    d = drafter(store)
    tip = ScheduleConfig(id="tip", when="weekly Mon 09:00", kind="tip")
    picked = []
    for week in range(4):
        composed = d.compose(GROUP, tip, NOW + timedelta(weeks=week))
        d.drafts.add("run", "tip", NOW + timedelta(weeks=week), composed.text, composed.sources, ["run"],
                     "approved", "auto", NOW)
        picked.append(composed.sources[0])
    assert picked == ["training.md › 训练要点 › 配速", "recovery.md › 拉伸", "gear.md › 跑鞋", "training.md › 训练要点 › 配速"]
    assert drafter(Store(":memory:")).compose(GROUP, tip, NOW).sources == [picked[0]]  # same input, same pick


def test_events_template_is_plain_text_cited_and_bounded(store):
    table = "| 时间 | 内容 |\n|---|---|\n| 每周二 19:30 | **间歇跑** |\n" + "训练很重要。" * 200
    kb = KB([SimpleNamespace(file="events.md", heading="每周固定训练", text=table)])
    composed = drafter(store, kb).compose(GROUP, ScheduleConfig(id="ev", when="daily 08:30", kind="events"), NOW)
    assert len(composed.text) <= MAX_CHARS
    assert "每周二 19:30 · 间歇跑" in composed.text and "|" not in composed.text and "**" not in composed.text
    assert composed.text.endswith("（出自知识库：events.md › 每周固定训练）")
    assert composed.sources == ["events.md › 每周固定训练"]


def test_digest_lists_the_weeks_answered_questions_most_asked_first(store):
    def ask(asker, question, days_ago=1):
        return store.add_gap("run", asker, f"m-{asker}-{question}", question, False, NOW - timedelta(days=days_ago))

    for asker in ("a", "b", "c"):
        ask(asker, "周六下雨还跑吗？" if asker != "c" else "周六下雨还跑吗")
    ask("d", "能带家属吗？")
    ask("e", "存包到几点？")
    ask("f", "去年的奖牌还有吗？", days_ago=10)  # not this week
    asked = gap_rows.since(store, GROUP.id, NOW - timedelta(days=30))
    for start, answer in (("周六下雨", "小雨照常，雷雨取消。"), ("能带家属吗？", "可以带1位家属。"), ("去年的奖牌还有吗？", "有的。")):
        gap_rows.answer(store, tuple(r["id"] for r in asked if r["question"].startswith(start)), answer)
    composed = drafter(store).compose(GROUP, ScheduleConfig(id="dg", when="weekly Sun 20:00", kind="digest"), NOW)
    assert composed.text.index("周六下雨还跑吗") < composed.text.index("能带家属吗")
    assert "小雨照常" in composed.text and "奖牌" not in composed.text
    assert "存包到几点" not in composed.text and "存包到几点" in composed.note  # open: for the owners only


def test_custom_text_is_posted_as_written_even_with_a_model(store):
    llm = FakeLLM("不该用到")
    custom = ScheduleConfig(id="c", when="daily 08:30", text="记得周日22:00前打卡周跑量")
    assert drafter(store, llm=llm).compose(GROUP, custom, NOW).text == "记得周日22:00前打卡周跑量"
    assert llm.calls == []


def test_model_draft_cites_the_sections_it_named(store):
    llm = FakeLLM("本周小贴士：跑后拉伸每个动作保持30秒，别偷懒哦。\n来源：2")
    composed = drafter(store, llm=llm).compose(GROUP, ScheduleConfig(id="t", when="daily 08:30", kind="custom",
                                                                     brief="跑后拉伸"), NOW)
    assert composed.text == "本周小贴士：跑后拉伸每个动作保持30秒，别偷懒哦。\n（出自知识库：recovery.md › 拉伸）"
    assert composed.sources == ["recovery.md › 拉伸"]
    system, user = llm.calls[0]
    assert "跑后拉伸" in user and "[2] recovery.md › 拉伸" in user


@pytest.mark.parametrize("llm", [
    FakeLLM(fails=True),  # endpoint down
    FakeLLM("报名请加微信 runner_2027 或访问 https://bad.example.com"),  # contacts not in the knowledge
    FakeLLM("很长的推送。" * 200),  # too long for a group
    FakeLLM("NO_DRAFT"),
])
def test_model_failures_fall_back_to_the_template(store, llm):
    composed = drafter(store, llm=llm).compose(GROUP, ScheduleConfig(id="t", when="daily 08:30", kind="tip"), NOW)
    assert composed.text.startswith("💡 本周小贴士｜配速") and "模板" in composed.note


def test_plain_keeps_words_and_drops_markup():
    assert plain("## 标题\n- **加粗**说明\n| a | b |\n|:--|--:|") == "标题\n- 加粗说明\na · b"


def test_templates_on_the_real_demo_knowledge(demo_app):
    """The shipped demo group's knowledge, searched by the real KB: each kind drafts a bounded,
    cited post without a model."""
    group = demo_app.settings.groups["demo"]
    d = Drafter(demo_app.store, ScheduleStore(demo_app.store), demo_app.kb, Prompts(REPO / "prompts"))
    events = d.compose(group, ScheduleConfig(id="ev", when="weekly Mon 09:00", kind="events", brief="结营跑和见面会"), NOW)
    assert "5月22日" in events.text and "events.md" in events.text and len(events.text) <= MAX_CHARS
    tip = d.compose(group, ScheduleConfig(id="tip", when="weekly Mon 09:00", kind="tip", brief="配速和心率"), NOW)
    assert tip.text.startswith("💡 配速和心率｜") and tip.sources and len(tip.text) <= MAX_CHARS
