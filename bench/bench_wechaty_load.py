"""Load through the real python-wechaty client on the loopback puppet service (127.0.0.1).

    .venv/bin/python bench/bench_wechaty_load.py [--groups 20] [--messages 1000] [--json]

A burst of messages across many groups, all queued on the service at once, then the client reads,
converts, dispatches and replies. The pipeline is a light scripted route (the channel is what is
measured, not retrieval), with the real Store de-duplicating ids. Checks, and exits non-zero if any
fails: every message decided exactly once, per-group order kept, every reply sent, RSS bounded (a
second burst of the same size must not grow RSS by more than a third of the first burst's growth
plus 20 MB), no redelivered message handled again after a dropped stream.
Prints: login time, login-to-first-reply, messages/s, replies/s, reconnect time after a drop.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from agent.testing.puppet import LoopbackPuppet  # noqa: E402
from agent.testing.rig import on_loopback  # noqa: E402
from agent.events import Decision, DecisionKind, Say  # noqa: E402
from agent.pipeline import Pipeline, Services  # noqa: E402
from agent.settings import GroupConfig, PacingSettings, Person, Settings  # noqa: E402
from agent.store import Store  # noqa: E402


class ReplyEvery:
    """Answers every `n`-th message of a group (with a mention), ignores the rest."""

    name = "bench"

    def __init__(self, n: int):
        self.n = n
        self.lock = threading.Lock()

    def match(self, message, ctx):
        return True

    def handle(self, m, ctx):
        seq = int(m.text.rsplit(" ", 1)[1])
        if seq % self.n == 0:
            return Decision(DecisionKind.ANSWER, m.id, "bench", actions=[Say(m.group_id, f"re {m.text}", (m.sender.id,))])
        return Decision(DecisionKind.IGNORE, m.id, "bench")


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def bench(groups_n: int, messages: int, reply_every: int, workers: int) -> dict:
    groups = [GroupConfig(id=f"g{i:02d}", name=f"群{i}", room_id=f"room-g{i:02d}", theme="bench",
                          owners=[Person(id=f"owner{i}")], members=[Person(id=f"m{i}-{k}", name=f"成员{k}") for k in range(10)])
              for i in range(groups_n)]
    tmp = tempfile.TemporaryDirectory(prefix="steward-bench-")
    settings = Settings(data_dir=Path(tmp.name), groups={g.id: g for g in groups},
                        pacing=PacingSettings(group_gap_s=0, account_gap_s=0))
    store = Store(Path(tmp.name) / "steward.db")
    pipeline = Pipeline(Services(settings=settings, store=store, kb=None, prompts=None), [ReplyEvery(reply_every)])
    decided: list[tuple[str, str]] = []  # (group, message id), in decision order
    out: dict = {"groups": groups_n, "messages": messages, "workers": workers}
    checks: dict[str, bool] = {}

    def observe(message, decision):
        if decision is not None:
            decided.append((message.group_id, message.id))

    lb = LoopbackPuppet(groups, echo_self=True)
    t0 = time.monotonic()
    async with on_loopback(settings, pipeline, puppet=lb, observer=observe, workers=workers) as (_, channel):
        out["login_s"] = round(time.monotonic() - t0, 3)
        t = time.monotonic()
        lb.say(groups[0], groups[0].members[0].id, "warmup 0")
        await lb.wait_for(lambda: lb.texts(), 10)
        out["login_to_first_reply_ms"] = round((time.monotonic() - t) * 1000, 1)

        async def burst(tag: str) -> tuple[list[str], dict[str, list[str]]]:
            sent: dict[str, list[str]] = defaultdict(list)
            ids = []
            replies_before = len(lb.texts())
            start = time.monotonic()
            for n in range(messages):
                g = groups[n % groups_n]
                mid = lb.say(g, g.members[n % 10].id, f"{tag} {n // groups_n + 1}")
                sent[g.id].append(mid)
                ids.append(mid)
            want = set(ids)
            expected_replies = sum(len(v) // reply_every for v in sent.values())
            await lb.wait_for(lambda: want <= {i for _, i in decided}, 120)
            decided_s = time.monotonic() - start
            await lb.wait_for(lambda: len(lb.texts()) - replies_before >= expected_replies, 120)
            await channel.runner.drain(30)
            out[f"{tag}_messages_per_s"] = round(messages / decided_s, 1)
            out[f"{tag}_replies_per_s"] = round(expected_replies / (time.monotonic() - start), 1)
            checks[f"{tag}: every reply sent once"] = len(lb.texts()) - replies_before == expected_replies
            return ids, sent

        rss0 = rss_mb()
        ids1, sent1 = await burst("burst1")
        rss1 = rss_mb()
        ids2, sent2 = await burst("burst2")
        rss2 = rss_mb()
        out["rss_mb"] = {"before": round(rss0, 1), "after_burst1": round(rss1, 1), "after_burst2": round(rss2, 1)}
        checks["RSS bounded"] = rss2 - rss1 <= (rss1 - rss0) / 3 + 20

        counts = Counter(i for _, i in decided)
        checks["every message decided exactly once"] = all(counts[i] == 1 for i in ids1 + ids2)
        order: dict[str, list[str]] = defaultdict(list)
        for gid, mid in decided:
            order[gid].append(mid)
        checks["per-group order kept"] = all(
            [i for i in order[g] if i in set(sent1[g] + sent2[g])] == sent1[g] + sent2[g] for g in sent1)

        dropped = time.monotonic()
        logged_in_before = len(channel.login_at)
        lb.drop_stream()
        await lb.wait_for(lambda: len(channel.login_at) > logged_in_before, 30)
        out["reconnect_ms"] = round((channel.login_at[-1] - dropped) * 1000, 1)
        before = len(decided)
        for mid in ids1[:100]:
            lb.redeliver(mid)
        fresh = [lb.say(groups[n % groups_n], groups[n % groups_n].members[0].id, f"after {n}") for n in range(100)]
        await lb.wait_for(lambda: set(fresh) <= {i for _, i in decided[before:]}, 30)
        checks["no redelivered message handled again after a drop"] = len(decided) - before == len(fresh)
    store.close()
    tmp.cleanup()
    out["checks"] = checks
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--groups", type=int, default=20)
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--reply-every", type=int, default=5, help="answer every N-th message of a group")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    out = asyncio.run(bench(args.groups, args.messages, args.reply_every, args.workers))
    if args.json:
        print(json.dumps(out, ensure_ascii=False))
    else:
        print(f"{args.messages} messages × 2 bursts across {args.groups} groups, real python-wechaty client on loopback")
        print(f"  login {out['login_s']} s; login → first reply {out['login_to_first_reply_ms']} ms")
        for tag in ("burst1", "burst2"):
            print(f"  {tag}: {out[f'{tag}_messages_per_s']} messages/s decided; {out[f'{tag}_replies_per_s']} replies/s sent")
        print(f"  reconnect after a dropped stream: {out['reconnect_ms']} ms")
        print(f"  RSS MB: {out['rss_mb']}")
        for name, ok in out["checks"].items():
            print(f"  [{'ok' if ok else 'FAIL'}] {name}")
    return 0 if all(out["checks"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
