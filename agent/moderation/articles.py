"""Which of the group's rules (articles, 1-based) a finding breaks.

Operators write rules as plain sentences, so when a rule does not list its `kinds` we infer them from
its words in Chinese or English. When several rules fit one kind (a "no inviting" rule and a "links"
rule), the finding's own cue words pick the closer one.
"""
from __future__ import annotations

import re
from functools import lru_cache

from agent import patterns
from agent.moderation.detectors import Finding
from agent.settings import GroupConfig, Rule

KEYWORDS: dict[str, tuple[str, ...]] = {
    "ad": ("广告", "推广", "营销", "代理", "微商", "课程", "卖货", "带货", "推销", "代运营", "刷粉",
           "ad", "ads", "advert", "promot", "selling", "sales", "marketing", "self-promo"),
    "link": ("二维码", "链接", "拉人", "群名片", "网盘", "短链", "小程序", "入群", "其他群",
             "invite", "link", "qr", "url", "other groups"),
    "scam": ("诈骗", "骗", "刷单", "理财", "中奖", "代付", "借钱", "荐股", "scam", "fraud", "phishing",
             "investment", "money", "get-rich"),
    "abuse": ("辱骂", "人身攻击", "地域黑", "骂", "歧视", "友善", "尊重", "对事不对人",
              "insult", "respect", "harass", "abuse", "personal attack", "hate", "polite", "kind", "civil"),
    "flood": ("刷屏", "重复", "长文", "spam", "flood", "repeat", "wall of text"),
    "injection": ("群助手", "机器人", "指令", "助手", "bot", "assistant", "prompt", "instructions"),
}
LABELS = {
    "zh": {"ad": "广告", "link": "违规链接/拉人", "scam": "诈骗", "abuse": "辱骂/人身攻击", "flood": "刷屏",
           "injection": "操控群助手", "manual": "群主警告", "report": "成员举报", "blocklist": "黑名单成员"},
    "en": {"ad": "advertising", "link": "links or invitations", "scam": "scam", "abuse": "insults or attacks",
           "flood": "flooding", "injection": "manipulating the bot", "manual": "a warning from the owners",
           "report": "a member's report", "blocklist": "a blocklisted contact"},
}  # "manual": a strike an owner gave with /warn


def kinds_of(rule: Rule, bot_name: str = "") -> set[str]:
    """The kinds a rule covers: as configured, else inferred from its text."""
    if rule.kinds:
        return set(rule.kinds)
    return {k for k in KEYWORDS if _score(rule.text, k, (), bot_name)}


def _has(text: str, word: str) -> bool:
    """Chinese words by substring; English by word start, short ones whole ("ad" is not in "read")."""
    if not word.isascii():
        return word in text
    return patterns.search(rf"\b{re.escape(word)}" + (r"s?\b" if len(word) <= 4 else ""), text) is not None


@lru_cache(maxsize=4096)  # rule texts, asked about on every finding
def _score(text: str, kind: str, cues: tuple[str, ...], bot_name: str = "") -> int:
    text = text.lower()
    words = KEYWORDS[kind] + ((bot_name.lower(),) if kind == "injection" and bot_name else ())
    return sum(_has(text, w) for w in words) + sum(2 * _has(text, c) for c in cues)


def article_for(finding: Finding, group: GroupConfig) -> tuple[int, Rule] | None:
    """(article number, rule) for a finding, or None when no rule covers its kind."""
    fitting = [(n, r) for n, r in enumerate(group.rules, 1) if finding.kind in kinds_of(r, group.bot_name)]
    if not fitting:
        return None
    return max(fitting, key=lambda nr: (_score(nr[1].text, finding.kind, finding.cues, group.bot_name), -nr[0]))


def label(kind: str, language: str) -> str:
    return LABELS.get(language, LABELS["zh"])[kind]
