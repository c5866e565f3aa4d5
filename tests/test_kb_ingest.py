"""Files → chunks: headings kept as metadata, FAQ pairs whole, Chinese sentence boundaries, stable ids."""
from agent.kb.ingest import SEP, chunk_text, domain_terms, knowledge_files

FAQ = """# 常见问题

## 会员相关

**Q：普通会员和高级会员差在哪？**
A：普通会员每周能借书1次；高级会员每周能借书4次。

**Q：会员卡能转给别人吗？**
A：可以，每年最多转2次。
转之前先跟管理员说。

## 其他

Q: 可以带朋友来吗?
A: 可以，提前告诉管理员。

### 活动能退款吗？
提前两天以上取消的，钱全部退回；晚于这个时间就不退了，只能把名额转让出去。
"""


def test_faq_pairs_are_whole_chunks_with_question_metadata():
    chunks = chunk_text("g1", "faq.md", FAQ, chunk_size=360, chunk_overlap=40)
    by_q = {c.question: c for c in chunks if c.question}
    assert set(by_q) == {"普通会员和高级会员差在哪？", "会员卡能转给别人吗？", "可以带朋友来吗?", "活动能退款吗？"}
    assert "A：可以，每年最多转2次。\n转之前先跟管理员说。" in by_q["会员卡能转给别人吗？"].text
    assert by_q["可以带朋友来吗?"].text.startswith("Q: 可以带朋友来吗?") and "提前告诉管理员" in by_q["可以带朋友来吗?"].text
    assert "转让" in by_q["活动能退款吗？"].text


def test_faq_pair_longer_than_chunk_size_is_not_cut():
    answer = "这是一个很长的回答。" * 30
    chunks = chunk_text("g1", "faq.md", f"**Q：长问题？**\nA：{answer}\n", chunk_size=60, chunk_overlap=10)
    assert len(chunks) == 1 and answer in chunks[0].text


def test_heading_path_excludes_single_title_and_joins_levels():
    chunks = chunk_text("g1", "faq.md", FAQ, chunk_size=360, chunk_overlap=40)
    headings = {c.heading for c in chunks}
    assert headings == {"会员相关", "其他", f"其他{SEP}活动能退款吗？"}
    assert all(c.title == "常见问题" for c in chunks)
    # the embedded text carries the topic; the stored text stays raw for quoting
    first = chunks[0]
    assert first.embed_text.startswith(f"常见问题{SEP}会员相关{SEP}普通会员和高级会员差在哪？\n")
    assert not first.text.startswith("常见问题")


def test_several_h1_are_headings_not_a_title():
    chunks = chunk_text("g1", "a.md", "# 甲\n内容一。\n# 乙\n内容二。\n", 360, 40)
    assert [(c.title, c.heading) for c in chunks] == [("", "甲"), ("", "乙")]


def test_long_prose_splits_at_chinese_sentence_ends_within_size():
    sentence = "本群每周三晚上八点在群里语音分享运营经验，欢迎大家准时参加。"
    chunks = chunk_text("g1", "a.md", "## 分享会\n" + sentence * 12, chunk_size=100, chunk_overlap=0)
    assert len(chunks) > 1
    assert all(len(c.text) <= 100 for c in chunks)
    assert all(c.text.endswith("。") for c in chunks)


def test_bullets_stay_intact():
    bullets = [f"- 第{i}项：时间地点和报名方式都写在这里，内容稍微长一些，便于测试切分。" for i in range(8)]
    chunks = chunk_text("g1", "events.md", "## 活动\n" + "\n".join(bullets), chunk_size=120, chunk_overlap=0)
    assert len(chunks) > 1
    lines = [line for c in chunks for line in c.text.splitlines()]
    assert all(b in lines for b in bullets)


def test_ids_are_stable_unique_and_scope_specific():
    a = chunk_text("g1", "faq.md", FAQ, 360, 40)
    b = chunk_text("g1", "faq.md", FAQ, 360, 40)
    other = chunk_text("g2", "faq.md", FAQ, 360, 40)
    assert [c.id for c in a] == [c.id for c in b]
    assert len({c.id for c in a}) == len(a)
    assert not {c.id for c in a} & {c.id for c in other}
    edited = chunk_text("g1", "faq.md", FAQ.replace("2次", "3次"), 360, 40)
    assert {c.id for c in a} != {c.id for c in edited}
    assert len({c.content_hash for c in a}) == 1 and a[0].content_hash != edited[0].content_hash


