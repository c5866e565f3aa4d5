"""The one timestamp type of the state: timezone-aware in Python, one instant in every database.

PostgreSQL keeps `timestamptz`. SQLite has no such type, so the instant is stored as naive UTC text of
a fixed width, which sorts and compares in time order (the old files mixed offsets, so "10:00+08:00"
compared as later than "03:00+00:00"). A naive time handed in is taken as UTC, as the old store did.
"""
from __future__ import annotations

from datetime import datetime, timezone

import sqlalchemy as sa


class Moment(sa.types.TypeDecorator):
    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):  # a kv-era ISO string: same instant
            value = datetime.fromisoformat(value)
        value = value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)
