"""Contact handles survive every evasion the normaliser undoes, and ordinary chat yields none.

The generator composes a message the way a spammer would: an announcing word (微信, vx, QQ, 企鹅, 电话,
telegram…, or a homophone / pinyin form of one) and a handle, each written with a random composition
of evasions (full-width, case, lookalike letters, traditional characters, spacing and emoji between
characters, zero-width marks, Chinese and circled numerals, O/l for 0/1, 3-4-4 grouping).
"""
from __future__ import annotations

import unicodedata
from functools import cache

import pytest
import opencc
from confusable_homoglyphs.utils import load
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from agent.moderation.contacts import handles
from agent.textnorm import normalize

WECHAT_WORDS = ["微信", "微信号", "vx", "wx", "v", "wechat", "weixin", "wei xin", "喂心", "威信", "薇信", "v信", "加微信", "加v", "+vx", "薇"]
QQ_WORDS = ["qq", "QQ号", "q", "企鹅", "琦鹅", "寇寇", "qie", "加q", "+q", "群号", "外部群"]
PHONE_WORDS = ["电话", "手机", "手机号", "tel", "phone", "dianhua", "shou ji", "call"]
ANY_WORDS = ["联系", "联系方式", "加我", "jia wo", "私聊", "私信", "siliao"]
TELEGRAM_WORDS = ["telegram", "tg", "飞机", "纸飞机"]
FILLERS = [":", "：", " ", "号：", "是", " : ", "号 ", " 是 "]
PREFIXES = ["", "需要的朋友", "诚招代理，", "Hi all, ", "新品到了 "]
SUFFIXES = ["", "，欢迎咨询", " 谢谢", "，备注来意", "!", " thanks"]
SEPARATORS = [" ", "*", "🌹", "★", "\u200b", "·", "~", "|", "💰"]
ZERO_WIDTH = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff"]

CN_LOWER = "零一二三四五六七八九"
CN_FINANCIAL = "零壹贰叁肆伍陆柒捌玖"
CIRCLED = "⓪①②③④⑤⑥⑦⑧⑨"
DINGBAT = "⓿❶❷❸❹❺❻❼❽❾"


@cache
def _s2t() -> opencc.OpenCC:
    return opencc.OpenCC("s2t")


@cache
def _lookalikes() -> dict[str, list[str]]:
    """ASCII letter → characters the Unicode confusables table says look like that letter only."""
    data = load("confusables.json")
    out: dict[str, list[str]] = {}
    for char, entries in data.items():
        if len(char) != 1 or char.isascii() or not unicodedata.name(char, "").startswith(("CYRILLIC", "GREEK")):
            continue
        if len(unicodedata.normalize("NFKC", char)) != 1:  # NFKC itself spells it out (ͺ → " ͅ")
            continue
        looks = {e["c"].strip("\u200e") for e in entries if e["c"].strip("\u200e").isascii()}
        lowered = {c.lower() for c in looks if c.isalpha()}
        if len(lowered) == 1 and not any(c.isdigit() for c in looks):
            out.setdefault(lowered.pop(), []).append(char)
    return out


def _fullwidth(c: str) -> str:
    return chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c


@st.composite
def _ascii_letters(draw, text: str) -> str:
    """Case, full-width and lookalike letters, chosen per character."""
    out = []
    for c in text:
        style = draw(st.sampled_from(["plain", "upper", "full", "look"]))
        if style == "upper":
            c = c.upper()
        elif style == "full":
            c = _fullwidth(c)
        elif style == "look" and c in _lookalikes():
            c = draw(st.sampled_from(_lookalikes()[c]))
        out.append(c)
    return "".join(out)


@st.composite
def _spread(draw, text: str) -> str:
    """One separator between every two characters, or zero-width marks sprinkled, or neither."""
    how = draw(st.sampled_from(["none", "separator", "zero-width"]))
    if how == "separator":
        return draw(st.sampled_from(SEPARATORS)).join(text)
    if how == "zero-width":
        return "".join(c + draw(st.sampled_from(["", *ZERO_WIDTH])) for c in text)
    return text


@st.composite
def written_word(draw, words: list[str]) -> str:
    word = draw(st.sampled_from(words))
    if draw(st.booleans()):
        word = _s2t().convert(word)
    word = draw(_ascii_letters(word))
    return draw(_spread(word))


