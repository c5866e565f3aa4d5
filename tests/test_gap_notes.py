"""Owners are told of new gaps privately, a batch at a time; a member hears "passed to the owners"
only when they are; the owners' lists leave out what the knowledge answers now and chatter."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

from agent.channels.memory import MemoryChannel
from agent.events import DecisionKind, Whisper
from agent.gap_notes import GapNotes
from agent.llm.prompts import Prompts
from agent.settings import GapNotes as GapConfig, GroupConfig, Person, Settings
from agent.store import Store

REPO = Path(__file__).resolve().parents[1]
PROMPTS = Prompts(REPO / "prompts")
UTC = timezone.utc
T0 = datetime(2025, 3, 10, 2, 0, tzinfo=UTC)


def world(mode: str = "batched", owners: bool = True):
    g = GroupConfig(id="g", name="摄影俱乐部", theme="摄影", owners=[Person(id="wxid_o1"), Person(id="wxid_o2")] if owners else [],
                    trust_room_owner=not owners, gaps=GapConfig(notify_owners=mode, batch_minutes=60))
    store = Store(":memory:")
    return GapNotes(Settings(groups={"g": g}), store, PROMPTS), store


def ask(store: Store, n: int, question: str, at: datetime) -> None:
    store.add_gap("g", f"wxid_m{n}", f"q{n}", question, True, at)


def test_a_note_to_every_owner_then_nothing_until_the_batch_is_due():
    notes, store = world()
    assert notes.tick(T0) == []  # nothing asked, nothing to say
    ask(store, 1, "外拍活动的器材可以租借吗？", T0)
    first = notes.tick(T0 + timedelta(minutes=1))
    assert [a.contact_id for a in first] == ["wxid_o1", "wxid_o2"] and all(isinstance(a, Whisper) for a in first)
    assert "器材可以租借" in first[0].text and "/answer" in first[0].text
    ask(store, 2, "暗房每周几开放？", T0 + timedelta(minutes=5))
    assert notes.tick(T0 + timedelta(minutes=30)) == []  # batched: within the interval
    second = notes.tick(T0 + timedelta(minutes=62))
    assert "暗房" in second[0].text and "器材" not in second[0].text  # only what is new
    assert notes.tick(T0 + timedelta(minutes=200)) == []  # told once


def test_a_restart_neither_repeats_nor_loses(tmp_path):
    g_notes, _ = world()
    store = Store(tmp_path / "s.db")
    notes = GapNotes(g_notes.settings, store, PROMPTS)
    ask(store, 1, "外拍活动的器材可以租借吗？", T0)
    assert notes.tick(T0)
    again = GapNotes(g_notes.settings, Store(tmp_path / "s.db"), PROMPTS)
    assert again.tick(T0 + timedelta(hours=3)) == []


def test_off_or_no_owners_sends_nothing():
    for mode, owners in (("off", True), ("batched", False)):
        notes, store = world(mode, owners)
        ask(store, 1, "外拍活动的器材可以租借吗？", T0)
        assert notes.tick(T0) == []


class DropAll:
    def keep(self, group, inbox):
        return []


def test_what_a_member_was_told_was_passed_on_is_passed_on():
    notes, store = world()
    notes.screen = DropAll()  # as if every question were chatter or answered now
    store.add_gap("g", "wxid_m1", "q1", "外拍活动的器材可以租借吗？", True, T0)  # asked the bot: told "转给群主"
    store.add_gap("g", "wxid_m2", "q2", "暗房每周几开放？", False, T0)  # recorded silently
    text = notes.tick(T0)[0].text
    assert "器材" in text and "暗房" not in text


CST = timezone(timedelta(hours=8))


def test_the_member_hears_the_truth_and_the_owners_get_the_question(app):
    group = app.settings.groups["demo"]
    ch = MemoryChannel(app.pipeline, group, clock=datetime(2025, 3, 10, 10, 0, tzinfo=CST))
    asked = ch.send(group.members[1].id, f"@{group.bot_name} 跑团有没有合作的理疗诊所，医保能报销吗")
    assert asked.kind == DecisionKind.UNKNOWN and "转给群主" in asked.reply
    # recorded silently earlier (nobody told): a question the knowledge answers now, a reaction,
    # gossip, a real one
    for n, question in enumerate(["周六长距离几点集合？在哪里集合？", "哈哈哈哈？", "你们听说楼下奶茶店关门了吗？",
                                  "跑团的队服在哪里买？"]):
        app.store.add_gap("demo", f"wxid_{n}", f"old{n}", question, False, T0)
    notes = [a for a in app.tick(datetime(2025, 3, 10, 3, 0, tzinfo=UTC)) if isinstance(a, Whisper) and "/answer" in a.text]
    assert {a.contact_id for a in notes} == {o.id for o in group.owners}
    assert "理疗诊所" in notes[0].text and "队服" in notes[0].text
    assert not any(word in notes[0].text for word in ("集合", "哈哈", "奶茶"))


def test_with_notes_off_the_member_is_not_told_the_owners_know(app):
    group = app.settings.groups["demo"]
    group.gaps = GapConfig(notify_owners="off")
    ch = MemoryChannel(app.pipeline, group, clock=datetime(2025, 3, 10, 10, 0, tzinfo=CST))
    asked = ch.send(group.members[1].id, f"@{group.bot_name} 跑团有没有合作的理疗诊所，医保能报销吗")
    assert asked.kind == DecisionKind.UNKNOWN and "转给群主" not in asked.reply and "记下来" in asked.reply
    assert not [a for a in app.tick(datetime(2025, 3, 10, 3, 0, tzinfo=UTC)) if "/answer" in getattr(a, "text", "")]
