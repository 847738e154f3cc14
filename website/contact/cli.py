"""``flask --app wsgi contact list|answered ID|delete ID``."""

from __future__ import annotations

import json

import click
from flask.cli import AppGroup

from website.consent.cli import _store

from .messages import delete_message, list_messages, mark_answered

contact_cli = AppGroup("contact", help="Messages from the contact form: read, mark, delete.")


@contact_cli.command("list")
@click.option("--unanswered", is_flag=True, help="Only messages not marked answered.")
def list_command(unanswered: bool) -> None:
    """Print the messages, newest first, one JSON object per line."""
    with _store() as store:
        for message in list_messages(store, unanswered_only=unanswered):
            click.echo(json.dumps(message.as_json(), ensure_ascii=False))


@contact_cli.command("answered")
@click.argument("message_id", type=int)
def answered_command(message_id: int) -> None:
    """Mark message ID answered (its 2-year retention starts again from now)."""
    with _store() as store:
        if not mark_answered(store, message_id):
            raise click.ClickException(f"there is no message {message_id}")
    click.echo(f"Message {message_id} marked answered.")


@contact_cli.command("delete")
@click.argument("message_id", type=int)
def delete_command(message_id: int) -> None:
    """Delete message ID now."""
    with _store() as store:
        if not delete_message(store, message_id):
            raise click.ClickException(f"there is no message {message_id}")
    click.echo(f"Message {message_id} deleted.")
