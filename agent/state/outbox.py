"""The outbox: every action a bot account is to send, from the moment it is decided until the puppet
confirms it, so a process killed in between has its restart send it, once.

A row is written in the transaction that decides it: a reply's with the message's decision (held by
`Store.deciding`, landed by `Store.decided`), a scheduled post's with the post's claim; anything else
(owners' notices from the clock, welcomes) right after it is decided. The runner marks it sent with
the message id the puppet returned, and on start (and on every clock tick) sends what its account
left decided but not sent. Between the puppet's confirmation and the mark there
is still a moment where a kill sends the action twice; everywhere else it is sent exactly once.

Which account is deciding is a property of the runner's worker thread (`sending_as`), so the pipeline
and the scheduler need not carry it: outside a runner (console, eval, tests) no row is written.
"""
from __future__ import annotations

import dataclasses
import json
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone

import sqlalchemy as sa

from agent.events import Action, Decision, Kick, Message, Say, SendImage, Whisper
from agent.state.store import Store
from agent.state.tables import outbox as o

KINDS: dict[str, type] = {"say": Say, "whisper": Whisper, "image": SendImage, "kick": Kick}
_current = threading.local()  # .account, .claim (runner's in-flight set), .written [(key, action)]


@contextmanager
def sending_as(account: str | None, claim: Callable[[str], bool]) -> Iterator[list[tuple[str, Action]]]:
    """While this thread works for `account`: rows written are recorded in the list yielded, and each
    key is passed to `claim` before its row can commit (so a sweep never sends a row still in flight;
    `claim` returns False for a key already in flight)."""
    _current.account, _current.claim, _current.written = account, claim, []
    try:
        yield _current.written
    finally:
        _current.account = _current.claim = _current.written = None


def key_of_reply(message_id: str, n: int) -> str:
    return f"msg:{message_id}:{n}"


def key_of_post(draft_id: int, group_id: str) -> str:
    return f"post:{draft_id}:{group_id}"


def hold(store: Store, key: str, action: Action, now: datetime) -> None:
    """While a message is decided: its row lands with the decision (or not at all)."""
    row = _row(key, action, now)
    if row is not None:
        store.write(o, row)


def track(store: Store, actions: list[Action], now: datetime) -> None:
    """Inside `sending_as`: rows for actions decided outside a message's transaction (owners' notes
    and notices from the clock, welcomes), written as soon as they are decided, so a kill before
    they are sent has the restart send them rather than lose them."""
    for action in actions:
        hold(store, f"once:{uuid.uuid4().hex}", action, now)


def add(store: Store, conn: sa.Connection, key: str, action: Action, now: datetime) -> None:
    """In a transaction the caller holds (a post's claim): the row lands with it."""
    row = _row(key, action, now)
    if row is not None:
        conn.execute(store.insert(o).values(**row).on_conflict_do_nothing())


def _row(key: str, action: Action, now: datetime) -> dict | None:
    account = getattr(_current, "account", None)
    if account is None:
        return None
    _current.claim(key)
    _current.written.append((key, action))
    return {"key": key, "account": account, "conversation": _conversation(action), "action": dump(action),
            "status": "decided", "created": now}


def resumable(store: Store, before: datetime) -> list[Action]:
    """Inside `sending_as`: the account's actions decided before `before` and never confirmed, less
    those its runner has in flight (`claim` refuses them), recorded as written so they are sent."""
    account = getattr(_current, "account", None)
    if account is None:
        return []
    claimed = [(key, action) for key, action in unsent(store, account, before) if _current.claim(key)]
    # read again after claiming: a row this runner sent and marked between the read above and its claim
    # (the mark lands, then the key is released) is sent, not unsent; recorded as written, it is released
    still = _decided(store, [key for key, _ in claimed])
    _current.written.extend(claimed)
    return [action for key, action in claimed if key in still]


def _decided(store: Store, keys: list[str]) -> set[str]:
    if not keys:
        return set()
    return {r["key"] for r in store.rows(sa.select(o.c.key).where(o.c.key.in_(keys), o.c.status == "decided"))}


def done(store: Store, key: str, now: datetime, message_id: str | None = None, *, failed: bool = False) -> bool:
    """Mark a row sent (with the puppet's message id) or failed; False if it was no longer decided."""
    with store.transaction() as conn:
        changed = conn.execute(o.update().where(o.c.key == key, o.c.status == "decided").values(
            status="failed" if failed else "sent", message_id=message_id, sent_ts=now))
        return changed.rowcount == 1


def unsent(store: Store, account: str, before: datetime) -> list[tuple[str, Action]]:
    """The account's actions decided before `before` and never confirmed, oldest first."""
    rows = store.rows(sa.select(o.c.key, o.c.action).where(o.c.account == account, o.c.status == "decided",
                                                             o.c.created < before).order_by(o.c.created, o.c.key))
    return [(r["key"], load(r["action"])) for r in rows]


def rows(store: Store, account: str | None = None) -> list[sa.RowMapping]:
    """Every row (of one account), oldest first: for the operator, the tests and the benchmark."""
    query = sa.select(o).order_by(o.c.created, o.c.key)
    return store.rows(query if account is None else query.where(o.c.account == account))


def dump(action: Action) -> str:
    kind = next(k for k, cls in KINDS.items() if isinstance(action, cls))
    return json.dumps({"kind": kind, **dataclasses.asdict(action)}, ensure_ascii=False)


def load(text: str) -> Action:
    fields = json.loads(text)
    cls = KINDS[fields.pop("kind")]
    if "mentions" in fields:
        fields["mentions"] = tuple(fields["mentions"])
    return cls(**fields)


def _conversation(action: Action) -> str:
    group = getattr(action, "group_id", None)
    return group if group else f"dm:{action.contact_id}"


class OutboxRecorder:
    """A pipeline observer: while a message is decided, a row for each of its actions is held, so it
    lands in the transaction that marks the message seen."""

    def __init__(self, store: Store):
        self.store = store

    def deciding(self, message: Message, decision: Decision) -> None:
        for n, action in enumerate(decision.actions):
            hold(self.store, key_of_reply(message.id, n), action, datetime.now(timezone.utc))
