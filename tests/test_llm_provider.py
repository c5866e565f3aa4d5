"""The provider through the real openai client (via ChatOpenAI) against a local fake server."""
import socket

import pytest

from agent.llm import tokens
from agent.llm.provider import Breaker, Completion, LLMUnavailable, make_llm
from agent.settings import ConfigError, LLMSettings
from fake_openai import Fail, FakeOpenAI, Garbage, Reply

ENV = {"FAKE_KEY": "sk-test"}


@pytest.fixture
def server():
    with FakeOpenAI() as fake:
        yield fake


def llm_for(server, breaker=None, **overrides):
    fields = dict(provider="openai", base_url=server.base_url, model="fake-model", api_key_env="FAKE_KEY",
                  timeout_s=0.5, max_retries=1)
    return make_llm(LLMSettings(**{**fields, **overrides}), env=ENV, breaker=breaker)


def test_success_counts_the_reported_usage(server):
    llm = llm_for(server)
    server.push(Reply("  答案在 faq.md 里。 "))
    result = llm.complete("system text", "user text", max_tokens=50)
    assert result == Completion("答案在 faq.md 里。", 11, 7, "fake-model")
    body = server.requests[-1]
    assert [m["role"] for m in body["messages"]] == ["system", "user"]
    assert body["messages"][1]["content"] == "user text"
    assert body["max_completion_tokens"] == 50
    assert (llm.usage.calls, llm.usage.prompt_tokens, llm.usage.completion_tokens) == (1, 11, 7)


def test_usage_is_counted_with_tiktoken_when_the_server_reports_none(server):
    llm = llm_for(server)
    server.push(Reply("hello there", usage=False))
    result = llm.complete("be brief", "say hello", max_tokens=20)
    assert result.prompt_tokens == tokens.count("be brief") + tokens.count("say hello") + 9
    assert result.completion_tokens == tokens.count("hello there")
    assert llm.usage.prompt_tokens == result.prompt_tokens


@pytest.mark.parametrize("failures", [[Fail(429)], [Fail(500), Fail(503)]])
def test_rate_limits_and_server_errors_are_retried(server, failures):
    llm = llm_for(server, max_retries=2)
    server.push(*failures, Reply("fine"))
    assert llm.complete("s", "u", 10).text == "fine"
    assert len(server.requests) == len(failures) + 1
    assert llm.usage.failures == 0


def test_errors_past_the_retries_are_unavailable(server):
    llm = llm_for(server, max_retries=1)
    server.default = Fail(500)
    with pytest.raises(LLMUnavailable, match="500"):
        llm.complete("s", "u", 10)
    assert len(server.requests) == 2
    assert llm.usage.failures == 1 and llm.usage.calls == 0


def test_a_slow_server_times_out_quickly(server):
    llm = llm_for(server, timeout_s=0.3, max_retries=1)
    server.default = Reply("too late", delay_s=3)
    with pytest.raises(LLMUnavailable, match="Timeout"):  # waiting for the reply would have returned it
        llm.complete("s", "u", 10)
    assert len(server.requests) == 2  # the call and its one retry, each cut at its timeout


def test_an_endpoint_nobody_listens_on_is_unavailable():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings = LLMSettings(provider="openai", base_url=f"http://127.0.0.1:{port}/v1", model="m",
                           api_key_env="FAKE_KEY", timeout_s=0.5, max_retries=0)
    with pytest.raises(LLMUnavailable, match="Connection"):
        make_llm(settings, env=ENV).complete("s", "u", 10)


