"""A runner that dies between deciding and the puppet's confirmation leaves its reply, its scheduled
post and the owners' notice of it in the outbox; the restarted process (same account, same database)
sends each once, through the real python-wechaty client and the loopback puppet service."""
from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

import pytest

from agent.channels.runner import Runner
from agent.events import Member, Message, Whisper
from agent.schedule.store import ScheduleStore
from agent.state import outbox
from agent.store import Store
from agent.testing.puppet import LoopbackPuppet
from agent.testing.rig import on_loopback
from test_wechaty_e2e import ALICE, OWNER, Scripted, group, pipeline_for, settings_for

pytestmark = pytest.mark.e2e
NOW = datetime(2026, 3, 2, 8, 0, tzinfo=timezone.utc)


class Unconfirmed:
    """A sender whose puppet never confirms: the process is killed while the sends are in flight."""

    def __init__(self):
        self.started = asyncio.Event()

    async def perform(self, action):
        self.started.set()
        await asyncio.Event().wait()  # never returns (and holds the account's turn: nothing else is sent)


async def _killed_mid_send(settings, db) -> None:
    """The first process: decides a reply and claims a post, starts sending both, and dies."""
    store = Store(db)
    drafts = ScheduleStore(store)
    draft = drafts.get(drafts.add("g1", "weekly", NOW, "本周提示：周五交稿", [], ["g1"], "approved", "auto", NOW))
    pipeline = pipeline_for(settings, Scripted(), store=store)
    sender = Unconfirmed()
    runner = Runner(pipeline, sender, settings.pacing, account=lambda: "bot")
    runner.message(Message(id="wx-1", group_id="g1", sender=Member(ALICE, "Alice"), text="q 几点开课", ts=NOW))

    def post():  # the post is claimed with its row; the notice to the owner gets one once decided
        say = outbox.Say("g1", draft.text)
        return [say, Whisper(OWNER, "已发布：周五交稿")] if drafts.claim(draft, "g1", "sent", NOW, send=say) else []

    runner.clock(post)
    await asyncio.wait_for(sender.started.wait(), 10)
    await asyncio.wait_for(_until(lambda: len(outbox.rows(store)) == 3), 10)  # the post and notice too
    for task in runner._tasks:  # SIGKILL: nothing is drained, nothing marked
        task.cancel()
    await asyncio.gather(*runner._tasks, return_exceptions=True)
    runner._pool.shutdown(wait=True)
    store.close()


async def _until(predicate) -> None:
    while not predicate():
        await asyncio.sleep(0.01)


async def test_a_restart_sends_the_killed_process_s_reply_post_and_notice_once(tmp_path):
    g1 = group("g1")
    settings = settings_for(tmp_path, [g1])
    db = tmp_path / "state.db"
    await _killed_mid_send(settings, db)
    store = Store(db)
    keys = sorted(r["key"] for r in outbox.rows(store) if r["status"] == "decided")
    assert [k for k in keys if not k.startswith("once:")] == ["msg:wx-1:0", outbox.key_of_post(1, "g1")]
    assert len(keys) == 3

    async with on_loopback(settings, pipeline_for(settings, Scripted(), store=store),
                           puppet=LoopbackPuppet([g1], bot_id="bot")) as (lb, channel):
        channel.runner.resume_after = timedelta(0)  # the rows were written moments ago, by a dead process
        channel.runner.resume()
        await lb.wait_for(lambda: len(lb.texts(g1)) == 2 and lb.private(OWNER))
        channel.runner.resume()  # sent and marked: nothing is sent again
        channel.runner.clock(lambda: [])
        assert await channel.runner.drain(10)
        texts = sorted(s.text for s in lb.texts(g1))
        notices = [s.text for s in lb.private(OWNER)]
    assert len(texts) == 2 and texts[0].endswith("答:几点开课") and texts[1] == "本周提示：周五交稿"
    assert notices == ["已发布：周五交稿"]
    rows = outbox.rows(store, "bot")
    assert [r["status"] for r in rows] == ["sent", "sent", "sent"]
    assert {lb.messages[r["message_id"]].text.split("答:")[-1] for r in rows} == {
        "几点开课", "本周提示：周五交稿", "已发布：周五交稿"}
    store.close()


class Counting:
    """A sender whose puppet confirms every send with a fresh id."""

    def __init__(self):
        self.sent: list = []

    async def perform(self, action):
        self.sent.append(action)
        return f"sent-{len(self.sent)}"


@pytest.mark.parametrize("refusals, marked", [(2, True), (99, False)])
async def test_a_mark_the_database_refuses_is_retried_and_never_resent(tmp_path, monkeypatch, refusals, marked):
    """The send went out; the database refuses its mark a few times (then marks it), or for good
    (then this process keeps the row in flight and its sweep does not send it again)."""
    from agent.channels import runner as runner_module

    settings = settings_for(tmp_path, [group("g1")])
    store = Store(tmp_path / "state.db")
    calls = {"n": 0}
    done = outbox.done

    def flaky(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] <= refusals:
            raise OSError("database unavailable")
        return done(*args, **kwargs)

    monkeypatch.setattr(runner_module.outbox, "done", flaky)
    sender = Counting()
    runner = Runner(pipeline_for(settings, Scripted(), store=store), sender, settings.pacing, account=lambda: "bot")
    runner.resume_after = timedelta(0)
    runner.notify([Whisper(OWNER, "本周小结已发出")])
    assert await runner.drain(30)
    runner.resume()
    assert await runner.drain(30)
    await runner.close()
    assert [a.text for a in sender.sent] == ["本周小结已发出"]
    assert [r["status"] for r in outbox.rows(store, "bot")] == ["sent" if marked else "decided"]
    store.close()
