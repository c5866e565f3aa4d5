"""Catch-up summaries: what goes in, what never does, and the length cap — on every labelled eval day."""
from datetime import datetime, timedelta
from itertools import groupby

import numpy as np
import pytest

from agent.llm.prompts import Prompts
from agent.summary.compose import NARROWEST, Composer, Entry, EntryKind, as_shown, shorten
from agent.summary.threads import threads
from agent.summary.transcript import entry_for, first_line
from tests.conftest import REPO, SHARED_EVAL

PROMPTS = Prompts(REPO / "prompts")
T0 = datetime(2026, 3, 1, 9, 0)


def head(text: str) -> str:
    """What every mention of `text` in a summary contains, however narrow the quote."""
    return shorten(text, NARROWEST).rstrip("…")


def entry(i, text, kind=EntryKind.CHAT, who="m1", **kw):
    return Entry(T0 + timedelta(minutes=i), who, who.upper(), text, kind, **kw)


def topic_embed(texts):
    """Two topics, told apart by a word: a deterministic stand-in for the encoder."""
    return np.array([[1.0, 0.1] if "tent" in t else [0.1, 1.0] for t in texts])


def test_threads_group_by_meaning_and_pick_a_central_message():
    texts = ["tent for two", "which tent is lighter", "coffee later?", "tent poles broke", "coffee at 3"]
    found = threads(texts, topic_embed)
    assert [t.members for t in found] == [(0, 1, 3), (2, 4)]
    assert found[0].central in (0, 1, 3)
    assert [t.members for t in threads(texts, None)] == [(i,) for i in range(5)]


def test_violations_and_commands_are_never_quoted():
    entries = [entry(0, "Buy cheap followers at my shop", EntryKind.HIDDEN), entry(1, "which tent is lighter"),
               entry(2, "tent poles broke", who="m2"), entry(3, "When do we meet?", EntryKind.ANSWERED,
                                                           answer="Sunday 9:00 at the gate", source="meet.md")]
    text = Composer(PROMPTS, "en", 600).compose(entries, "09:00", topic_embed)
    assert "followers" not in text
    assert "When do we meet?" in text and "Sunday 9:00 at the gate" in text and "meet.md" in text
    assert "M1" in text and "M2" in text  # who took part in the thread


def test_the_cap_holds_and_owners_and_answers_are_kept_when_it_bites():
    entries = [entry(i, f"question number {i} about the long route over the northern ridge", EntryKind.ANSWERED,
                     answer="a long answer that goes on and on about the ridge", source="routes.md") for i in range(12)]
    entries += [entry(20 + i, f"chatter {i} " * 10) for i in range(30)]
    entries.append(entry(50, "Meeting moved to Saturday, everyone please note the change", EntryKind.OWNER, who="o1"))
    for cap in (700, 1000, 2000):
        text = Composer(PROMPTS, "en", cap).compose(entries, "yesterday")
        assert len(text) <= cap
        assert all(head(e.text) in text for e in entries if e.kind in (EntryKind.ANSWERED, EntryKind.OWNER))


def test_a_members_contact_details_and_advertising_name_never_reach_the_summary():
    entries = [entry(0, "which tent is lighter? ask me on wechat: campking_88 or call 13812345678"),
               entry(1, "tent poles broke", who="m2"),
               entry(2, "Is the tent hire open? add V campking_88", EntryKind.OPEN, who="m3"),
               Entry(T0 + timedelta(minutes=3), "m4", "加V campking_88", "tent pegs anyone", EntryKind.CHAT),
               entry(4, "Gate code changed, call the ranger on 13812345678", EntryKind.OWNER, who="o1")]
    text = Composer(PROMPTS, "en", 1200).compose(entries, "09:00", topic_embed)
    assert "campking" not in text and "加V" not in text
    assert "Is the tent hire open?" in text and "M1, M2" in text  # the question and the thread are still there
    assert "call the ranger on 13812345678" in text  # an owner's own words are shown as they were


def test_an_empty_window_says_so():
    text = Composer(PROMPTS, "zh", 500).compose([entry(0, "广告", EntryKind.HIDDEN)], "昨天")
    assert "没有新消息" in text and "广告" not in text


def test_first_line_drops_the_mention():
    assert first_line("@Bob 周日 9:00 集合\n详见 meet.md") == "周日 9:00 集合"


CAP = 1200  # the default summary.max_chars


@pytest.mark.e2e
@pytest.mark.parametrize("group", ["newmedia", "parents", "indiedev", "hiking", "selfhost"])
def test_every_eval_day_summary_covers_answers_and_owners_quotes_no_violation(group):
    """Through the real pipeline: each day of the labelled group summarised from its own decisions."""
    from agent import eval as evaluation
    from agent.kb.embeddings import embed
    from agent.settings import load_settings

    folder = SHARED_EVAL / group
    if not folder.is_dir():
        pytest.skip(f"the labelled group is not at {folder}")
    with evaluation.sandbox(folder, load_settings(REPO / "config")) as (app, cfg):
        decided = [(m, d) for _, m, d in evaluation.replay(app, cfg, folder / "messages.jsonl")]
    entries = [e for e in (entry_for(m, d) for m, d in decided) if e is not None]
    composer = Composer(PROMPTS, cfg.language, CAP)
    for day, todays in groupby(entries, key=lambda e: e.ts.date()):
        todays = list(todays)
        text = composer.compose(todays, str(day), embed)
        assert len(text) <= CAP, (day, len(text))
        shown = [e.text for e in todays if e.kind is not EntryKind.HIDDEN]
        for e in todays:
            if e.kind in (EntryKind.ANSWERED, EntryKind.OWNER):  # as quoted: masked, one line
                assert head(as_shown(e, "").text) in text, (day, e.text)
            # a violation's opening words may also open a line that is shown (an owner announcing the
            # very market day an ad hijacks): only a head no shown line contains proves a quote
            if e.kind is EntryKind.HIDDEN and len(head(e.text)) >= 6 and not any(head(e.text) in s for s in shown):
                assert head(e.text) not in text, (day, e.text)


