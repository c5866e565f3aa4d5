"""Which message a report quotes: the channel gives only the quoted text, so it is matched to the
recent transcript (its id, its sender by contact id, the messages either side), or to a strike's
evidence when the bot had already hidden it as a violation; else the text stands alone."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from agent.state import transcript
from agent.state.tables import strikes

LOOKBACK = timedelta(hours=36)  # as far back as the transcript is kept
MIN_PREFIX = 8  # a quote this long may match a longer message it was cut from


@dataclass(frozen=True)
class Neighbour:
    name: str
    text: str  # "" when hidden (a violation, a recall)


@dataclass(frozen=True)
class Located:
    key: str  # what makes two reports the same message: its id, or a digest of the quoted text
    text: str
    message_id: str | None = None
    sender_id: str | None = None
    sender_name: str = ""
    ts: datetime | None = None
    before: Neighbour | None = None
    after: Neighbour | None = None


def _same(quote: str, text: str) -> bool:
    text = text.strip()
    return bool(text) and (text == quote or (len(quote) >= MIN_PREFIX and text.startswith(quote)))


def locate(store, group_id: str, quote: str, now: datetime) -> Located:
    """The latest message up to `now` whose text is the quote."""
    quote = quote.strip()
    # to `now` inclusive, and a second past it: a platform's stamps are often whole seconds
    rows = transcript.window(store, group_id, now - LOOKBACK, now + timedelta(seconds=1))
    for i in range(len(rows) - 1, -1, -1):
        row = rows[i]
        if _same(quote, row["text"]):
            def near(j: int) -> Neighbour | None:
                return Neighbour(rows[j]["sender_name"], rows[j]["text"]) if 0 <= j < len(rows) else None

            return Located(row["message_id"], quote, row["message_id"], row["sender_id"], row["sender_name"],
                           row["ts"], near(i - 1), near(i + 1))
    struck = store.rows(sa.select(strikes).where(strikes.c.group_id == group_id, strikes.c.ts >= now - LOOKBACK,
                                                 strikes.c.evidence == quote).order_by(strikes.c.id.desc()).limit(1))
    if struck:
        s = struck[0]
        return Located(s["message_id"], quote, s["message_id"], s["member_id"], "", s["ts"])
    return Located("text:" + hashlib.sha1(quote.encode("utf-8")).hexdigest()[:16], quote)
