"""`steward run --health-port N`: a JSON health check on 127.0.0.1, for a container's healthcheck or a
monitor. GET /health answers 200 while the account is connected and 503 otherwise, with the figures
(connected, last message time, queue depth) in the body either way.

The standard library's threading HTTP server in a daemon thread: the bot's event loop is never
involved, so the check answers even when the loop is busy (a busy loop shows in the queue depth).
"""
from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable

Snapshot = Callable[[], dict]


class HealthServer:
    def __init__(self, port: int, snapshot: Snapshot, host: str = "127.0.0.1"):
        started = time.monotonic()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (the stdlib's name)
                if self.path.split("?")[0] not in ("/health", "/"):
                    self.send_error(404, "try /health")
                    return
                try:
                    body = snapshot() | {"uptime_s": round(time.monotonic() - started, 1)}
                    status = 200 if body.get("connected") else 503
                except Exception as exc:  # the check must answer, not hang the monitor
                    body, status = {"connected": False, "error": type(exc).__name__}, 500
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: object) -> None:  # one line per probe is noise
                pass

        self._server = ThreadingHTTPServer((host, port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, name="health", daemon=True)

    def start(self) -> "HealthServer":
        self._thread.start()
        return self

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
