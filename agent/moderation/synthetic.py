"""Synthetic WeChat-group messages for training the moderation classifier.

There is no public labelled WeChat-group data, so group-shaped examples are generated: templates ×
slot fillers (products, services, handles, places, bot names…) wrapped in chatty openers, then, for
violations, disguised by the evasions spammers use (full-width and spaced letters, zero-width and emoji
between characters, traditional characters, lookalike letters, Chinese numerals, keycap or circled
digits and separators inside numbers, homophones for 微信/QQ/飞机 and for any character, 点 for a
dot, stray runic marks and ids stuck to the message). The data files:
synthetic.yaml (group-chat basics of every kind), synthetic_market.yaml (black-market ads and frauds by
trade: accounts, invoices, loans, gambling, porn, crypto, fake customer service, impersonation, phishing,
杀猪盘 …), synthetic_hostile.yaml (abuse and injection, zh/en/de), synthetic_chatter.yaml (everyday
negatives in many topics, short and long, money and scam talk included), synthetic_street.yaml
(short comment-section and IM posts: side-gig recruiting, adult and gambling lures with an id,
easy-money bait, colloquial insults and sarcasm, and the short, numeric chatter they hide among) and
synthetic_soft.yaml (what a member posts in a group they belong to: a neighbour's discount, a deposit
before a shared ride, a notice dressed as official, the bot's setup asked in passing, sarcasm and
stereotypes; with harmless talk on the same topics beside them).
Normalisation undoes most evasions at run time; the model also sees them raw so it does not depend on
normalisation being perfect. Neutral evasions (traditional, full-width, stray marks) are applied to
some negatives too, so the disguise itself is not the label.
Everything is drawn from one seeded random.Random: the same seed gives the same corpus.
"""
from __future__ import annotations

import random
import re
from functools import lru_cache
from pathlib import Path
from typing import Callable

import yaml

from agent.textnorm import lexicon

DATA = tuple(Path(__file__).with_name(f"synthetic{part}.yaml") for part in ("", "_market", "_hostile", "_chatter", "_street", "_soft"))
_SLOT = re.compile(r"\{(\w+)\}")
_FULL = {c: chr(ord(c) + 0xFEE0) for c in "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"}
_LOOKALIKE = {"a": "а", "e": "е", "o": "о", "p": "р", "c": "с", "x": "х", "y": "у", "i": "і", "k": "κ", "v": "ν"}
_NUMERALS = {"0": "零", "1": "幺", "2": "二", "3": "三", "4": "四", "5": "五", "6": "六", "7": "七", "8": "八", "9": "九"}
_WECHAT = ("薇信", "威信", "V信", "wei xin", "weixin", "VX", "ｖｘ", "徽信", "卫星", "v❤", "喂心", "威", "薇", "v", "wx", "嶶")
_QQ = ("企鹅", "扣扣", "抠抠", "Q", "q q", "琦鹅", "蔻蔻", "🐧")
_TG = ("飞机", "纸飞机", "✈️", "TG", "电报", "tg")
_FILLERS = ("❤", "★", "·", "~", "💰", "🌹", "-", "|", "🔥", "✨", "🌸", "💋", "👉", "🈲", "*", "/", "🧧", "💎")
_CONTACT_WORD = re.compile(r"微信|加v|加vx|加wx|vx|wx|qq|私聊|私我|联系")
_KEYCAP = {d: d + "\ufe0f\u20e3" for d in "0123456789"}
_CIRCLED = {d: chr(0x2460 + int(d) - 1) if d != "0" else "⓪" for d in "0123456789"}
_SPLIT_MARKS = (" ", "-", ".", "、", "/", "_", "～")
_DECOR = ("ᚰ", "ᚠ", "ᛀ", "▓", "◐", "➽", "☎", "✪", "ª", "░")


@lru_cache(maxsize=1)
def templates() -> dict:
    """Every data file merged: slot lists and template lists of the same name are concatenated."""
    merged: dict = {}
    for path in DATA:
        for key, section in yaml.safe_load(path.read_text(encoding="utf-8")).items():
            into = merged.setdefault(key, {})
            for name, items in section.items():
                into[name] = into.get(name, []) + items
    return merged


