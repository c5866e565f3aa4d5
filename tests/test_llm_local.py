"""The local provider's process management, against tests/fake_llama_server.py (no real model)."""
import json
import socket
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from agent.llm import local
from agent.llm.local import LocalServer, LocalServerError
from agent.llm.provider import make_llm
from agent.settings import ConfigError, LLMSettings

pytestmark = pytest.mark.e2e  # starts and stops model server processes

FAKE = (sys.executable, str(Path(__file__).with_name("fake_llama_server.py")))


@pytest.fixture
def model(tmp_path) -> Path:
    path = tmp_path / "models" / local.MODEL_FILE
    path.parent.mkdir()
    path.write_bytes(b"GGUF")
    return path


@pytest.fixture
def fake_server(monkeypatch):
    """Make the provider start the fake server and believe llama-cpp-python is installed."""
    monkeypatch.setattr(local, "SERVER_COMMAND", FAKE)
    monkeypatch.setattr(local, "server_installed", lambda: True)


def listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def started_with(server: LocalServer) -> list[str]:
    with urllib.request.urlopen(f"{server.base_url}/models", timeout=2) as response:
        return json.load(response)["argv"]


def test_start_waits_for_readiness_and_stop_ends_the_process(model, monkeypatch):
    monkeypatch.setenv("FAKE_LLAMA_DELAY_S", "0.6")  # listening only after "loading the model"
    server = LocalServer(model, command=FAKE)
    started = time.monotonic()
    with server:
        assert time.monotonic() - started >= 0.6
        assert server.running and listening(server.port)
        argv = started_with(server)
        assert argv[argv.index("--host") + 1] == "127.0.0.1"
        assert argv[argv.index("--model") + 1] == str(model)
        assert argv[argv.index("--n_ctx") + 1] == "4096"
        proc = server._proc
    assert proc.poll() is not None and not server.running
    assert not listening(server.port)
    server.stop()  # a second stop is harmless


def test_a_server_that_exits_at_start_is_reported_with_its_log(model, monkeypatch, tmp_path):
    monkeypatch.setenv("FAKE_LLAMA_EXIT", "3")
    server = LocalServer(model, command=FAKE, log_path=tmp_path / "logs" / "llama.log")
    with pytest.raises(LocalServerError, match=r"exited with code 3.*llama\.log"):
        server.start()
    assert not server.running


def test_a_server_that_never_gets_ready_times_out_and_is_stopped(model, monkeypatch):
    monkeypatch.setenv("FAKE_LLAMA_DELAY_S", "30")
    server = LocalServer(model, command=FAKE, start_timeout_s=0.8)
    started = time.monotonic()
    with pytest.raises(LocalServerError, match="did not answer within 0.8 s"):
        server.start()
    assert time.monotonic() - started < 5
    assert server._proc is None  # terminated, not left behind


def test_a_server_deaf_to_sigterm_is_killed(model, monkeypatch):
    monkeypatch.setenv("FAKE_LLAMA_IGNORE_TERM", "1")
    server = LocalServer(model, command=FAKE).start()
    proc = server._proc
    server.stop(grace_s=0.5)
    assert proc.poll() is not None and not listening(server.port)


def test_a_taken_port_is_refused_rather_than_mistaken_for_our_server(model):
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        with pytest.raises(LocalServerError, match="already in use"):
            LocalServer(model, port=other.getsockname()[1], command=FAKE).start()


def test_model_path_prefers_the_environment(tmp_path):
    assert local.model_path(tmp_path, env={}) == tmp_path / "models" / local.MODEL_FILE
    assert local.model_path(tmp_path, env={local.MODEL_ENV: "/m/x.gguf"}) == Path("/m/x.gguf")
    assert local.model_path(None, env={}) is None


def test_local_provider_starts_talks_to_and_stops_its_server(model, fake_server, tmp_path):
    data_dir = model.parents[1]
    llm = make_llm(LLMSettings(provider="local", timeout_s=2), env={}, data_dir=data_dir)
    try:
        assert llm.label.startswith(f"local {local.MODEL_FILE} @ http://127.0.0.1:")
        assert llm.complete("s", "u", 42).text == "local ok (max_tokens=42)"  # llama.cpp reads max_tokens
        assert (data_dir / "logs" / "llama-server.log").is_file()
        port = int(llm.label.rsplit(":", 1)[1].split("/")[0])
        assert listening(port)
    finally:
        llm.close()
    assert not listening(port)
    llm.close()


def test_local_provider_without_the_model_names_the_install_script(fake_server, tmp_path):
    with pytest.raises(ConfigError, match=r"no model file at .*install_local_model\.sh"):
        make_llm(LLMSettings(provider="local"), env={}, data_dir=tmp_path)


def test_local_provider_whose_server_fails_is_a_config_error(model, fake_server, monkeypatch):
    monkeypatch.setenv("FAKE_LLAMA_EXIT", "1")
    with pytest.raises(ConfigError, match="exited with code 1"):
        make_llm(LLMSettings(provider="local"), env={}, data_dir=model.parents[1])


def test_auto_prefers_the_keyed_endpoint_then_the_local_model_then_none(model, fake_server, monkeypatch, caplog):
    caplog.set_level("INFO", logger="agent.llm.provider")
    settings = LLMSettings(provider="auto", api_key_env="FAKE_KEY", model="gpt-x", base_url="http://127.0.0.1:9/v1")
    keyed = make_llm(settings, env={"FAKE_KEY": "sk"}, data_dir=model.parents[1])
    assert keyed.label == "openai gpt-x @ http://127.0.0.1:9/v1"
    assert "(auto: FAKE_KEY is set)" in caplog.text

    installed = make_llm(settings, env={}, data_dir=model.parents[1])
    try:  # the endpoint's base_url and model are not the local server's
        assert installed.label.startswith(f"local {local.MODEL_FILE} @ http://127.0.0.1:")
        assert "FAKE_KEY is not set; the local model is installed" in caplog.text
        assert installed.complete("s", "u", 5).text.startswith("local ok")
    finally:
        installed.close()

    model.unlink()
    assert make_llm(settings, env={}, data_dir=model.parents[1]) is None
    assert "LLM mode: none" in caplog.text and "no model file at" in caplog.text
    monkeypatch.setattr(local, "server_installed", lambda: False)
    assert make_llm(settings, env={}, data_dir=model.parents[1]) is None
    assert "llama-cpp-python[server] is not installed" in caplog.text
