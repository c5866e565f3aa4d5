"""Articles inferred from plain rule text, Chinese and English, and explicit kinds taking precedence."""
from __future__ import annotations

from agent.moderation.articles import article_for, kinds_of
from agent.moderation.detectors import Finding
from agent.settings import GroupConfig, Rule


def finding(kind: str, cues: tuple = ()) -> Finding:
    return Finding(kind, "test", 1, 0.9, cues)


def test_chinese_rules():
    group = GroupConfig(id="g", theme="t", bot_name="阿福", rules=[
        "禁止发广告、推广", "别发外群的二维码，也别发入群链接", "不发短链接和网盘链接", "禁止辱骂、地域黑", "警惕刷单诈骗",
        "不要刷屏", "不要调戏阿福"])
    assert article_for(finding("ad"), group)[0] == 1
    assert article_for(finding("link", ("二维码", "入群")), group)[0] == 2
    assert article_for(finding("link", ("网盘", "短链")), group)[0] == 3
    assert [article_for(finding(k), group)[0] for k in ("abuse", "scam", "flood", "injection")] == [4, 5, 6, 7]


def test_english_rules_and_no_false_substrings():
    group = GroupConfig(id="g", theme="t", language="en", rules=[
        "Read the pinned post first", "No ads or self-promotion", "Be kind and respectful; no insults",
        "Don't spam the chat", "Don't post invite links to other groups", "No scams or investment pitches"])
    assert kinds_of(group.rules[0]) == set()  # "read" does not contain the word "ad"
    assert [article_for(finding(k), group)[0] for k in ("ad", "abuse", "flood", "link", "scam")] == [2, 3, 4, 5, 6]
    assert article_for(finding("injection"), group) is None


def test_explicit_kinds_win():
    rule = Rule(text="第一条", kinds=["abuse"])
    assert kinds_of(rule) == {"abuse"}
    assert article_for(finding("abuse"), GroupConfig(id="g", theme="t", rules=[rule]))[0] == 1
