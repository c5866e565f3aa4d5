"""Hybrid retrieval: fusion, query cleaning, coverage, scope isolation, and an end-to-end check on
the eval dev-set knowledge with the real offline embedding."""
import re
import shutil
from pathlib import Path

import chromadb
import pytest

from agent.kb import KnowledgeBase, USEEmbeddingFunction
from agent.kb.retrieve import LexicalIndex, clean_query, fuse, index_terms

EVAL_KNOWLEDGE = Path(__file__).resolve().parents[1].parent / "shared" / "eval" / "newmedia" / "knowledge"


def test_fuse_is_weighted_reciprocal_rank():
    fused = fuse([([0, 1, 2], 1.0), ([2, 0], 2.0)], k=10)
    assert fused[0] == pytest.approx(1 / 11 + 2 / 12)
    assert fused[1] == pytest.approx(1 / 12)
    assert fused[2] == pytest.approx(1 / 13 + 2 / 11)
    assert max(fused, key=fused.get) == 2


def test_clean_query_strips_mentions_and_emoji():
    assert clean_query("@小运\u2005分享会几点开始[流泪]😭") == "分享会几点开始"
    assert clean_query("@林岚 群主好 请问怎么入群🙏") == "群主好 请问怎么入群"


def test_index_terms_add_characters_of_chinese_words():
    assert index_terms(["书单", "gif"]) == ["书单", "gif", "书", "单"]


def test_coverage_is_idf_weighted_share_of_query_words():
    index = LexicalIndex(["沙龙 票价 99元", "沙龙 地点 杭州", "分享会 回放"])
    assert index.coverage(["沙龙", "票价"], 0) == pytest.approx(1.0)
    partial = index.coverage(["沙龙", "票价"], 1)
    assert 0 < partial < 0.5  # 沙龙 is in two docs, so it weighs less than the missing 票价
    assert index.coverage(["发票"], 2) == 0.0
    assert index.coverage([], 0) == 0.0
    assert LexicalIndex(["可以开电子发票"]).coverage(["开发票"], 0) == pytest.approx(0.5)


def heading_over(file: str, word: str) -> str:
    """The text of the last heading above the first line of an eval knowledge file that holds `word`
    (read from the file, so the test names none of the eval set's wording)."""
    heading = ""
    for line in (EVAL_KNOWLEDGE / file).read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            heading = line.lstrip("#").strip()
        elif word in line:
            return heading
    raise AssertionError(f"{word!r} not in {file}")


def faq_question(word: str) -> str:
    """The eval FAQ's question (between "**Q：" and "**") that holds `word`."""
    text = (EVAL_KNOWLEDGE / "faq.md").read_text(encoding="utf-8")
    [question] = [q for q in re.findall(r"^\*\*Q[：:]\s*(.+?)\*\*\s*$", text, re.M) if word in q]
    return question


@pytest.fixture(scope="module")
def dev_kb(tmp_path_factory):
    if not EVAL_KNOWLEDGE.is_dir():
        pytest.skip(f"eval dev set not found at {EVAL_KNOWLEDGE} (shared/ beside the clone)")
    root = tmp_path_factory.mktemp("kb")
    shutil.copytree(EVAL_KNOWLEDGE, root / "dev")
    (root / "other").mkdir()
    (root / "other" / "secret.md").write_text("## 内部\n沙龙的真实票价是一千元。", encoding="utf-8")
    kb = KnowledgeBase(chromadb.EphemeralClient(), USEEmbeddingFunction(), collection="dev_e2e")
    kb.sync({"dev": root / "dev", "other": root / "other"})
    return kb


@pytest.mark.e2e
@pytest.mark.parametrize("query, expected", [
    ("每周的分享会是星期几几点？", "events.md"),
    ("线下沙龙的门票多少钱，有早鸟价吗", "events.md"),
    ("服务号一个月能群发几次", "faq.md"),
    ("头条封面图的尺寸比例是多少", "headline-layout.md"),
    ("朋友圈海报做多大尺寸合适", "poster-qrcode.md"),
    ("违规第二次会被怎么处理", "rules.md"),
    ("新人资料包去哪里下载", "onboarding.md"),
    ("有哪些好用的排版编辑器", "tools.md"),
    ("打开率是怎么计算的", "growth.md"),
    ("what is the refund policy for the salon?", "events.md"),
])
def test_answerable_questions_find_their_file_in_top3(dev_kb, query, expected):
    hits = dev_kb.search(query, ["dev"], k=3)
    assert expected in [h.file for h in hits]


@pytest.mark.e2e
def test_hits_carry_all_features(dev_kb):
    hits = dev_kb.search("@小运 沙龙的票价是多少", ["dev"], k=5)
    assert len(hits) == 5
    assert [h.rrf for h in hits] == sorted((h.rrf for h in hits), reverse=True)
    top = hits[0]
    assert top.file == "events.md" and top.scope == "dev" and top.heading.endswith(heading_over("events.md", "票价"))
    assert "票价" in top.text and top.bm25 > 0 and 0 < top.dense <= 1
    assert top.lexical_coverage == pytest.approx(1.0)
    assert all(0 <= h.lexical_coverage <= 1 for h in hits)


@pytest.mark.e2e
def test_coverage_tolerates_a_different_word_cut(dev_kb):
    top = dev_kb.search("沙龙能开发票吗", ["dev"], k=1)[0]  # jieba: 开发票; the file: 开电子普通发票
    assert top.file == "events.md" and top.lexical_coverage > 0.6


@pytest.mark.e2e
def test_faq_hits_expose_their_question(dev_kb):
    hit = dev_kb.search("公众号改名一年能改几次", ["dev"], k=1)[0]
    assert hit.file == "faq.md" and hit.question == faq_question("名字")


@pytest.mark.e2e
def test_unknown_question_has_low_coverage(dev_kb):
    answerable = dev_kb.search("沙龙的签到时间是几点", ["dev"], k=1)[0]
    unknown = dev_kb.search("视频号直播怎么挂商品链接赚佣金", ["dev"], k=1)[0]
    assert unknown.lexical_coverage < answerable.lexical_coverage


@pytest.mark.e2e
def test_scopes_are_isolated(dev_kb):
    assert all(h.scope == "dev" for h in dev_kb.search("沙龙票价", ["dev"], k=10))
    assert dev_kb.search("沙龙票价", ["other"], k=3)[0].file == "secret.md"
    assert {h.scope for h in dev_kb.search("沙龙票价", ["dev", "other"], k=10)} == {"dev", "other"}
    assert dev_kb.search("沙龙票价", ["nobody"]) == []
