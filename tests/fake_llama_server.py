"""Stands in for `python -m llama_cpp.server` in tests: same arguments, same two endpoints, no model.

Environment knobs: FAKE_LLAMA_DELAY_S (seconds to "load the model" before listening),
FAKE_LLAMA_EXIT (exit at once with this code), FAKE_LLAMA_IGNORE_TERM=1 (survive SIGTERM).
GET /v1/models also reports the argv the server was started with.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from fake_openai import Reply, _completion


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", required=True)
    parser.add_argument("--host", default="localhost")
    parser.add_argument("--port", type=int, default=8000)
    args, _ = parser.parse_known_args()
    if os.environ.get("FAKE_LLAMA_EXIT"):
        sys.exit(int(os.environ["FAKE_LLAMA_EXIT"]))
    if os.environ.get("FAKE_LLAMA_IGNORE_TERM"):
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    time.sleep(float(os.environ.get("FAKE_LLAMA_DELAY_S", "0")))

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *a) -> None:
            pass

        def do_GET(self) -> None:
            self._send({"object": "list", "data": [{"id": args.model}], "argv": sys.argv[1:]})

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
            self._send(_completion(body, Reply(f"local ok (max_tokens={body.get('max_tokens')})")))

        def _send(self, payload: dict) -> None:
            data = json.dumps(payload).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    ThreadingHTTPServer((args.host, args.port), Handler).serve_forever()


if __name__ == "__main__":
    main()
