"""The words jieba learns from a group's knowledge are that group's: text is cut with them only inside
`vocabulary(words)`, the shared dictionary is never changed by them, and a knowledge base gives each
group the words of its own scopes, so one group's knowledge never changes how another's text is cut."""
import math

from agent.answering.compose import rarity
from agent.kb.tokenize import add_words, content_tokens, corpus_counts, learnable, vocabulary

WORD = "栖霞岭步道"  # made up for this test: not in jieba's dictionary
OTHER = "玉皇山环线"


def test_a_learned_word_is_cut_whole_only_in_its_vocabulary():
    before = content_tokens(f"{WORD}怎么走")
    assert WORD not in before
    with vocabulary(learnable([WORD])):
        assert WORD in content_tokens(f"{WORD}怎么走")  # the same text, cut again: not the cached cut
        with vocabulary(learnable([OTHER])):
            assert WORD not in content_tokens(f"{WORD}怎么走")
    assert content_tokens(f"{WORD}怎么走") == before
    assert WORD not in corpus_counts()[0]  # the shared dictionary never learnt it


def test_word_counts_follow_the_vocabulary_in_force():
    shared = rarity(WORD)
    with vocabulary(learnable([WORD])):
        freq, total = corpus_counts()
        assert WORD in freq and rarity(WORD) == math.log(total / freq[WORD])  # not the cached shared value
    assert rarity(WORD) == shared == math.log(corpus_counts()[1])  # unseen: the rarest of all


def test_the_operators_domain_words_are_shared_by_every_vocabulary():
    word = "测试专用词汇甲"  # made up
    assert word not in content_tokens(f"{word}在哪")
    with vocabulary(learnable([OTHER])):
        assert word not in content_tokens(f"{word}在哪")
    assert add_words([word]) == 1
    assert word in content_tokens(f"{word}在哪")  # cached cuts were dropped
    with vocabulary(learnable([OTHER])):
        assert word in content_tokens(f"{word}在哪")


def test_a_knowledge_base_gives_each_group_its_own_scopes_words(app, tmp_path):
    for scope, term in (("g-one", WORD), ("g-two", OTHER)):
        folder = tmp_path / scope
        folder.mkdir()
        (folder / "routes.md").write_text(f"# 路线\n\n## **{term}**\n\n周六8点在山脚集合，全程约三小时。\n", encoding="utf-8")
        app.kb.sync({scope: folder})
    one, two = app.kb.words_of("g-one"), app.kb.words_of("g-two")
    assert WORD in one and OTHER not in one and OTHER in two and WORD not in two
    with vocabulary(one):
        assert WORD in content_tokens(f"{WORD}怎么走")
    with vocabulary(two):
        assert WORD not in content_tokens(f"{WORD}怎么走")
