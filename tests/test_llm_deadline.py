"""The reply deadline: whatever the endpoint does, a message is answered within llm.reply_deadline_s.

Measured through the real pipeline with a small deadline (1 s) against endpoints that hang, answer
too late, trickle their body a byte at a time (each read is quick, so a read timeout never fires), or
fail a different way on every call. Past the deadline the no-LLM answer goes out, word for word, and
the late completion is dropped (no usage counted, no budget spent). Retries stay inside the deadline
and the breaker opens for every kind of failure.
"""
from __future__ import annotations

import time

import pytest

from agent.llm import deadline
from agent.llm.provider import Breaker, LLMUnavailable, make_llm
from agent.settings import LLMSettings
from fake_openai import Fail, FakeOpenAI, Garbage, Reply, Trickle
from llm_rig import Members, llm_app, plain_app

pytestmark = pytest.mark.e2e  # model endpoints that hang and trickle, on real sockets and timers

DEADLINE_S = 1.0
SLACK_S = 1.0  # the floor: worst message-to-reply time ≤ reply_deadline_s + 1 s
QUESTIONS = ["周六LSD几点集合？", "营服尺码不合适能换吗？", "跑鞋一般跑多少公里该换？", "可以带朋友来跑一次吗？",
             "受伤了想暂停，营费能退吗？", "错过了周四的拉伸课怎么办？", "下雨还跑吗？"]
HANG = Reply("周六6:30集合（来源：events.md）", delay_s=30)
LATE = Reply("周六6:30在跑者驿站集合（来源：events.md）", delay_s=DEADLINE_S + 0.5)  # well inside timeout_s
TRICKLE = Trickle("周六6:30在跑者驿站集合（来源：events.md）", byte_every_s=0.1)


@pytest.fixture(scope="module")
def baseline(tmp_path_factory):
    """What each question gets without a model."""
    app = plain_app(tmp_path_factory.mktemp("plain"))
    members = Members()
    try:
        return {q: app.pipeline.dispatch(members.say(q)).reply for q in QUESTIONS}
    finally:
        app.close()


@pytest.fixture(scope="module")
def rig(tmp_path_factory):
    monkeypatch = pytest.MonkeyPatch()
    with FakeOpenAI() as server:
        # an 8 s timeout and a retry, as shipped: the deadline, not the timeout, must bound the wait
        app = llm_app(tmp_path_factory.mktemp("deadline"), server.base_url, monkeypatch,
                      timeout_s=8, max_retries=1, reply_deadline_s=DEADLINE_S)
        members = Members()
        server.default = Reply("NO_ANSWER")
        app.pipeline.dispatch(members.say(QUESTIONS[0]))  # the first message loads what loads lazily
        try:
            yield app, server, members
        finally:
            app.close()
            monkeypatch.undo()


def timed(app, members, baseline, rounds: int = 1) -> list[float]:
    """Seconds per message over QUESTIONS; every reply is the no-LLM one."""
    times = []
    for _ in range(rounds):
        for question in QUESTIONS:
            started = time.monotonic()
            decision = app.pipeline.dispatch(members.say(question))
            times.append(time.monotonic() - started)
            assert decision.reply == baseline[question], question
            assert decision.llm_calls == 0
    return times


@pytest.mark.parametrize("behaviour", [HANG, LATE, TRICKLE], ids=["hanging", "late", "trickling"])
def test_no_message_waits_past_the_deadline(rig, baseline, behaviour):
    app, server, members = rig
    app.llm.breaker = Breaker(threshold=3, cooldown_s=600)
    server.default = behaviour
    calls, spent = app.llm.usage.calls, app.llm.usage.prompt_tokens
    times = timed(app, members, baseline)
    assert max(times) <= DEADLINE_S + SLACK_S, times
    assert min(times[:3]) >= DEADLINE_S * 0.9  # the model was waited for, up to the deadline
    assert app.llm.breaker.state == "open" and max(times[3:]) < 0.5  # then the breaker spares the rest
    time.sleep(0.6 if behaviour is LATE else 0)  # the late completions arrive…
    assert (app.llm.usage.calls, app.llm.usage.prompt_tokens) == (calls, spent)  # …and are dropped


def test_an_endpoint_failing_a_new_way_each_time_opens_the_breaker(rig, baseline):
    app, server, members = rig
    app.llm.breaker = Breaker(threshold=3, cooldown_s=600)
    server.default = Reply("ok")
    server.push(Fail(500), Garbage(), HANG, Fail(429), LATE, TRICKLE, Garbage(b'{"choices": []}'))
    asked = len(server.requests)
    times = timed(app, members, baseline, rounds=2)
    assert max(times) <= DEADLINE_S + SLACK_S, times
    assert app.llm.breaker.state == "open"
    assert len(server.requests) - asked <= 3 * 2  # three failed calls at most, each with one retry


def test_retries_never_overrun_the_deadline(tmp_path):
    with FakeOpenAI(default=Reply("late", delay_s=0.6)) as server:
        settings = LLMSettings(provider="openai", base_url=server.base_url, model="m", api_key_env="K",
                               timeout_s=0.5, max_retries=5, reply_deadline_s=DEADLINE_S)
        llm = make_llm(settings, env={"K": "sk"})
        started = time.monotonic()
        with pytest.raises(LLMUnavailable):
            llm.complete("s", "u", 10)
        assert time.monotonic() - started <= DEADLINE_S + 0.3
        assert len(server.requests) <= 2  # 0.5 s attempts: no third one fits in 1 s
        llm.close()


def test_one_deadline_covers_every_call_of_a_message():
    with FakeOpenAI(default=HANG) as server:
        settings = LLMSettings(provider="openai", base_url=server.base_url, model="m", api_key_env="K",
                               timeout_s=8, max_retries=1, reply_deadline_s=DEADLINE_S)
        llm = make_llm(settings, env={"K": "sk"})
        started = time.monotonic()
        with deadline.per_message(DEADLINE_S):
            for _ in range(3):  # a judge, then an answer, then a nudge: one budget between them
                with pytest.raises(LLMUnavailable):
                    llm.complete("s", "u", 10)
        assert time.monotonic() - started <= DEADLINE_S + 0.3
        assert len(server.requests) == 1  # the later calls found no time left and did not call
        llm.close()


def test_the_breaker_opens_when_failures_alternate_with_successes():
    breaker = Breaker(threshold=3, cooldown_s=60)
    for _ in range(2):
        breaker.failed()
        breaker.succeeded()
    assert breaker.state == "closed"
    breaker.failed()  # three failures among the last six calls
    assert breaker.state == "open"
    with pytest.raises(LLMUnavailable, match="circuit open"):
        breaker.before_call()
