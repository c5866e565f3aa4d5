"""Where a template meets inserted text (knowledge, rules, member text), no two marks meet."""
from pathlib import Path

import pytest

from agent import wording
from agent.llm.prompts import Prompts

ROOT = Path(__file__).resolve().parent.parent / "prompts"
PROMPTS = Prompts(ROOT)
ENDINGS = sorted(wording.MARKS) + ["……", "...", ""]
SENTENCE = {"zh": "不要在群里发网盘链接", "en": "no file-sharing links in the group"}


def doubled(text: str) -> list[str]:
    """Places where a plain mark is followed by another mark, or a strong one by a plain one. An
    ellipsis written as dots ("...") or twice ("……") is one mark."""
    found = []
    text = text.replace("...", "…")
    for i in range(len(text) - 1):
        a, b = text[i], text[i + 1]
        if a in wording.MARKS and b in wording.MARKS and (a in wording.PAUSE or b in wording.PAUSE):
            found.append(text[max(0, i - 8):i + 8])
    return found


@pytest.mark.parametrize("left,right,joined", [
    ("不要转账。", "，谢谢配合", "不要转账，谢谢配合"),
    ("网盘链接。", "。", "网盘链接。"),
    ("能停车吗？", "。", "能停车吗？"),
    ("真的！", "，谢谢", "真的！谢谢"),
    ("No ads.", ". Thanks", "No ads. Thanks"),
    ("No ads.", ", thanks", "No ads, thanks"),
    ("群规第3条：", "。", "群规第3条。"),
    ("好吗？", "？", "好吗？"),
    ("好的", "。", "好的。"),
    ("（见群公告）", "。", "（见群公告）。"),
])
def test_join(left, right, joined):
    assert wording.join(left, right) == joined


def test_fill_formats_like_format():
    assert wording.fill("{n:>3}|{x!r}|{{x}}", {"n": 7, "x": "a"}) == "  7|'a'|{x}"


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("name", sorted({p.stem for p in ROOT.glob("*/*.txt")}))
def test_every_prompt_joins_inserted_sentences_cleanly(lang, name):
    variables = PROMPTS.variables(name, lang)
    assert not doubled(PROMPTS.raw(name, lang)), "the template itself doubles a mark"
    for ending in ENDINGS:
        text = PROMPTS.render(name, lang, **{v: SENTENCE[lang] + ending for v in variables})
        assert not doubled(text), (ending, doubled(text))
