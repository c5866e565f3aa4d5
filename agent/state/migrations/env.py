"""Alembic's environment: always run on a connection the state hands in (agent.state.engine)."""
from alembic import context

from agent.state.tables import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run the migrations through `steward db upgrade`, which opens the configured database")
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
