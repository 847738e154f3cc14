"""Alembic environment: always run by :func:`website.store.migrate.upgrade`, which passes a
connection that already holds the migration lock and an open transaction."""

from __future__ import annotations

from alembic import context

from website.store.tables import metadata

connection = context.config.attributes.get("connection")
if connection is None or context.is_offline_mode():
    raise SystemExit("Run migrations with `flask --app wsgi db upgrade`.")

context.configure(
    connection=connection,
    target_metadata=metadata,
    # SQLite cannot ALTER most things; Alembic's batch mode copies the table instead.
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
