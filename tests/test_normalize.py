"""The normalised view undoes one evasion per operation, and leaves ordinary text readable."""
from __future__ import annotations

import subprocess
import sys

import pytest

from agent.moderation.text import Text
from agent.textnorm import compact, normalize


@pytest.mark.parametrize("written, read", [
    ("ＡＢＣ１２３", "abc123"),                 # full-width → half-width, lower case
    ("раураl", "paypal"),                        # Cyrillic lookalikes → Latin
    ("❸❹❺", "345"),                              # digits of other sets
    ("a\u200bb\u200dc\ufeffd", "abcd"),          # zero-width marks dropped
    ("s̶a̶l̶e̶", "sale"),                          # combining overlays dropped
    ("電腦軟體", "电脑软体"),                             # traditional → simplified
    ("加 ✨ 好 ✨ 友", "加好友"),                   # decoration between Chinese characters
    ("加*好*友", "加好友"),
    ("s a l e today", "sale today"),             # spaced-out letters joined
    ("1 2 3 4 5 6", "123456"),
])
def test_each_operation(written, read):
    assert normalize(written) == read


@pytest.mark.parametrize("written", ["wei xin", "WeiXin", "w e i x i n", "喂心", "威信", "微信"])
def test_forms_of_wechat_read_as_the_word(written):
    assert normalize(f"加{written}聊") .replace(" ", "") == "加微信聊"


@pytest.mark.parametrize("mark", ["·", "-", "~", "/", "★", "🈲", "❤️", "|", "、"])
def test_a_mark_strewn_through_a_message_is_read_as_nothing(mark):
    assert compact(mark.join("兼职日结 加我 shop_2024")) == "兼职日结加我shop_2024"
    assert normalize(mark.join("www.example.net")) == "www.example.net"


@pytest.mark.parametrize("text, kept", [("Linux/Mac/Windows/BSD all work here", "/"), ("Kai | Nanshan | owner", "|"),
                                        ("苹果，香蕉，葡萄，橙子，西瓜都有", ","), ("苹果、香蕉、葡萄都有", "、"), ("2025-10-01 8:00-9:30 集合", "-")])
def test_ordinary_marks_stay(text, kept):
    assert kept in normalize(text)


@pytest.mark.parametrize("written, name", [("危辛", "微信"), ("薇芯", "微信"), ("旗娥", "企鹅"), ("七饿", "企鹅")])
def test_a_channel_name_spelled_by_sound_reads_as_the_name_before_an_id(written, name):
    assert compact(f"有事加我{written}：shop_2024") == f"有事加我{name}:shop_2024"
    assert compact(f"{written}号 123456789") == f"{name}号123456789"


@pytest.mark.parametrize("text", ["一位新同学刚进群", "维新变法的历史", "为新手准备了礼包"])
def test_the_same_sounds_in_ordinary_words_stay(text):
    assert normalize(text) == text


@pytest.mark.parametrize("glyph", ["√", "✔", "🅥", "❤️", "ㄨ", "★", "∨"])
def test_a_glyph_standing_for_wei_before_xin_with_an_id_reads_as_wechat(glyph):
    assert compact(f"有需要的加我{glyph}信 shop_2024") == "有需要的加我微信shop_2024"
    assert compact(f"{glyph}信：shop_2024") == "微信:shop_2024"


@pytest.mark.parametrize("text", ["我相信 abcdef 会赢", "回信 hello 已收到", "x√信 abcd", "★信★ 好的"])
def test_xin_stays_xin_without_a_glyph_before_it_and_an_id_after(text):
    assert "微信" not in normalize(text)


@pytest.mark.parametrize("written, read", [
    ("打 幺三九 一二三四 五六七八", "13912345678"),
    ("打 壹叁玖壹贰叁肆伍陆柒捌", "13912345678"),
    ("打 ①③⑨①②③④⑤⑥⑦⑧", "13912345678"),
    ("打 l39l2345678", "13912345678"),
])
def test_numerals_in_a_number_read_as_digits(written, read):
    assert compact(written) == "打" + read


@pytest.mark.parametrize("text", [
    "一五一十地说清楚", "房租5000一个月", "下午3点30分", "九九八十一难", "微信一下子就卡了", "三三两两来了",
])
def test_numerals_in_words_stay_words(text):
    assert normalize(text) == text


@pytest.mark.parametrize("written, read", [
    ("看 example点com 的说明", "看 example.com 的说明"),
    ("shop。example。cn/a", "shop.example.cn/a"),
    ("site (dot) org", "site.org"),
])
def test_dots_written_as_words(written, read):
    assert normalize(written) == read


def test_dot_word_without_a_top_level_domain_is_not_a_dot():
    assert normalize("abc点xyzzy") == "abc点xyzzy"


def test_english_keeps_its_word_spaces():
    text = "I think a good plan is to meet at 10 am"
    assert normalize(text) == text.lower()
    assert "plan is" in Text(raw=text).folded and "planis" in Text(raw=text).compact


def test_empty_and_whitespace():
    assert normalize("") == "" and normalize("  \u200b ") == ""


def test_tables_are_built_at_first_use_not_at_import():
    probe = ("import agent.textnorm as t; from agent.textnorm import chars, lexicon; "
             "print(chars.table.cache_info().currsize, lexicon.sound_digits.cache_info().currsize, t._t2s.cache_info().currsize)")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["0", "0", "0"]
