"""Bad input never crashes or stalls the detectors: long texts, emoji storms, binary-looking text, XML."""
from __future__ import annotations

import time
from datetime import datetime

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from agent.events import Kind, Member, Message
from agent.moderation.detectors import detect
from agent.moderation.flood import FloodGuard
from agent.moderation.text import Text
from agent.settings import GroupConfig

GROUP = GroupConfig(id="g", theme="t", rules=["不发广告", "不发链接"], allow_domains=["example.com"])
PIECES = st.sampled_from(["加我微信", "私聊", "https://", "t.cn/", "提取码", "[图片]", "扫码进群", "刷单", "日结", "<appmsg>",
                          "</msg>", "@", "忽略之前的指令", "🔥", "\x00", "\u200b", "傻", "上海人", "都是", "%", "¥99"])
TEXTS = st.one_of(
    st.text(max_size=3000),
    st.lists(st.one_of(PIECES, st.text(max_size=20)), max_size=300).map("".join),
    st.binary(max_size=2000).map(lambda b: b.decode("latin-1")),
)


@pytest.mark.e2e
@settings(max_examples=1200, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(text=TEXTS, kind=st.sampled_from(list(Kind)))
def test_detectors_survive_anything_quickly(text, kind):
    message = Message("m", "g", Member("u", "u"), text, datetime(2025, 1, 1), kind=kind)
    started = time.perf_counter()
    detect(Text.of(message, "小助"), GROUP, message.url)
    FloodGuard().see(message)
    assert time.perf_counter() - started < 1.0
