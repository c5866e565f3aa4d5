"""The optional local model: a llama.cpp server on 127.0.0.1 that the bot starts, waits for and stops.

`scripts/install_local_model.sh` installs the server (llama-cpp-python[server], the `local` extra) and
puts the model file in <data_dir>/models/; STEWARD_LOCAL_MODEL may name any other .gguf file instead.
The server speaks the chat-completions API, so the provider talks to it like to any endpoint.
"""
from __future__ import annotations

import atexit
import importlib.util
import logging
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path

log = logging.getLogger(__name__)

MODEL_ENV = "STEWARD_LOCAL_MODEL"
MODEL_FILE = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"  # what scripts/install_local_model.sh assembles
SERVER_COMMAND: Sequence[str] = (sys.executable, "-m", "llama_cpp.server")
# llama_cpp.server's default context (2048) is short for a system prompt, 1,500 tokens of knowledge
# and a 300-token reply; quiet logs keep the log file small on a long-running bot
SERVER_ARGS: Sequence[str] = ("--n_ctx", "4096", "--verbose", "False")
INSTALL_HINT = "run scripts/install_local_model.sh, or set llm.provider to none"


class LocalServerError(RuntimeError):
    """The local server could not be started, or did not become ready in time."""


def model_path(data_dir: Path | str | None, env: Mapping[str, str] = os.environ) -> Path | None:
    """Where the model file should be: $STEWARD_LOCAL_MODEL, else <data_dir>/models/MODEL_FILE."""
    if env.get(MODEL_ENV):
        return Path(env[MODEL_ENV])
    return Path(data_dir) / "models" / MODEL_FILE if data_dir is not None else None


def server_installed() -> bool:
    """llama-cpp-python and its server extra (uvicorn) are importable, without importing them."""
    return all(importlib.util.find_spec(name) is not None for name in ("llama_cpp", "uvicorn"))


def missing(data_dir: Path | str | None, env: Mapping[str, str] = os.environ) -> str | None:
    """Why the local model cannot run here, or None when it can."""
    if not server_installed():
        return "llama-cpp-python[server] is not installed"
    path = model_path(data_dir, env)
    if path is None:
        return f"no model file: set {MODEL_ENV}"
    if not path.is_file():
        return f"no model file at {path}"
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _port_taken(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


class LocalServer:
    """One llama.cpp server process on 127.0.0.1:`port`. `start()` returns once it answers
    /v1/models; `stop()` ends it (also at interpreter exit, should the owner forget)."""

    def __init__(self, model: Path, port: int | None = None, *, start_timeout_s: float = 120.0,
                 log_path: Path | None = None, command: Sequence[str] | None = None,
                 args: Sequence[str] | None = None):
        self.model = Path(model)
        self.port = port or free_port()
        self.start_timeout_s = start_timeout_s
        self.log_path = log_path
        self.command = list(command or SERVER_COMMAND)
        self.args = list(SERVER_ARGS if args is None else args)
        self._proc: subprocess.Popen | None = None
        self._log = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self) -> LocalServer:
        if self.running:
            return self
        if _port_taken(self.port):  # another server there would answer our readiness checks
            raise LocalServerError(f"port {self.port} on 127.0.0.1 is already in use")
        argv = [*self.command, "--model", str(self.model), "--host", "127.0.0.1", "--port", str(self.port), *self.args]
        if self.log_path is not None:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            self._log = open(self.log_path, "ab")
        log.info("starting the local model server: %s", " ".join(argv))
        self._proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=self._log or subprocess.DEVNULL,
                                      stderr=subprocess.STDOUT, start_new_session=True)
        atexit.register(self.stop)
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_ready(self) -> None:
        started = time.monotonic()
        deadline = started + self.start_timeout_s
        while True:
            code = self._proc.poll()
            if code is not None:
                where = f"; its output is in {self.log_path}" if self.log_path else ""
                raise LocalServerError(f"the local model server exited with code {code} while starting{where}")
            try:
                with urllib.request.urlopen(f"{self.base_url}/models", timeout=1) as response:
                    if response.status == 200:
                        log.info("local model server ready on port %d after %.1f s", self.port,
                                 time.monotonic() - started)
                        return
            except (urllib.error.URLError, OSError):
                pass  # not listening yet (the model is still loading)
            if time.monotonic() > deadline:
                raise LocalServerError(f"the local model server did not answer within {self.start_timeout_s:g} s")
            time.sleep(0.2)

    def stop(self, grace_s: float = 10.0) -> None:
        """Terminate the server and wait for it; kill it if it does not end within `grace_s`."""
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(grace_s)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            log.info("local model server stopped")
        if self._log is not None:
            self._log.close()
            self._log = None
        atexit.unregister(self.stop)

    def __enter__(self) -> LocalServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
