"""A fact an owner adds from chat (`/kb add`, `/answer N`) is a passage of its own, embedded with the
question it answered and its clauses, so a member asking in other words finds it first: before,
every entry of the chat file was one chunk, and a short fact drowned among the others.

The entries are written as the chat commands write them (agent.kb.edit, each closed by the who-and-
when note line); the facts and questions are this test's own."""
from __future__ import annotations

import time
from pathlib import Path

import chromadb
import pytest

from agent.kb import KnowledgeBase, USEEmbeddingFunction
from agent.kb.ingest import chunk_text

REPO = Path(__file__).resolve().parents[1]
NOTE = (REPO / "prompts" / "zh" / "kb_entry_note.txt").read_text(encoding="utf-8").strip()
CHAT_FILE = "added-in-chat.md"
FAQ = ("# 常见问题\n\n**Q：怎么入会？**\nA：填写报名表并缴纳年费。\n\n"
       "**Q：讲座在哪里举行？**\nA：平时的讲座在文化馆三楼。\n")
# (fact as the owner typed it, a member's question in other words)
ADDED = [
    ("外拍活动的集合点改到地铁站B口，早上八点出发。", "外拍在哪儿碰头？"),
    ("器材室的三脚架可以登记借用，一次最多三天。", "三脚架能借多久？"),
    ("会员冲洗照片打九折，在前台报会员号即可。", "洗照片有会员价吗？"),
]
# an unanswered question an owner answered with /answer, and how someone else asks it later
ASKED, ANSWER, REWORDED = "暗房晚上开放吗？", "暗房周二和周五晚上七点到十点开放。", "晚上能去暗房冲胶卷吗？"


def note(n: int) -> str:
    return NOTE.format(who=f"群主{n}", when=f"2026-03-0{n + 1} 20:1{n}")


@pytest.fixture(scope="module")
def kb(tmp_path_factory) -> KnowledgeBase:
    folder = tmp_path_factory.mktemp("club")
    (folder / "faq.md").write_text(FAQ, encoding="utf-8")
    kb = KnowledgeBase(chromadb.EphemeralClient(), USEEmbeddingFunction(),
                       collection=f"t{time.perf_counter_ns()}")
    kb.sync({"club": folder})
    kb.search("预热", ["club"])  # the index is built, so every add below rebuilds it in the background
    for n, (fact, _) in enumerate(ADDED):
        kb.add_entry("club", CHAT_FILE, f"{fact}\n{note(n)}")
    kb.add_entry("club", CHAT_FILE, f"{ANSWER}\n{note(len(ADDED))}", question=ASKED)
    assert kb.ready(timeout=120)
    return kb


@pytest.mark.parametrize("fact,question", ADDED)
def test_a_reworded_question_finds_the_added_fact_first_and_alone(kb, fact, question):
    top = kb.search(question, ["club"], k=3)[0]
    assert top.file == CHAT_FILE and top.text == fact, top


def test_a_fact_added_by_answer_is_found_for_another_wording_of_its_question(kb):
    top = kb.search(REWORDED, ["club"], k=3)[0]
    assert top.file == CHAT_FILE and top.question == ASKED and ANSWER in top.text, top
    assert "<!--" not in top.text


def test_each_chat_entry_is_its_own_chunk_with_its_question_and_clauses():
    text = "".join(f"{fact}\n{note(n)}\n\n" for n, (fact, _) in enumerate(ADDED))
    text += f"**Q：{ASKED}**\nA：{ANSWER}\n{note(9)}\n"
    chunks = chunk_text("club", CHAT_FILE, text, chunk_size=360, chunk_overlap=40)
    assert [c.text for c in chunks[:3]] == [fact for fact, _ in ADDED]
    first = chunks[0].units
    assert "外拍活动的集合点改到地铁站B口" in first and "早上八点出发" in first
    pair = chunks[3]
    assert pair.question == ASKED and ASKED in pair.units and "暗房周二和周五晚上七点到十点开放" in pair.units


def test_hand_written_prose_without_notes_is_chunked_as_before():
    """Only a comment alone on its line ends an entry; other files gain no extra records."""
    text = "## 场地\n活动在文化馆。\n讲座在三楼。\n"
    (chunk,) = chunk_text("club", "places.md", text, chunk_size=360, chunk_overlap=40)
    assert chunk.phrasings == () and chunk.text == "活动在文化馆。\n讲座在三楼。"