def test_units_are_sentences_under_the_heading():
    chunks = chunk_text("g1", "faq.md", FAQ, 360, 40)
    units = chunks[0].units
    assert units[0].startswith(f"会员相关{SEP}普通会员和高级会员差在哪？\n")
    assert any(u.endswith("普通会员每周能借书1次；") for u in units)


def test_txt_files_are_not_markdown():
    chunks = chunk_text("g1", "notes.txt", "# 不是标题\n正文。", 360, 40)
    assert [c.heading for c in chunks] == [""] and chunks[0].text.startswith("# 不是标题")


def test_knowledge_files_lists_markdown_and_text_only(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / ".hidden").mkdir()
    for name in ("a.md", "sub/b.txt", "c.pdf", ".hidden/d.md"):
        (tmp_path / name).write_text("x", encoding="utf-8")
    assert list(knowledge_files(tmp_path)) == ["a.md", "sub/b.txt"]
    assert knowledge_files(tmp_path / "missing") == {}


def test_domain_terms_come_from_marked_text():
    text = "**备注名格式**：用“城市-行业”格式，推荐「秀米」和Canva，读《增长黑客》。这是一整句很长的普通文字。"
    terms = domain_terms(text, ["一、每周分享会"])
    assert {"备注名格式", "秀米", "增长黑客", "Canva", "每周分享会"} <= terms
    assert "一" not in terms and not any(len(t) > 6 for t in terms)


SHAPES = """# 常见问题

1. 能带朋友来吗？
   可以，提前一天告诉管理员。
2. 活动几点开始？ 每周六早上8:00。

**报名费多少？** 每次30元，现场交。

- **Can I bring a dog?** Only on the easy routes.

| 问题 | 回答 |
|---|---|
| 下雨还去吗？ | 小雨照常，大雨取消。 |
| 在哪里集合 | 地铁站B口 |

Where do we meet in winter?
At the library entrance.

Q1：要自带水吗？
A：要，至少1升。
"""


def test_every_faq_shape_is_one_pair_per_question():
    chunks = chunk_text("g1", "faq.md", SHAPES, chunk_size=360, chunk_overlap=40)
    by_q = {c.question: c.text for c in chunks if c.question}
    assert by_q == {
        "能带朋友来吗？": "可以，提前一天告诉管理员。",
        "活动几点开始？": "每周六早上8:00。",
        "报名费多少？": "每次30元，现场交。",
        "Can I bring a dog?": "Only on the easy routes.",
        "下雨还去吗？": "小雨照常，大雨取消。",
        "在哪里集合": "地铁站B口",
        "Where do we meet in winter?": "At the library entrance.",
        "要自带水吗？": "Q1：要自带水吗？\nA：要，至少1升。",
    }


def test_an_ordinary_table_and_list_stay_prose():
    text = "## 价格\n\n| 路线 | 费用 |\n|---|---|\n| 东线 | 20元 |\n| 西线 | 30元 |\n\n- 小孩半价\n- 老人免费\n"
    chunks = chunk_text("g1", "fees.md", text, chunk_size=360, chunk_overlap=40)
    assert [c.question for c in chunks] == [""] and "西线" in chunks[0].text and "老人免费" in chunks[0].text


def test_a_quoted_faq_answer_never_carries_the_next_question():
    from agent.answering.compose import best_sentences

    chunks = chunk_text("g1", "faq.md", SHAPES, chunk_size=360, chunk_overlap=40)
    questions = [c.question for c in chunks if c.question]
    for c in chunks:
        quoted = best_sentences(c.question, c.text, 3, heading=c.heading, whole_below=360).text
        assert not any(q.rstrip("？?") in quoted for q in questions), (c.question, quoted)


def test_a_bold_line_of_its_own_titles_the_entry_below_it():
    """FAQ entries titled by a bold line (a topic, no question mark) are one passage each: the next
    title never ends up quoted as part of the entry above it."""
    text = ("## 常见问题\n\n**导入的图发虚**\n把过滤改成最近邻。\n\n**导出到手机**\n先装好构建模板，再选平台。\n\n"
            "**Storage abroad:**\n- Provider A, about 5 per TB.\n\n- **Note** plain bullet stays prose.\n")
    chunks = chunk_text("g1", "engine.md", text, chunk_size=360, chunk_overlap=40)
    by_q = {c.question: c.text for c in chunks}
    assert by_q["导入的图发虚"] == "把过滤改成最近邻。"
    assert by_q["导出到手机"].startswith("先装好构建模板")
    abroad = by_q["Storage abroad"]
    assert abroad.startswith("- Provider A") and "**Note** plain bullet" in abroad  # a bold list item stays