@st.composite
def written_number(draw, digits: str, lookalike_letters: bool) -> str:
    """Each digit in a form of one family: Chinese/circled numerals, or O and l for 0 and 1."""
    if lookalike_letters and draw(st.booleans()):
        forms = {"0": ["0", "O", "o", "О"], "1": ["1", "l", "I"]}
        out = "".join(draw(st.sampled_from(forms.get(d, [d]))) for d in digits)
        return draw(_spread(out)) if draw(st.booleans()) else out
    out = []
    for d in digits:
        family = draw(st.sampled_from(["ascii", "full", "lower", "financial", "circled", "dingbat", "yao"]))
        i = int(d)
        out.append({"ascii": d, "full": _fullwidth(d), "lower": CN_LOWER[i], "financial": CN_FINANCIAL[i],
                    "circled": CIRCLED[i], "dingbat": DINGBAT[i],
                    "yao": "幺" if d == "1" else "〇" if d == "0" else d}[family])
    chinese = [k for k, c in enumerate(out) if c in CN_LOWER + CN_FINANCIAL + "幺〇"]
    ascii_digits = any(c not in CN_LOWER + CN_FINANCIAL + "幺〇" for c in out)
    # one Chinese numeral at the edge of an ASCII run reads as a word ("5000一个月"): not a digit
    assume(not (len(chinese) == 1 and ascii_digits and chinese[0] in (0, len(out) - 1)))
    if len(digits) == 11 and draw(st.booleans()):
        groups = ["".join(out[:3]), "".join(out[3:7]), "".join(out[7:])]
        return draw(st.sampled_from([" ", "-"])).join(groups)
    return draw(_spread("".join(out)))


@st.composite
def written_id(draw, handle: str) -> str:
    """Letters in any case, width or lookalike; digits as Chinese numerals (all of them, when two or
    more); spaced out only when the id has no _ or - of its own."""
    digits = [c for c in handle if c.isdigit()]
    if len(digits) >= 2 and draw(st.booleans()):
        table = draw(st.sampled_from([CN_LOWER, CN_FINANCIAL]))
        return draw(_ascii_letters("".join(table[int(c)] if c.isdigit() else c for c in handle)))
    out = draw(_ascii_letters(handle))
    return draw(_spread(out)) if handle.isalnum() else out


def _message(draw, word: str, filler: str, handle: str) -> str:
    text = draw(st.sampled_from(PREFIXES)) + word + filler + handle + draw(st.sampled_from(SUFFIXES))
    return _s2t().convert(text) if draw(st.booleans()) else text


MOBILE = st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True)
QQ = st.from_regex(r"[1-9][0-9]{4,10}", fullmatch=True)
WECHAT_ID = st.from_regex(r"[a-z][a-z0-9_-]{5,19}", fullmatch=True)
TELEGRAM_ID = st.from_regex(r"[a-z][a-z0-9_]{4,31}", fullmatch=True)
SETTINGS = settings(max_examples=200, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])


@pytest.mark.e2e
@SETTINGS
@given(st.data(), MOBILE)
def test_mobile_number_read_back_with_or_without_a_contact_word(data, number):
    word = data.draw(st.one_of(st.just(""), written_word(WECHAT_WORDS + QQ_WORDS + PHONE_WORDS + ANY_WORDS)))
    filler = data.draw(st.sampled_from(FILLERS)) if word else ""
    text = _message(data.draw, word, filler, data.draw(written_number(number, lookalike_letters=True)))
    assert number in handles(text), (text, normalize(text))


@pytest.mark.e2e
@SETTINGS
@given(st.data(), QQ)
def test_qq_number_read_back_after_its_word(data, number):
    words = data.draw(st.sampled_from([QQ_WORDS, WECHAT_WORDS, ANY_WORDS]))
    word = data.draw(written_word(words))
    text = _message(data.draw, word, data.draw(st.sampled_from(FILLERS)),
                    data.draw(written_number(number, lookalike_letters=words is QQ_WORDS)))
    assert number in handles(text), (text, normalize(text))


def _spread_out(text: str) -> bool:
    return any(sep in text for sep in SEPARATORS + ZERO_WIDTH)


@pytest.mark.e2e
@SETTINGS
@given(st.data(), WECHAT_ID)
def test_wechat_id_read_back_after_its_word(data, handle):
    # an id that is itself a contact word's spelling (abc-weixin) or reads as a mobile number cannot
    # be told apart from the evasion it looks like
    assume(normalize(handle) == handle)
    word = data.draw(written_word(data.draw(st.sampled_from([WECHAT_WORDS, ANY_WORDS]))))
    filler, written = data.draw(st.sampled_from(FILLERS)), data.draw(written_id(handle))
    # after a spaced-out word a bare space separates nothing: "w e i x i n a b c …" is one spaced-out word
    assume(filler.strip() or not _spread_out(word))
    text = _message(data.draw, word, filler, written)
    assert handle in handles(text), (text, normalize(text))


