"""The reduced reading table (agent/textnorm/readings.txt) stands in for pypinyin's at run time: it must
say what pypinyin says, and reading a message must not load pypinyin's 55 MB table."""
from __future__ import annotations

import subprocess
import sys

from agent.textnorm import lexicon


def test_the_shipped_table_is_what_pypinyin_gives():
    assert lexicon.READINGS.read_text(encoding="utf-8") == lexicon.derived_readings()


def test_contact_words_are_spelled_as_pypinyin_spells_them():
    from pypinyin import lazy_pinyin

    for word in lexicon._data()["pinyin"]:
        assert lexicon.spell(word) == lazy_pinyin(word), word


def test_homophones_and_digit_sounds_read_from_the_table():
    reading = lexicon.readings()
    assert reading["微"] == reading["薇"] == reading["威"] == "wei"
    assert lexicon.sound_digits()["巴"] == "8" and lexicon.sound_digits()["幺"] == "1"


def test_reading_a_message_leaves_pypinyins_table_unloaded():
    code = ("import sys; from agent.moderation import classifier; from agent.textnorm import normalize; "
            "classifier.grams(classifier.normal('加薇信 wei xin 幺三八'), sounds=True); normalize('ｖｘ：abc 加喂心'); "
            "print('pypinyin.pinyin_dict' in sys.modules, 'pypinyin' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["False", "False"]
