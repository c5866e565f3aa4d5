"""One clock per group: every time shown or stored for a group is in the group's own zone, whatever
the server's zone. Messages are put on their group's clock as they enter the pipeline, so /mute's
"安静到 01:30", case files, /why, knowledge stamps and the figures all read the group's wall time.

A naive time is taken as the group's wall time (scripted conversations, rows without an offset), as
the drift policy has always read it.
"""
from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo


@lru_cache(maxsize=64)
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def local(ts: datetime, tz: str) -> datetime:
    """`ts` on the clock of the zone `tz`: the same instant, the group's wall time."""
    return ts.replace(tzinfo=zone(tz)) if ts.tzinfo is None else ts.astimezone(zone(tz))


def now(tz: str) -> datetime:
    return datetime.now(zone(tz))
