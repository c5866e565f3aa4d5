"""The words jieba learns from a knowledge base: what depends on them follows them, and a sandboxed
app (the eval's) starts from jieba's own dictionary, so a group is never cut by the words another
group's knowledge taught earlier in the same process."""
from agent.answering.compose import rarity
from agent.kb import tokenize
from agent.kb.tokenize import add_words, content_tokens, forget_words

WORD = "栖霞岭步道"  # made up for this test: not in jieba's dictionary


def test_a_learned_word_is_cut_whole_until_the_words_are_forgotten():
    forget_words()
    before = content_tokens(f"{WORD}怎么走")
    assert WORD not in before
    assert add_words([WORD]) == 1
    assert WORD in content_tokens(f"{WORD}怎么走")  # the cached cut of the same text was dropped
    forget_words()
    assert content_tokens(f"{WORD}怎么走") == before


def test_cached_word_counts_are_dropped_when_the_dictionary_changes():
    forget_words()
    rarity("集合")
    assert rarity.cache_info().currsize > 0
    add_words([WORD])  # jieba's counts (and their total) now include it
    assert rarity.cache_info().currsize == 0
    forget_words()


def test_the_eval_sandbox_forgets_an_earlier_groups_words(tmp_path):
    from agent.eval import sandbox
    from agent.settings import load_settings

    add_words([WORD])
    folder = tmp_path / "g"
    (folder / "knowledge").mkdir(parents=True)
    (folder / "knowledge" / "faq.md").write_text("# 常见问题\n\n## 集合\n周六8点在东门集合。\n", encoding="utf-8")
    (folder / "group.yaml").write_text(
        "id: g\nname: 测试群\nlanguage: zh\ntheme: 周末活动\ndescription: 周末活动安排\nrules: [不发广告]\n"
        "owners: [{id: o1, name: 群主}]\nmembers: [{id: m1, name: 小明}]\n", encoding="utf-8")
    with sandbox(folder, load_settings("config")):
        assert WORD not in tokenize._added
        assert WORD not in content_tokens(f"{WORD}怎么走")
