"""Runs the pipeline for a live channel: concurrent across groups, in order within a group, paced sends.

`Pipeline.dispatch` is synchronous and may be slow (a model call, retrieval), so it runs in a thread
pool: a slow group never holds up the others, while one worker per group keeps that group's messages
(and the replies to them) in the order they arrived. Sends go through a second per-conversation queue
with a minimum gap per conversation and per account, because bursts of bot messages are what get a
WeChat account limited. `drain()` finishes everything queued; it is what a shutdown waits for.

Given the account it sends for, every action goes through the outbox (agent.state.outbox): written
when decided, marked sent when the puppet confirms, and what a killed process left unsent is sent by
`resume()` (on login and on every clock tick).
"""
from __future__ import annotations

import asyncio
import logging
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from typing import Callable

from tenacity import Retrying, stop_after_attempt, wait_exponential

from agent.channels.base import Sender, conversation_of
from agent.events import Action, Decision, Member, Message
from agent.pipeline import Pipeline
from agent.settings import PacingSettings
from agent.state import outbox

log = logging.getLogger(__name__)

Observer = Callable[[Message, Decision | None], None]
Work = Callable[[], tuple[Message | None, Decision | None, list[Action]]]
RESUME_AFTER = timedelta(seconds=5)  # an unsent row younger than this may still be another thread's
# a mark the database refuses is asked again: a carried-out row left decided is one the next sweep resends
MARK_RETRY = Retrying(stop=stop_after_attempt(4), wait=wait_exponential(multiplier=0.2, max=2), reraise=True)


