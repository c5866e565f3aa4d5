"""One worker process for bench/bench_scale.py: `steward run --config DIR`, unchanged but for its clock.

    .venv/bin/python bench/scale_worker.py CONFIG_DIR [--tick 1.0] [--profile SECONDS OUT]

It is the CLI's own `run` command (the same app, WechatyChannel, Runner and outbox as production), told
its puppet service by WECHATY_PUPPET_SERVICE_ENDPOINT/TOKEN as an operator would. Only the bot's clock
ticks every `--tick` seconds instead of every 30 s (agent.channels.serve.TICK_S), so the scheduled posts a
benchmark makes due are looked at while it runs. `--profile` samples every thread's stack for that many
seconds once the first message is decided and writes where its CPU time went (each thread's CPU clock
read at every stack sample: cProfile sees one thread, and the decisions run on a pool).
The pipeline's INFO lines are logged too, so the benchmark can count the deliveries dropped as seen.
"""
from __future__ import annotations

import argparse
import collections
import logging
import os
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

def _where(frame) -> tuple[str, str]:
    """(package of the innermost frame, innermost agent function on the stack)."""
    path = frame.f_code.co_filename
    if "site-packages" in path:
        package = path.split("site-packages/", 1)[1].split("/", 1)[0]
    elif "/agent/" in path:
        package = "agent." + path.split("/agent/", 1)[1].split("/", 1)[0].removesuffix(".py")
    else:
        package = "stdlib:" + Path(path).stem
    inner = frame
    while inner is not None and "/agent/" not in inner.f_code.co_filename:
        inner = inner.f_back
    agent = f"{inner.f_code.co_filename.split('/agent/', 1)[1]}:{inner.f_code.co_name}" if inner else "-"
    return package, agent


def sample(seconds: float, out: Path, started: threading.Event, every: float = 0.005) -> None:
    """Attribute each thread's CPU time since the last sample to where its stack is now (by package and
    by the agent function it runs under), then write the shares."""
    started.wait()
    me = threading.get_ident()
    packages: collections.Counter = collections.Counter()
    agent: collections.Counter = collections.Counter()
    last: dict[int, float] = {}
    cpu0, end = time.process_time(), time.monotonic() + seconds
    while time.monotonic() < end:
        for ident, frame in sys._current_frames().items():
            if ident == me:
                continue
            try:
                cpu = time.clock_gettime(time.pthread_getcpuclockid(ident))
            except OSError:  # the thread ended
                continue
            spent, last[ident] = cpu - last.get(ident, cpu), cpu
            if spent > 0:
                package, where = _where(frame)
                packages[package] += spent
                agent[where] += spent
        time.sleep(every)
    total = sum(packages.values()) or 1.0
    lines = [f"cpu {time.process_time() - cpu0:.1f} s in {seconds:.0f} s wall"]
    lines += [f"package {n / total:6.1%} {name}" for name, n in packages.most_common(10)]
    lines += [f"under   {n / total:6.1%} {name}" for name, n in agent.most_common(10)]
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("config")
    ap.add_argument("--tick", type=float, default=1.0)
    ap.add_argument("--profile", nargs=2, metavar=("SECONDS", "OUT"))
    args = ap.parse_args()
    from agent.channels import serve
    from agent.cli import app

    serve.TICK_S = args.tick
    logging.getLogger("agent.pipeline").setLevel(logging.INFO)
    if args.profile:
        from agent.pipeline import Pipeline

        started = threading.Event()
        dispatch = Pipeline.dispatch

        def first(self, message):  # the profile covers the replay, not the start-up
            started.set()
            return dispatch(self, message)

        Pipeline.dispatch = first
        threading.Thread(target=sample, args=(float(args.profile[0]), Path(args.profile[1]), started),
                         daemon=True).start()
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    app(["run", "--config", args.config], prog_name="steward")


if __name__ == "__main__":
    main()
