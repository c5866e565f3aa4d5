"""Credentials in llm.base_url never reach the logs: not the bot's own lines, not the HTTP client's."""
from __future__ import annotations

import logging

import pytest

from agent.llm.provider import LLMUnavailable, make_llm
from agent.llm.redact import safe_url, scrub
from agent.settings import LLMSettings
from fake_openai import Fail, FakeOpenAI, Reply

PASSWORD, KEY = "s3cret-pass", "SECRETKEY123"


def test_safe_url_keeps_only_scheme_host_and_path():
    assert safe_url(f"https://bob:{PASSWORD}@api.example.com:8443/v1?api-key={KEY}#x") == "https://api.example.com:8443/v1"
    assert safe_url(None) == ""
    assert scrub(f"POST http://bob:{PASSWORD}@h/v1/chat?api-key={KEY} 200") == "POST http://h/v1/chat 200"


def test_a_request_through_a_base_url_with_credentials_logs_neither(caplog):
    caplog.set_level(logging.DEBUG)  # every logger, the HTTP client's request lines included
    with FakeOpenAI() as server:
        host = server.base_url.removeprefix("http://")
        url = f"http://bob:{PASSWORD}@{host}?api-key={KEY}"
        llm = make_llm(LLMSettings(provider="openai", base_url=url, model="m", api_key_env="K", timeout_s=2,
                                   max_retries=0), env={"K": "sk-test"})
        server.push(Reply("fine"), Fail(500))
        assert llm.complete("s", "u", 10).text == "fine"
        with pytest.raises(LLMUnavailable):
            llm.complete("s", "u", 10)
        llm.close()
    lines = [r.getMessage() for r in caplog.records] + [caplog.text]
    assert any("HTTP Request" in line for line in lines)  # the client did log its requests…
    assert any("LLM mode" in line and host in line for line in lines)
    assert not [line for line in lines if PASSWORD in line or KEY in line or "sk-test" in line]  # …without secrets