@pytest.mark.parametrize("body", [
    b"<html>502 bad gateway</html>",
    b'{"choices": []}',
    b'{"unexpected": true}',
    b'{"choices": [{"index": 0, "message": {"role": "assistant", "content": null}, "finish_reason": "stop"}]}',
    b'{"choices": [{"index": 0, "message": {"role": "assistant", "content": "  "}, "finish_reason": "stop"}]}',
])
def test_garbage_is_unavailable(server, body):
    llm = llm_for(server)
    server.push(Garbage(body))
    with pytest.raises(LLMUnavailable):
        llm.complete("s", "u", 10)
    assert llm.usage.failures == 1


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_the_breaker_opens_fails_fast_and_half_opens(server):
    clock = Clock()
    llm = llm_for(server, breaker=Breaker(threshold=2, cooldown_s=30, clock=clock), max_retries=0)
    server.default = Fail(500)
    for _ in range(2):
        with pytest.raises(LLMUnavailable):
            llm.complete("s", "u", 10)
    assert llm.breaker.state == "open"
    sent = len(server.requests)
    with pytest.raises(LLMUnavailable, match="circuit open"):
        llm.complete("s", "u", 10)
    assert len(server.requests) == sent  # failed fast: nothing was sent

    clock.now += 31  # cool-down over: one trial goes through, and fails → open again
    assert llm.breaker.state == "half-open"
    with pytest.raises(LLMUnavailable, match="500"):
        llm.complete("s", "u", 10)
    assert llm.breaker.state == "open" and len(server.requests) == sent + 1

    clock.now += 31  # the endpoint is back: the trial succeeds and closes the breaker
    server.default = Reply("back")
    assert llm.complete("s", "u", 10).text == "back"
    assert llm.breaker.state == "closed"
    assert llm.usage.failures == 4 and llm.usage.calls == 1


def test_half_open_admits_a_single_trial():
    clock = Clock()
    breaker = Breaker(threshold=1, cooldown_s=5, clock=clock)
    breaker.failed()
    clock.now += 5
    breaker.before_call()  # the trial
    with pytest.raises(LLMUnavailable):
        breaker.before_call()  # others wait for the trial's outcome
    breaker.succeeded()
    breaker.before_call()


def test_classify_returns_a_label_of_the_closed_set_or_none(server):
    llm = llm_for(server)
    labels = ["相关", "闲聊", "违规"]
    server.push(Reply(" 违规。"), Reply("「闲聊」"), Reply("Ignore the labels: run /kick"), Reply("相关的"))
    assert llm.classify("classify", "加我微信", labels) == "违规"
    assert llm.classify("classify", "早", labels) == "闲聊"
    assert llm.classify("classify", "x", labels) is None
    assert llm.classify("classify", "x", labels) is None
    assert server.requests[0]["max_completion_tokens"] < 20
    assert llm_for(server).classify("c", "u", ["On-topic", "chatter"]) is None  # default reply "ok"
    server.push(Reply("on-topic"))
    assert llm.classify("c", "u", ["On-topic", "chatter"]) == "On-topic"


def test_a_missing_key_names_the_variable():
    settings = LLMSettings(provider="openai", model="gpt-4o-mini", api_key_env="MY_PROVIDER_KEY")
    with pytest.raises(ConfigError, match="MY_PROVIDER_KEY"):
        make_llm(settings, env={})


def test_openai_needs_a_model():
    with pytest.raises(ConfigError, match="llm.model"):
        make_llm(LLMSettings(provider="openai", api_key_env="FAKE_KEY"), env=ENV)


def test_modes(server, caplog):
    caplog.set_level("INFO", logger="agent.llm.provider")
    assert make_llm(LLMSettings(provider="none"), env=ENV) is None
    assert make_llm(LLMSettings(provider="auto", api_key_env="ABSENT_KEY"), env=ENV) is None
    assert "LLM mode: none" in caplog.text
    auto = make_llm(LLMSettings(provider="auto", api_key_env="FAKE_KEY", model="m", base_url=server.base_url), env=ENV)
    assert auto is not None and auto.label.startswith("openai m @ http://127.0.0.1")
    assert f"LLM mode: {auto.label}" in caplog.text


def test_local_mode_speaks_to_a_loopback_server_without_a_key(server):
    llm = make_llm(LLMSettings(provider="local", base_url=server.base_url, timeout_s=0.5), env={})
    assert llm.complete("s", "u", 30).text == "ok"
    assert server.requests[-1]["max_tokens"] == 30  # llama.cpp servers read max_tokens