class Runner:
    """Queues work per group, dispatches it in a bounded thread pool, sends the actions with pacing."""

    def __init__(self, pipeline: Pipeline, sender: Sender, pacing: PacingSettings, *, workers: int = 4,
                 observer: Observer | None = None, account: Callable[[], str | None] | None = None):
        self.pipeline = pipeline
        self.account = account  # the bot account sending (None: no outbox)
        if account is not None:
            pipeline.observers.append(outbox.OutboxRecorder(pipeline.services.store))
        self.resume_after = RESUME_AFTER
        self._inflight: set[str] = set()  # outbox keys queued or being sent by this runner
        self._inflight_lock = threading.Lock()
        self.sender = sender
        self.pacing = pacing
        self.observer = observer
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="dispatch")
        # marks have their own thread: queued behind slow decisions, a sent reply would stay unmarked
        # longer, and a kill in that window has the restart send it again
        self._marks = ThreadPoolExecutor(max_workers=1, thread_name_prefix="outbox-mark")
        self._inbox: dict[str, asyncio.Queue[Work]] = {}
        self._outbox: dict[str, asyncio.Queue[tuple[Action, str | None]]] = {}
        self._tasks: list[asyncio.Task] = []
        self._pending = 0  # work items and actions not finished yet
        self._idle: asyncio.Event | None = None
        self._account_lock: asyncio.Lock | None = None
        self._last_sent: dict[str, float] = {}
        self._last_account = float("-inf")
        self._closed = False
        self.sent = 0
        self.failed = 0

    # ---- intake (call from the event loop) ----
    def message(self, message: Message) -> None:
        key = message.group_id or f"dm:{message.sender.id}"
        self._enqueue(key, lambda: self._decide(message))

    def joined(self, group_id: str, member: Member, ts: datetime) -> None:
        self._enqueue(group_id, lambda: (None, None, self.pipeline.on_join(group_id, member, ts)))

    def left(self, group_id: str, member: Member, ts: datetime) -> None:
        self._enqueue(group_id, lambda: (None, None, self.pipeline.on_leave(group_id, member, ts) or []))

    def clock(self, job: Callable[[], list[Action]]) -> None:
        """Time-driven work (scheduled posts, digests): run in the pool, one at a time, and its
        actions sent with the same pacing as replies."""
        self.resume()
        self._enqueue("clock", lambda: (None, None, job()))

    def resume(self) -> None:
        """Send what this account decided and never saw confirmed (a killed process's replies and posts)."""
        if self.account is not None:
            store = self.pipeline.services.store
            self._enqueue("outbox", lambda: (None, None, outbox.resumable(
                store, datetime.now(timezone.utc) - self.resume_after)))

    def notify(self, actions: list[Action]) -> None:
        """Messages the channel itself sends (a room report to the owners), paced like replies."""
        self._enqueue("channel", lambda: (None, None, actions))

    def _decide(self, message: Message) -> tuple[Message, Decision | None, list[Action]]:
        decision = self.pipeline.dispatch(message)
        return message, decision, list(decision.actions) if decision else []

    def _enqueue(self, key: str, work: Work) -> None:
        if self._closed:
            log.warning("shutting down: not taking new work for %s", key)
            return
        self._begin()
        queue = self._inbox.get(key)
        if queue is None:
            queue = self._inbox[key] = asyncio.Queue()
            self._tasks.append(asyncio.create_task(self._work_loop(queue), name=f"work:{key}"))
        queue.put_nowait(work)

    # ---- bookkeeping for drain() ----
    def _begin(self) -> None:
        if self._idle is None:
            self._idle = asyncio.Event()
        self._pending += 1
        self._idle.clear()

    def _end(self) -> None:
        self._pending -= 1
        if self._pending == 0 and self._idle is not None:
            self._idle.set()

    @property
    def pending(self) -> int:
        return self._pending

    # ---- workers ----
    def _run(self, work: Work) -> tuple[Message | None, Decision | None, list[tuple[Action, str | None]]]:
        """Do the work (on a pool thread) as this account, and pair each action with its outbox key."""
        if self.account is None:
            message, decision, actions = work()
            return message, decision, [(a, None) for a in actions]
        with outbox.sending_as(self.account(), self._claim) as written:
            message, decision, actions = work()
            tracked = {id(action) for _, action in written}
            outbox.track(self.pipeline.services.store, [a for a in actions if id(a) not in tracked],
                         datetime.now(timezone.utc))
        keys = {id(action): key for key, action in written}
        paired = [(a, keys.get(id(a))) for a in actions]
        self._release(*({key for key, _ in written} - {key for _, key in paired}))  # a dropped decision
        return message, decision, paired

    def _claim(self, key: str) -> bool:
        with self._inflight_lock:
            if key in self._inflight:
                return False
            self._inflight.add(key)
            return True

    def _release(self, *keys: str) -> None:
        with self._inflight_lock:
            self._inflight.difference_update(keys)

    async def _work_loop(self, queue: asyncio.Queue[Work]) -> None:
        loop = asyncio.get_running_loop()
        while True:
            work = await queue.get()
            try:
                message, decision, actions = await loop.run_in_executor(self._pool, self._run, work)
            except Exception:  # a pipeline bug must not stop this group's worker
                log.exception("the pipeline failed; the message is skipped")
                self._end()
                continue
            if message is not None and self.observer is not None:
                try:
                    self.observer(message, decision)
                except Exception:
                    log.exception("decision observer failed")
            for action, key in actions:
                self._send_later(action, key)
            self._end()

    def _send_later(self, action: Action, row: str | None = None) -> None:
        """Queue one action in its conversation, with its outbox row (None: not tracked)."""
        conversation = conversation_of(action)
        self._begin()
        queue = self._outbox.get(conversation)
        if queue is None:
            queue = self._outbox[conversation] = asyncio.Queue()
            self._tasks.append(asyncio.create_task(self._send_loop(conversation, queue), name=f"send:{conversation}"))
        queue.put_nowait((action, row))

    async def _send_loop(self, key: str, queue: asyncio.Queue[tuple[Action, str | None]]) -> None:
        if self._account_lock is None:
            self._account_lock = asyncio.Lock()
        while True:
            action, row = await queue.get()
            try:
                # wait out this conversation's gap first, so a busy group does not hold the account lock
                await _sleep_until(self._last_sent.get(key, float("-inf")) + self.pacing.group_gap_s)
                async with self._account_lock:
                    await _sleep_until(self._last_account + self.pacing.account_gap_s)
                    sent_id, failed = None, False
                    try:
                        sent_id = await self.sender.perform(action)
                        self.sent += 1
                    except Exception as exc:
                        self.failed += 1
                        failed = True
                        log.error("could not carry out %s in %s: %s", type(action).__name__, key, exc)
                    self._last_account = self._last_sent[key] = time.monotonic()
                if row is not None:
                    await self._mark(row, sent_id if isinstance(sent_id, str) else None, failed)
            finally:
                self._end()

    async def _mark(self, row: str, sent_id: str | None, failed: bool) -> None:
        """The outbox row of a carried-out action: sent (with the puppet's message id) or failed. A
        database that refuses the mark is asked again a few times; if it still refuses, the key stays
        in flight here, so this process never sends the row again (a restart would: the one double left)."""
        store = self.pipeline.services.store
        now = datetime.now(timezone.utc)
        try:
            await asyncio.get_running_loop().run_in_executor(
                self._marks, lambda: MARK_RETRY(outbox.done, store, row, now, sent_id, failed=failed))
        except Exception:
            log.exception("could not mark outbox row %s (carried out: not sent again by this process)", row)
        else:
            self._release(row)

    # ---- shutdown ----
    async def drain(self, timeout: float | None = None) -> bool:
        """Wait until every queued message is decided and every action sent. False on timeout."""
        if self._pending == 0:
            return True
        assert self._idle is not None
        try:
            await asyncio.wait_for(self._idle.wait(), timeout)
            return True
        except asyncio.TimeoutError:
            return False

    async def close(self, timeout: float = 30.0) -> None:
        """Stop taking work, finish what is queued (up to `timeout`), then release the workers."""
        self._closed = True
        if not await self.drain(timeout):
            log.warning("shutdown: %d messages or replies were still pending after %.0f s and were dropped; "
                        "messages not yet decided will be handled again if the platform redelivers them",
                        self._pending, timeout)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._marks.shutdown(wait=False, cancel_futures=True)


async def _sleep_until(deadline: float) -> None:
    delay = deadline - time.monotonic()
    if delay > 0:
        await asyncio.sleep(delay)


def stop_on_signals(stop: asyncio.Event) -> Callable[[], None]:
    """Set `stop` on SIGINT/SIGTERM (a second signal exits at once). Returns a function undoing it."""
    loop = asyncio.get_running_loop()
    signals = (signal.SIGINT, signal.SIGTERM)

    def on_signal(sig: signal.Signals) -> None:
        if stop.is_set():
            raise SystemExit(f"second {sig.name}: exiting without finishing in-flight work")
        log.warning("%s received: finishing in-flight messages, then stopping (again to force)", sig.name)
        stop.set()

    for sig in signals:
        loop.add_signal_handler(sig, on_signal, sig)

    def undo() -> None:
        for sig in signals:
            loop.remove_signal_handler(sig)

    return undo