def fill(template: str, slots: dict[str, list[str]], rng: random.Random, lang: str) -> str:
    def one(m: re.Match) -> str:
        name = m.group(1)
        options = slots.get(name) or slots.get(f"{name}_{lang}") or [name]
        return rng.choice(options)

    for _ in range(3):  # a filler may hold a slot of its own ("联系{handle}")
        template = _SLOT.sub(one, template)
    return template


# ---- evasions: each is text -> text, the reverse of one normalisation step -------------------------


def fullwidth(text: str, rng: random.Random) -> str:
    return "".join(_FULL.get(c, c) for c in text)


def spaced(text: str, rng: random.Random) -> str:
    """Letters and digits of handles spread out: 'w x 1 2 3'."""
    return re.sub(r"[A-Za-z0-9]{3,}", lambda m: " ".join(m.group(0)), text)


def zero_width(text: str, rng: random.Random) -> str:
    return "".join(c + ("\u200b" if rng.random() < 0.4 else "") for c in text)


def fillers(text: str, rng: random.Random) -> str:
    """An emoji or symbol between the characters of contact words: 加❤微❤信."""
    mark = rng.choice(_FILLERS)
    return _CONTACT_WORD.sub(lambda m: mark.join(m.group(0)), text)


def traditional(text: str, rng: random.Random) -> str:
    return _s2t().convert(text)


def lookalike(text: str, rng: random.Random) -> str:
    return "".join(_LOOKALIKE.get(c, c) if rng.random() < 0.6 else c for c in text)


def numerals(text: str, rng: random.Random) -> str:
    """Digits of phone/QQ-like runs read out as Chinese numerals: 幺三八…"""
    return re.sub(r"[0-9]{5,}", lambda m: "".join(_NUMERALS[d] for d in m.group(0)), text)


def wechat_word(text: str, rng: random.Random) -> str:
    return text.replace("微信", rng.choice(_WECHAT)).replace("加v", "加" + rng.choice(_WECHAT))


def dotted(text: str, rng: random.Random) -> str:
    return re.sub(r"(?<=[a-z0-9])\.(?=[a-z])", rng.choice(("点", "。", "．", " dot ")), text)


def im_words(text: str, rng: random.Random) -> str:
    """QQ and Telegram written as their nicknames: 企鹅, 扣扣, 飞机, ✈️."""
    text = re.sub(r"qq|QQ|扣扣|企鹅", lambda m: rng.choice(_QQ), text)
    return re.sub(r"飞机|TG|电报", lambda m: rng.choice(_TG), text)


def keycaps(text: str, rng: random.Random) -> str:
    """Digits of long numbers as keycap emoji: 1️⃣3️⃣8️⃣…"""
    return re.sub(r"[0-9]{5,}", lambda m: "".join(_KEYCAP[d] for d in m.group(0)), text)


def circled(text: str, rng: random.Random) -> str:
    """Digits of long numbers as circled digits: ①③⑧…"""
    return re.sub(r"[0-9]{5,}", lambda m: "".join(_CIRCLED[d] for d in m.group(0)), text)


def split_digits(text: str, rng: random.Random) -> str:
    """Long numbers broken into groups by a mark: 138-123-456, 13 81 2."""
    mark = rng.choice(_SPLIT_MARKS)
    return re.sub(r"[0-9]{5,}", lambda m: mark.join(m.group(0)[i:i + 3] for i in range(0, len(m.group(0)), 3)), text)


def sprinkle(text: str, rng: random.Random) -> str:
    """Emoji or symbols pushed between the characters of the whole message (兼✨职✨日✨结)."""
    mark, rate = rng.choice(_FILLERS), rng.choice((0.3, 0.6, 1.0))
    return "".join(c + (mark if rng.random() < rate and not c.isspace() else "") for c in text).rstrip(mark)


def letters_apart(text: str, rng: random.Random) -> str:
    """Chinese characters of the message spaced or dotted apart: 兼 职 日 结."""
    mark = rng.choice((" ", ".", "、", "|"))
    return re.sub(r"[\u4e00-\u9fff]{2,}", lambda m: mark.join(m.group(0)), text)


