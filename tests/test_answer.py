"""The answer route end to end: Chroma, the offline embedding, the real pipeline on the demo group."""
from datetime import datetime, timedelta, timezone

import pytest

from agent.channels.memory import MemoryChannel
from agent.events import DecisionKind

CST = timezone(timedelta(hours=8))


def channel(app):
    return MemoryChannel(app.pipeline, app.settings.groups["demo"], clock=datetime(2025, 3, 10, 10, 0, tzinfo=CST))


def test_answerable_question_is_answered_citing_the_file(demo_app):
    ch = channel(demo_app)
    member = demo_app.settings.groups["demo"].members[0].id
    d = ch.send(member, "周六长距离几点集合？在哪里集合？")
    assert d.kind == DecisionKind.ANSWER
    assert "6:30" in d.reply and "events.md" in d.reply
    assert d.sources[0].file == "events.md"
    assert d.actions[0].mentions == (member,)  # replies @ the asker


def test_unknown_when_addressed_says_so_and_records_the_gap(demo_app):
    ch = channel(demo_app)
    group = demo_app.settings.groups["demo"]
    member = group.members[1].id
    d = ch.send(member, f"@{group.bot_name} 跑团有没有合作的理疗诊所，医保能报销吗")
    assert d.kind == DecisionKind.UNKNOWN
    assert "知识库里还没有" in d.reply
    gaps = [g["question"] for g in demo_app.store.open_gaps("demo")]
    assert any("理疗诊所" in q for q in gaps)


def test_unknown_when_not_addressed_is_a_silent_gap(demo_app):
    ch = channel(demo_app)
    member = demo_app.settings.groups["demo"].members[2].id
    d = ch.send(member, "有人知道跑团有没有合作的理疗诊所吗，医保能不能报销")
    assert d.kind == DecisionKind.UNKNOWN and d.actions == []


def test_peer_poll_is_not_taken_by_the_bot(demo_app):
    ch = channel(demo_app)
    member = demo_app.settings.groups["demo"].members[3].id
    d = ch.send(member, "你们觉得碳板鞋和普通训练鞋哪个好穿")
    assert d.kind not in (DecisionKind.ANSWER, DecisionKind.UNKNOWN)


class RefusingModel:
    """A small model that says NO_ANSWER to everything (as the 1.5B local model often does)."""

    label = "refusing"

    def __init__(self):
        from agent.llm.provider import Usage

        self.usage = Usage()

    def complete(self, system, user, max_tokens):
        from agent.llm.provider import Completion

        self.usage.calls += 1
        return Completion("NO_ANSWER", 100, 2, "fake")


@pytest.mark.e2e
def test_dont_know_is_retrievals_call_not_the_models(settings):
    """A confident passage is still quoted when the model refuses; an unsure one stays unknown."""
    from agent.answering.writer import AnswerWriter
    from agent.app import build
    from agent.llm.budget import Budget
    from agent.routes.answer import AnswerRoute

    app = build(settings, ephemeral=True)
    app.sync_knowledge()
    model = RefusingModel()
    route = next(r for r in app.pipeline.routes if isinstance(r, AnswerRoute))
    route.writer = AnswerWriter(model, Budget(store=app.store), settings.llm)
    ch = channel(app)
    member = settings.groups["demo"].members[0].id
    sure = ch.send(member, "半马比赛途中能量胶大概多久吃一支？")
    assert sure.kind == DecisionKind.ANSWER and sure.llm_calls == 1 and "30–40分钟" in sure.reply
    unsure = ch.send(member, "跑团有没有合作的理疗诊所，医保能报销吗")
    assert unsure.kind == DecisionKind.UNKNOWN
    app.close()


def test_word_overlap_cannot_veto_a_cross_lingual_passage():
    """Across languages no content word matches: the embedding-only regression decides, so the
    lexical features (all zero for such a pair) carry no weight."""
    from agent.answering import model
    from agent.answering.features import EMBEDDING_ONLY, NAMES

    fitted = model.current()
    lexical = [n for n in NAMES if n not in EMBEDDING_ONLY]
    none = tuple(0.0 if n in lexical else 0.5 for n in NAMES)
    full = tuple(1.0 if n in lexical else 0.5 for n in NAMES)
    assert fitted.probability(none, cross=True) == fitted.probability(full, cross=True)
    assert fitted.probability(none, cross=False) < fitted.probability(full, cross=False)


def test_cross_lingual_pairs_are_judged_by_the_embedding_model():
    from agent.answering.features import cross_lingual

    assert cross_lingual("Where is the meeting?", "## 月度聚会\n地点：图书馆204室")
    assert cross_lingual("聚会在哪里？", "Meetings are held in room 204 of the library.")
    assert not cross_lingual("聚会在哪里？ room 204", "地点：图书馆204室")


def _asked(seed: int):
    """Synthetic labelled questions: answerable ones have one passage clearly ahead."""
    import random

    from agent.answering.calibrate import Asked, Row
    from agent.answering.features import NAMES

    rng = random.Random(seed)
    out = []
    for n in range(120):
        answerable = n % 3 != 0
        rows = []
        for rank in range(3):
            holds = answerable and rank == 0
            base = 0.75 if holds else 0.45
            values = tuple(min(1.0, max(0.0, base + rng.gauss(0, 0.1))) for _ in NAMES)
            rows.append(Row(values, False, holds))
        out.append(Asked(f"g{n % 4}", "answer" if answerable else "unknown", tuple(rows)))
    return out


def test_fitting_is_deterministic_and_puts_the_cut_at_one_half(tmp_path):
    from agent.answering import calibrate
    from agent.answering.model import AnswerModel

    asked = _asked(0)
    first, second = calibrate.fit(asked), calibrate.fit(asked)
    assert first.as_dict() == second.as_dict()
    first.save(tmp_path / "m.json")
    assert AnswerModel.from_dict(__import__("json").loads((tmp_path / "m.json").read_text())).as_dict() == first.as_dict()
    n = calibrate.outcome(calibrate.decisions(first, asked), 0.5)
    assert n["right"] >= 70 and n["invented"] <= 2  # separable data: 0.5 is where the fitted cut lies
    assert "text" not in str(first.meta)


def test_the_cut_is_set_on_groups_the_deciding_model_did_not_see():
    from agent.answering import calibrate
    from agent.answering.model import AnswerModel

    asked = _asked(2)
    decided = calibrate.out_of_fold(asked)
    assert [e for e, _, _ in decided] == [a.expect for g in sorted({a.group for a in asked})
                                           for a in asked if a.group == g]
    first = next(a for a in asked if a.group == "g0")
    without = AnswerModel(*calibrate._regressions([a for a in asked if a.group != "g0"]), {})
    assert decided[0][1] == calibrate.decide(without, first)[0]
    assert calibrate.decide(AnswerModel(*calibrate._regressions(asked), {}), first)[0] != decided[0][1]


def test_a_held_out_model_is_used_only_inside_its_block():
    from agent.answering import calibrate, model

    shipped = model.current()
    fitted = calibrate.fit(_asked(1))
    with model.using(fitted):
        assert model.current() is fitted
    assert model.current() is shipped
