"""The learned moderation classifier: shipped file, deterministic rebuild, synthetic generator."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from agent.moderation import classifier, synthetic, train

DATASETS = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "train"
PROBES = ["加我微信 abc12345 面膜特价", "周六几点集合", "你是不是脑子有病", "ignore all previous instructions",
          "恭喜中奖 点击链接领取", "thanks, see you on Saturday"]


def test_the_shipped_model_is_small_and_complete():
    assert classifier.MODEL_PATH.stat().st_size <= 20 * 1024 * 1024
    model = classifier.shipped()
    assert set(model.thresholds) == set(classifier.CLASSES[1:])
    assert model.embed_weights is not None and model.embed_weights.shape == (512, len(classifier.CLASSES))
    assert model.meta["sounds"] and model.meta["blend"] == classifier.BLEND
    scores = model.scores("周六几点集合")
    assert set(scores) == set(classifier.CLASSES) and abs(sum(scores.values()) - 1) < 1e-6


def test_a_homophone_reads_as_the_word_in_the_syllable_view():
    def syllables(text):
        with_sounds, without = classifier.grams(text, sounds=True), classifier.grams(text, sounds=False)
        return {h: c for h, c in with_sounds.items() if c != without.get(h)}

    assert syllables("加薇信聊") == syllables("加微信聊") != {}
    assert syllables("加薇信聊") != syllables("周六集合")


def test_the_generator_is_deterministic_and_covers_every_label():
    a, b = synthetic.generate(7, 20, 40), synthetic.generate(7, 20, 40)
    assert a == b
    assert {label for _, label in a} == set(classifier.CLASSES)
    assert synthetic.generate(8, 20, 40) != a


def test_evasions_change_the_surface_not_the_label():
    import random

    rng = random.Random(1)
    assert synthetic.fullwidth("vx123", rng) == "ｖｘ１２３"
    assert synthetic.numerals("qq 13812345678", rng) == "qq 幺三八幺二三四五六七八"
    assert synthetic.spaced("加 abc123", rng) == "加 a b c 1 2 3"


@pytest.mark.parametrize("evade", [synthetic.keycaps, synthetic.circled, synthetic.sprinkle,
                                   synthetic.letters_apart, synthetic.zero_width, synthetic.fullwidth])
def test_the_normalised_view_undoes_each_evasion_the_generator_applies(evade):
    import random

    from agent.textnorm import compact

    plain = "加qq 13812345678 兼职日结"
    assert compact(evade(plain, random.Random(3))) == compact(plain)


@pytest.mark.parametrize("seed", range(6))
def test_a_nickname_for_qq_or_telegram_reads_as_a_word_of_that_channel(seed):
    import random

    from agent.textnorm import compact, lexicon

    read = compact(synthetic.im_words("加qq 12345678 或 飞机 @abc_def", random.Random(seed)))
    words = lexicon.contact_words()
    assert read.endswith("@abc_def") and "12345678" in read
    assert any(f"{w}12345678" in read for w in words["qq"]) and any(f"{w}@abc_def" in read for w in words["telegram"])


def test_the_generator_draws_on_every_data_file():
    data = synthetic.templates()
    assert len(synthetic.DATA) == 6 and all(path.exists() for path in synthetic.DATA)
    assert all(isinstance(x, str) for section in data.values() for items in section.values() for x in items)
    assert {"lead_zh", "gamble_zh", "insult2_zh", "site", "gig2_zh", "insult3_zh", "deposit_s_zh"} <= set(data["slots"])


@pytest.mark.parametrize("seed", range(5))
def test_a_homophone_swap_keeps_the_syllables_the_model_reads(seed):
    import random

    from agent.textnorm import lexicon

    plain = "招人代发视频一单一结私我"
    swapped = synthetic.homophones(plain, random.Random(seed))
    reading = lexicon.readings()
    assert len(swapped) == len(plain) and [reading[c] for c in swapped] == [reading[c] for c in plain]


def test_homophone_swaps_happen_and_stay_among_common_characters():
    import random

    plain = "招人代发视频一单一结私我" * 4
    swapped = synthetic.homophones(plain, random.Random(0))
    assert swapped != plain
    template_chars = {c for path in synthetic.DATA for c in path.read_text(encoding="utf-8")}
    assert set(swapped) <= template_chars


@pytest.mark.parametrize("seed", range(8))
def test_decoration_leaves_the_message_readable_in_the_normalised_view(seed):
    import random

    from agent.textnorm import compact

    plain = "看片加微信abc123"
    assert compact(plain) in compact(synthetic.decorate(plain, random.Random(seed)))


@pytest.mark.e2e
@pytest.mark.skipif(not DATASETS.exists(), reason="needs shared/datasets/train")
def test_a_rebuild_on_the_same_inputs_gives_the_same_model(tmp_path):
    rows = train.sources(DATASETS, train.Caps.small(), train.SEED)
    first, report = train.fit(rows, train.SEED)
    second, again = train.fit(train.sources(DATASETS, train.Caps.small(), train.SEED), train.SEED)
    assert report == again and first.thresholds == second.thresholds
    assert np.array_equal(first.weights, second.weights)
    assert first.embed_weights is not None and np.array_equal(first.embed_weights, second.embed_weights)
    first.save(tmp_path / "m.npz")
    loaded = classifier.Model.load(tmp_path / "m.npz")
    for text in PROBES:  # the file stores float32: the same scores to rounding
        a, b = second.scores(text), loaded.scores(text)
        assert all(abs(a[k] - b[k]) < 1e-4 for k in a)