def homophones(text: str, rng: random.Random) -> str:
    """Some Chinese characters swapped for others of the same sound (一单 → 一箪): a word list misses
    them; the syllables the model reads do not."""
    same = _same_sound()
    return "".join(rng.choice(same[c]) if c in same and rng.random() < 0.25 else c for c in text)


def decorate(text: str, rng: random.Random) -> str:
    """Stray marks and an id stuck to the message, as IM spam carries them to defeat exact-match
    filters: runic or box-drawing marks, a byte-order mark, a letters-and-digits tag."""
    mark = rng.choice(_DECOR) * rng.choice((1, 1, 2))
    tag = "".join(rng.choice("ABCDEFGHKMNPQRSTUWXYZ") for _ in range(rng.randint(2, 3))) + str(rng.randint(100, 99999))
    return rng.choice((f"{text}{mark}", f"{mark}{text}", f"{tag}{mark} {text}", f"{text} {tag}", f"\ufeff{text}"))


@lru_cache(maxsize=1)
def _same_sound() -> dict[str, list[str]]:
    """Each character of the templates → the other template characters read the same (common ones,
    so a swap stays plausible)."""
    reading = lexicon.readings()
    pool = sorted({c for path in DATA for c in path.read_text(encoding="utf-8") if c in reading})
    groups: dict[str, list[str]] = {}
    for c in pool:
        groups.setdefault(reading[c], []).append(c)
    return {c: [o for o in groups[reading[c]] if o != c] for c in pool if len(groups[reading[c]]) > 1}


@lru_cache(maxsize=1)
def _s2t():
    import opencc

    return opencc.OpenCC("s2t")


EVASIONS: tuple[Callable[[str, random.Random], str], ...] = (
    fullwidth, spaced, zero_width, fillers, traditional, lookalike, numerals, wechat_word, dotted, im_words, keycaps,
    circled, split_digits, sprinkle, letters_apart, homophones, decorate)
NEUTRAL = (fullwidth, traditional, zero_width, sprinkle, decorate)


CROP = 0.2  # share of zh violations cut to a fragment: real posts are often a few words of the pitch


def crop(text: str, rng: random.Random) -> str:
    """A window of 6–20 characters of the message, cut at a clause boundary when one is near."""
    size = rng.randint(6, 20)
    clauses = [c for c in re.split(r"[，。！？,!?\n]", text) if len(c) >= 4]
    if clauses and rng.random() < 0.6:
        start = rng.randrange(len(clauses))
        return "，".join(clauses[start:start + rng.choice((1, 2))])
    start = rng.randrange(max(len(text) - size, 1))
    return text[start:start + size]


def generate(seed: int, per_kind: int, none_count: int) -> list[tuple[str, str]]:
    """(text, label) pairs: `per_kind` of each violation kind, `none_count` negatives, zh and en."""
    rng = random.Random(seed)
    data = templates()
    slots, out = data["slots"], []
    for label in ("ad", "scam", "abuse", "injection", "none"):
        count = none_count if label == "none" else per_kind
        for i in range(count):
            lang = "en" if rng.random() < 0.3 else "zh"
            text = fill(rng.choice(data[label][lang]), slots, rng, lang)
            if label in ("ad", "scam") and lang == "zh" and rng.random() < 0.3:  # a selling point or two more
                text += rng.choice(("，", " ", "！", "\n")) + fill("{perk_zh}", slots, rng, lang)
            if label in ("ad", "scam", "abuse") and lang == "zh" and len(text) > 16 and rng.random() < CROP:
                text = crop(text, rng)
            while label == "none" and rng.random() < 0.45:  # chatter runs on: several lines in one message
                text += rng.choice(("，", " ", "。", "\n")) + fill(rng.choice(data["none"][lang]), slots, rng, lang)
            text = rng.choice(data["prefix"][lang]) + text + rng.choice(data["suffix"][lang])
            if label != "none" and rng.random() < 0.5:
                for evade in rng.sample(EVASIONS, rng.choice((1, 1, 2))):
                    text = evade(text, rng)
            elif label == "none" and rng.random() < 0.1:
                text = rng.choice(NEUTRAL)(text, rng)
            out.append((text, label))
    return out
