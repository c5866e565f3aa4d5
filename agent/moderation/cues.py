"""Signals several detectors share: a call to contact someone, a handle, a price, a warning context.

Each is a pattern over the normalised, compact text (see text.py). A single cue is rarely a violation:
a contact call *with* a handle is (detectors.lead_capture); the classifier reads contact, handle and
price as features; a warning context vetoes a scam or ad verdict.
"""
from __future__ import annotations
from agent import patterns


# "私聊我", "加我微信", "加v", "+vx", "dm me", "add me on telegram": asks readers to move to a private channel
CONTACT = patterns.compile(
    r"私(聊|我|信|戳|发)|加(我|一下)?(个)?(微信|薇信|威信|v信|vx|wx|v|q|qq|好友|微)|[+]\s?(v|vx|wx|微)\b|"
    r"\b(dm|pm|inbox|message|text|contact|ping)\s?me\b|\badd\s?me\b|"
    r"\b(whatsapp|telegram|signal|wechat)\b.{0,12}(me|\+?\d|@)"
)
# an id right after a contact word: "加v：mm5201314", "微信 xy_520520", "telegram @abc"
HANDLE = patterns.compile(
    r"((微信|薇信|威信|weixin|wechat|telegram|whatsapp|qq|tg)号?|(加|[+])(v|vx|wx|q))[:：]?(我|发你|联系)?[:：]?@?"
    r"([a-z][a-z0-9_-]{4,19}|1[3-9]\d{9}|\d{5,11})"
)
PRICE = patterns.compile(
    r"\d+(\.\d+)?\s?(元|块|rmb|yuan|usd|dollars?|bucks|w\+?|万)|[¥$€£]\s?\d+|"
    r"\d+(\.\d+)?元?/(个|张|篇|条|月|年|次|单|人|份)|\d+(一|每)(张|篇|条|个|次|单)|[0-9一二三四五六七八九]\.?[0-9]?折|"
    r"原价|特价|群友价|优惠价|内部价|折扣|打折|包邮|\b\d{1,2}% off\b|\bhalf price\b|\bdiscount"
)
# the sender is warning others about the thing, not doing it: "又是刷单的 大家别信"
WARNING = patterns.compile(
    r"别信|不要信|别加|不要加|别转|不要转|小心|警惕|当心|注意防|防骗|举报|是骗|骗局|骗子|被骗|又是|撤回|"
    r"\b(beware|watch out|don'?t (trust|click|fall)|is a scam|scammers?|be careful)\b"
)


def hit(pattern: patterns.Pattern, text) -> bool:
    """Search the compact text (Chinese split by spaces) and the spaced text (English words)."""
    return pattern.search(text.compact) is not None or pattern.search(text.folded) is not None
