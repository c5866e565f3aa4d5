"""Text enters through a channel scrubbed of lone surrogates, so writing it (SQLite, logs) cannot fail."""
from agent.channels.base import scrub
from agent.channels.memory import MemoryChannel
from agent.events import Decision, DecisionKind
from agent.pipeline import Pipeline, Services
from agent.settings import GroupConfig, Person, Settings
from agent.store import Store


def test_lone_surrogates_become_replacement_characters_and_pairs_their_character():
    assert scrub("限时\ud83d优惠\udc00") == "限时\ufffd优惠\ufffd"
    assert scrub("好\ud83d\ude00") == "好\U0001f600"  # a pair written as two code points is one emoji
    assert scrub("plain 文本 \U0001f600") == "plain 文本 \U0001f600"


class Striking:
    """A route that records every message as strike evidence, as moderation does."""

    name = "striking"

    def match(self, message, ctx):
        return True

    def handle(self, message, ctx):
        ctx.services.store.add_strike(ctx.group.id, message.sender.id, "ad", 1, message.id, message.text, message.ts)
        return Decision(DecisionKind.VIOLATION, message.id, self.name)


def striking_channel(tmp_path) -> tuple[MemoryChannel, Store]:
    group = GroupConfig(id="g", theme="t", owners=[Person(id="wxid_o")])
    store = Store(tmp_path / "s.db")
    services = Services(settings=Settings(data_dir=tmp_path, groups={"g": group}), store=store, kb=None,
                        prompts=None)
    return MemoryChannel(Pipeline(services, [Striking()]), group), store


def test_a_lone_surrogate_from_a_member_is_written_as_evidence(tmp_path):
    channel, store = striking_channel(tmp_path)
    decision = channel.send("wxid_m", "加我\ud83d领红包")
    assert decision is not None and decision.kind == DecisionKind.VIOLATION
    [strike] = store.strikes("g", "wxid_m")
    assert strike["evidence"] == "加我\ufffd领红包"


def test_a_lone_surrogate_in_a_contact_id_is_written_too(tmp_path):
    channel, store = striking_channel(tmp_path)
    decision = channel.send("wxid_\ud800", "加我领红包")
    assert decision is not None and decision.kind == DecisionKind.VIOLATION
    assert [s["evidence"] for s in store.strikes("g", "wxid_\ufffd")] == ["加我领红包"]