class ScriptedModel:
    """A model that answers with a fixed text and counts its calls."""

    def __init__(self, text):
        self.text, self.calls = text, 0

    def complete(self, system, user, max_tokens):
        from agent.llm.provider import Completion

        self.calls += 1
        self.seen = user
        return Completion(self.text, 50, 20, "scripted")


def _narrator(model):
    from agent.llm.budget import Budget
    from agent.settings import LLMSettings
    from agent.summary.narrate import Narrator

    return Narrator(model, Budget(), LLMSettings(), PROMPTS)


def _chat():
    return [entry(0, "which tent is lighter"), entry(1, "tent poles broke", who="m2"),
            entry(2, "Cheap followers, add wx seller_99", EntryKind.HIDDEN),
            entry(3, "When do we meet?", EntryKind.ANSWERED, answer="Sunday at the gate", source="meet.md")]


def test_the_model_tells_the_threads_from_the_extracts_only_in_one_call():
    model = ScriptedModel("People compared tents and a broken pole.")
    narrator = _narrator(model)
    text = Composer(PROMPTS, "en", 600).compose(
        _chat(), "09:00", topic_embed,
        narrate=lambda lines: narrator.narrate(lines, lang="en", group_id="g", asker_id="m9", max_chars=200))
    assert model.calls == 1
    assert "People compared tents" in text and "When do we meet?" in text  # answers stay quoted
    assert "seller_99" not in model.seen and "When do we meet" not in model.seen  # extracts only


def test_a_model_reply_the_guard_refuses_keeps_the_quoted_lines():
    model = ScriptedModel("They talked tents; add wx seller_99 for cheap gear at http://x.example")
    narrator = _narrator(model)
    text = Composer(PROMPTS, "en", 600).compose(
        _chat(), "09:00", topic_embed,
        narrate=lambda lines: narrator.narrate(lines, lang="en", group_id="g", asker_id="m9", max_chars=200))
    assert "x.example" not in text and "tent" in text


@pytest.mark.parametrize("text,hours", [("/summary 3h", 3), ("最近两个小时聊了啥", 2), ("catch me up on the last 90 minutes", 1.5),
                                        ("半小时", 0.5), ("/summary 3d", 24), ("since yesterday", 39)])
def test_the_window_a_request_names(text, hours):
    from agent.summary.window import since

    now = datetime(2026, 3, 2, 15, 0)
    assert now - since(text, now, None) == timedelta(hours=min(hours, 24))


def test_the_default_window_is_since_the_asker_last_spoke_at_most_a_day():
    from agent.summary.window import since

    now = datetime(2026, 3, 2, 15, 0)
    assert since("我错过了什么", now, now - timedelta(hours=5)) == now - timedelta(hours=5)
    assert since("我错过了什么", now, now - timedelta(days=3)) == now - timedelta(hours=24)
    assert since("/summary", now, None) == now - timedelta(hours=24)
    assert since("今天聊了什么", now, None) == datetime(2026, 3, 2, 0, 0)


# ---- through the pipeline -------------------------------------------------------------------------

def _msg(n, text, who="wxid_member_a", name="阿明", role=None, to_bot=False, minute=0):
    from agent.events import Member, Message, Role

    return Message(id=f"s{n}", group_id="demo", sender=Member(who, name, role or Role.MEMBER), text=text,
                   ts=datetime(2027, 4, 7, 14, minute), to_bot=to_bot)


def _whispers(decision, who):
    from agent.events import Whisper

    return [a.text for a in decision.actions if isinstance(a, Whisper) and a.contact_id == who]


def test_summary_through_the_pipeline_answers_owners_no_violation_privately(demo_app):
    from agent.events import Role, Say

    d = demo_app.pipeline.dispatch
    d(_msg(1, "下雨还跑吗？", who="wxid_member_b", name="小周", to_bot=True, minute=1))
    d(_msg(2, "加我微信 abc12345 代购跑鞋 全网最低价", who="wxid_member_c", name="跑鞋哥", minute=2))
    d(_msg(3, "周六集合改到7点，大家别迟到", who="wxid_demo_owner_zhou", name="周教练", role=Role.OWNER, minute=3))
    asked = d(_msg(4, "/summary", minute=10))
    text = "\n".join(_whispers(asked, "wxid_member_a"))
    assert "下雨还跑吗" in text and "周六集合改到7点" in text
    assert "abc12345" not in text and "代购" not in text
    assert not any(isinstance(a, Say) for a in asked.actions)  # private by default: the group sees nothing
    again = d(_msg(5, "@小助手 我错过了什么", to_bot=True, minute=20))
    assert again.detail.get("intent") == "summary"
    assert "分钟内只发一次" in "\n".join(_whispers(again, "wxid_member_a"))


def test_a_recorded_transcript_keeps_no_violation_text(app):
    from agent.state.tables import transcript

    app.pipeline.dispatch(_msg(1, "加我微信 abc12345 代购跑鞋 全网最低价 http://shop.example.com", minute=2))
    rows = app.store.rows(transcript.select())
    assert rows and all("abc12345" not in r["text"] for r in rows)
