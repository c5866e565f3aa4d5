"""A chat-completions endpoint on 127.0.0.1 that a test scripts request by request.

The provider is tested through the real openai client (via langchain's ChatOpenAI) against this
server, so retries, timeouts and parsing are the client's real behaviour, not mocks of it.
Each request takes the next scripted behaviour; when the script is empty, `default` answers.
"""
from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Reply:
    text: str
    usage: bool = True  # False: like servers that do not report token usage
    delay_s: float = 0.0  # longer than the client's timeout → the client times out


@dataclass(frozen=True)
class Fail:
    status: int = 500  # 429 for rate limiting


@dataclass(frozen=True)
class Garbage:
    body: bytes = b"<html>502 bad gateway</html>"  # a 200 whose body is not a chat completion


@dataclass(frozen=True)
class Trickle:
    """A 200 whose body arrives one byte at a time: each read is quick, the whole never is."""

    text: str = "ok"
    byte_every_s: float = 0.2


Behaviour = Reply | Fail | Garbage | Trickle


class FakeOpenAI:
    """`with FakeOpenAI() as server:` serves on a free port; `server.base_url` ends in /v1."""

    def __init__(self, default: Behaviour = Reply("ok")):
        self.default = default
        self.script: deque[Behaviour] = deque()
        self.requests: list[dict] = []  # request bodies, in arrival order
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_port}/v1"

    def push(self, *behaviours: Behaviour) -> None:
        with self._lock:
            self.script.extend(behaviours)

    def _next(self, body: dict) -> Behaviour:
        with self._lock:
            self.requests.append(body)
            return self.script.popleft() if self.script else self.default

    def __enter__(self) -> FakeOpenAI:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def _handler(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # keep test output clean
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                behaviour = server._next(body)
                if isinstance(behaviour, Fail):
                    # a short Retry-After keeps the client's backoff (0.5 s and up) out of the tests
                    payload = {"error": {"message": f"fake {behaviour.status}", "type": "server_error"}}
                    self._send(behaviour.status, json.dumps(payload).encode(), {"retry-after-ms": "20"})
                elif isinstance(behaviour, Garbage):
                    self._send(200, behaviour.body)
                elif isinstance(behaviour, Trickle):
                    self._trickle(json.dumps(_completion(body, Reply(behaviour.text))).encode(), behaviour.byte_every_s)
                else:
                    time.sleep(behaviour.delay_s)
                    self._send(200, json.dumps(_completion(body, behaviour)).encode())

            def _trickle(self, data: bytes, every_s: float) -> None:
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    for i in range(len(data)):
                        self.wfile.write(data[i:i + 1])
                        self.wfile.flush()
                        time.sleep(every_s)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def _send(self, status: int, data: bytes, headers: dict | None = None) -> None:
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    for key, value in (headers or {}).items():
                        self.send_header(key, value)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):  # the client timed out and left
                    pass

        return Handler


def _completion(request: dict, reply: Reply) -> dict:
    data = {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": request.get("model", "fake"),
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": reply.text}, "finish_reason": "stop"}
        ],
    }
    if reply.usage:
        data["usage"] = {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18}
    return data
