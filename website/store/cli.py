"""``flask --app wsgi db upgrade|current``: the one way to create or migrate the database."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from .engine import DatabaseSettings, safe_url
from .errors import StorageError, translated
from .migrate import current_revision, head_revision, upgrade
from .store import ReceiptStore

db_cli = AppGroup("db", help="The receipt database: create, migrate, show the revision.")


def _settings() -> DatabaseSettings:
    return DatabaseSettings.from_config(current_app.config)


@db_cli.command("upgrade")
def upgrade_command() -> None:
    """Create the database or migrate it to this code's schema (safe to run concurrently)."""
    settings = _settings()
    try:
        revision = upgrade(settings)
    except StorageError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Receipt database {safe_url(settings.url)} is at revision {revision} (head).")


@db_cli.command("current")
def current_command() -> None:
    """Print the database's revision and whether it is this code's head (exit 1 if not)."""
    store = ReceiptStore(_settings())
    try:
        with translated("cannot open the receipt database"), store.engine.connect() as conn:
            revision = current_revision(conn)
    except StorageError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        store.close()
    head = head_revision()
    click.echo(f"{revision or 'none'} (head: {head})")
    if revision != head:
        raise click.exceptions.Exit(1)


@click.command("init-db", hidden=True)
@click.pass_context
def init_db_command(ctx: click.Context) -> None:
    """Old name of ``db upgrade``."""
    click.echo("init-db is now `flask --app wsgi db upgrade`.", err=True)
    ctx.invoke(upgrade_command)