@pytest.mark.e2e
@SETTINGS
@given(st.data(), TELEGRAM_ID)
def test_telegram_id_read_back_after_its_word(data, handle):
    assume(normalize(handle) == handle)
    word = data.draw(written_word(TELEGRAM_WORDS))
    filler = data.draw(st.sampled_from([" @", "：@", ": ", "@"]))
    text = _message(data.draw, word, filler, data.draw(written_id(handle)))
    assert handle in handles(text), (text, normalize(text))


@pytest.mark.e2e
@SETTINGS
@given(st.data(), WECHAT_ID, st.sampled_from(["✨", "·", "~", "★", "🌹", "-", "/", "|", "💰", "、"]))
def test_a_mark_strewn_through_the_whole_message_leaves_the_id(data, handle, mark):
    assume(normalize(handle) == handle and mark not in handle)
    word = data.draw(written_word(WECHAT_WORDS))
    text = data.draw(st.sampled_from(PREFIXES)) + word + "：" + handle + data.draw(st.sampled_from(SUFFIXES))
    strewn = mark.join(text)
    assert handle in handles(strewn), (strewn, normalize(strewn))


# ---- ordinary chat --------------------------------------------------------------------------------

_NUMBER_PHRASES = [
    "这件{a}元，那件{b}块", "¥{b} 包邮吗", "会在{y}-{m:02d}-{d:02d}开始", "{y}年{m}月{d}日见", "{m}/{d} 前交",
    "{h}:{mi:02d} 集合", "下午{h}点{mi}分出发", "升级到 v{m}.{d}.{h} 了吗", "python {m}.{d} 还能用", "{y}年的数据",
    "涨了 {m}.{d}%", "来了{a}个人", "房租{b}一个月", "第 {m} 章 {y} 年版", "版本 {m}.{d}.{h}-beta",
    "Q{q} {y} revenue was {b} dollars", "order {a} arrives on {m}/{d}/{y}", "at {h}:{mi:02d} pm, room {a}",
    "微信转账 {a} 元", "QQ群里有 {a} 人", "手机 {m} 点没电了", "电话 {h} 点打给你", "我的微信昵称改了 {d} 次",
    "我们群 {a} 人了", "群主说 {h} 点开会", "这个群 {y} 年建的", "群里 {b} 块的那个",
]
_SENTENCES = [
    "I will call you tomorrow about the contract", "Can you add me to the shared doc?",
    "Telegram is down again for everyone", "please contact the organiser if you are late",
    "The phone number on the website is outdated", "Weixin pay works in most shops now",
    "Our QQ music playlist has 40 songs", "加我一个呗，我也想参加", "微信一下子就卡住了", "电话一直打不通",
    "联系一下主办方吧", "手机号码换了记得说", "大家周六见，别迟到", "这个群的规矩大家看一下",
]


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.sampled_from(_NUMBER_PHRASES), st.integers(1, 999), st.integers(100, 99999), st.integers(1990, 2035),
       st.integers(1, 12), st.integers(1, 28), st.integers(0, 23), st.integers(0, 59), st.integers(1, 4))
def test_ordinary_numbers_are_not_handles(template, a, b, y, m, d, h, mi, q):
    text = template.format(a=a, b=b, y=y, m=m, d=d, h=h, mi=mi, q=q)
    assert handles(text) == [], (text, normalize(text))


def test_ordinary_sentences_are_not_handles():
    assert {s: handles(s) for s in _SENTENCES} == {s: [] for s in _SENTENCES}


def test_handles_found_in_order_and_once():
    text = "加v：abc_123 或 QQ 7305512，电话 139 1234 5678，再说一次 vx abc_123"
    assert handles(text) == ["abc_123", "7305512", "13912345678"]
    assert handles("电话 139 1234 5678，" + text) == ["13912345678", "abc_123", "7305512"]


def test_word_glued_to_an_id_is_not_split():
    """"vxabc123" may be an id of its own; only a separator makes the word a contact word."""
    assert handles("vxabc123") == []
    assert handles("vx abc123") == ["abc123"]
