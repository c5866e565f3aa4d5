"""The flood counter's near-duplicate test: a pasted ad with a few characters changed is the same paste."""
from __future__ import annotations

from datetime import datetime, timedelta

from agent.events import Member, Message, Role
from agent.moderation.flood import FloodGuard

T0 = datetime(2025, 5, 1, 9, 0)
PASTE = "本店新到一批运动鞋，全场八折包邮，下单满两双再送袜子一双，需要的朋友看我朋友圈"


def _send(guard: FloodGuard, text: str, i: int, sender: str = "m1"):
    return guard.see(Message(f"x{i}", "g1", Member(sender, role=Role.MEMBER), text, T0 + timedelta(seconds=10 * i)))


def test_a_lightly_edited_long_paste_is_flood_and_a_different_text_is_not():
    guard = FloodGuard()
    assert _send(guard, PASTE, 0) is None
    edited = PASTE.replace("八折", "七折").replace("两双", "三双")
    assert _send(guard, edited, 1).kind == "flood"
    other = "周末去公园跑步的朋友可以一起，早上七点在东门集合，跑完一起吃早饭，欢迎带上家里的孩子"
    fresh = FloodGuard()
    assert _send(fresh, PASTE, 0) is None
    assert _send(fresh, other, 1) is None


def test_short_texts_are_compared_exactly_and_only_from_the_third_copy():
    guard = FloodGuard()
    assert _send(guard, "收到", 0) is None
    assert _send(guard, "收到", 1) is None
    assert _send(guard, "收到", 2).kind == "flood"
    assert _send(FloodGuard(), "收到了", 0) is None
