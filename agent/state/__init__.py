"""The bot's state on SQLite (the embedded default) or PostgreSQL, by `store.url`.

SQLAlchemy Core tables in one metadata (tables.py), Alembic migrations run when a store opens
(migrations/), and one repository module per feature: gaps, moderation (strikes, cases, warnings),
feedback (owners' examples), schedule (drafts, posts), analytics; the seen marks and key/values are the
store's own (store.py). Nothing outside this package writes SQL or holds a connection.
"""
