"""An owner's /kb add does not stall the group: the theme judge is rebuilt off the message path.

Ratios, not wall-clock: the messages right after /kb adds are decided within 2× the median of the
group's ordinary messages (before this, the judge re-embedded every record: about 100× slower), and
the rebuilt judge then knows the new knowledge.
"""
from __future__ import annotations

import statistics
import time

from agent.channels.memory import MemoryChannel

# ordinary chat, each text new to the app (a repeated text would hit the embedding cache)
CHAT = ["今天练完腿好酸", "周末有人一起去爬山吗", "晚饭吃了碗面", "早上好呀各位", "下雨了记得带伞",
        "刚到家累瘫了", "这周好忙啊", "楼下新开了家面馆", "明天降温了", "地铁上人好多", "刚下班路上好堵",
        "午饭吃撑了", "今天风好大", "隔壁在装修好吵", "猫又把杯子打翻了"]
WARM, USUAL, AFTER = CHAT[:2], CHAT[2:-3], CHAT[-3:]
ENTRIES = ["新规：每周三晚上八点在二号馆加练核心力量，自带瑜伽垫。", "补充：雨天训练改到室内三号馆。",
           "提醒：体测安排在每月第一个周六上午。"]
SEARCHES = ["停车", "发票", "请假", "退款", "装备", "场地", "教练", "报名", "时间", "费用"]


def _decide(channel: MemoryChannel, sender: str, text: str) -> float:
    start = time.perf_counter()
    assert channel.send(sender, text) is not None
    return time.perf_counter() - start


def test_the_message_after_kb_add_is_decided_as_fast_as_the_rest(app):
    """Each timed message follows an owner command, so each has one new text in its recent window;
    only the /kb add before the last one changes the knowledge."""
    group = app.settings.groups["demo"]
    owner = group.owners[0].id
    channel = MemoryChannel(app.pipeline, group)
    for i, text in enumerate(WARM):  # every route loads what it loads lazily
        _decide(channel, f"wxid_warm{i}", text)
    usual = []
    for i, text in enumerate(USUAL):
        channel.send(owner, f"/kb search {SEARCHES[i]}")
        usual.append(_decide(channel, f"wxid_m{i}", text))
    version, judge = app.kb.version, app.judges("demo")

    after = []
    for i, (entry, text) in enumerate(zip(ENTRIES, AFTER)):
        added = channel.send(owner, f"/kb add {entry}")
        assert added is not None and app.kb.version > version  # the knowledge did change
        version = app.kb.version
        after.append(_decide(channel, f"wxid_next{i}", text))

    assert statistics.median(after) <= 2 * statistics.median(usual), (after, usual)
    assert app.judges.ready(timeout=120)
    rebuilt = app.judges("demo")
    assert len(rebuilt.kb_vecs) > len(judge.kb_vecs)  # the new entries' records are in the judge
