"""Operator commands: ``receipts erase``/``receipts tombstones`` and ``channel create|revoke|list``.

They call the same plain functions the admin will call (:mod:`.erasure`, :mod:`.channels`).
"""

from __future__ import annotations

import json

import click
from flask.cli import AppGroup, with_appcontext

from website.consent.cli import _store, receipts_cli

from .channels import ChannelError, create_channel, list_channels, revoke_channel
from .erasure import NothingToErase, erase_visitor, list_tombstones

channel_cli = AppGroup("channel", help="Channels that record receipts through POST /api/receipts.")


@click.command("erase")
@with_appcontext
@click.argument("consent_id")
@click.option("--reason", required=True,
              help="Why (kept in the tombstone; no personal data), e.g. 'request by e-mail'.")
def erase_command(consent_id: str, reason: str) -> None:
    """Erase every receipt of CONSENT_ID (Art. 17 GDPR); a tombstone without personal data
    records that it happened. Prints the tombstone as JSON."""
    with _store() as store:
        try:
            tombstone = erase_visitor(store, consent_id, reason)
        except (NothingToErase, ValueError) as exc:
            raise click.ClickException(str(exc).strip("'\"")) from None
    click.echo(json.dumps(tombstone.as_json(), ensure_ascii=False))


@click.command("tombstones")
@with_appcontext
def tombstones_command() -> None:
    """Print every erasure on record (JSON Lines, oldest first)."""
    with _store() as store:
        for tombstone in list_tombstones(store):
            click.echo(json.dumps(tombstone.as_json(), ensure_ascii=False))


receipts_cli.add_command(erase_command)
receipts_cli.add_command(tombstones_command)


@channel_cli.command("create")
@click.argument("name")
def create_command(name: str) -> None:
    """Create channel NAME and print its token ONCE (only its hash is stored)."""
    with _store() as store:
        try:
            token = create_channel(store, name)
        except ChannelError as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(token)
    click.echo(f"Channel {name!r} created. The token above is shown only now: give it to the "
               "channel (Authorization: Bearer <token>).", err=True)


@channel_cli.command("revoke")
@click.argument("name")
def revoke_command(name: str) -> None:
    """Revoke channel NAME's token at once (its receipts stay)."""
    with _store() as store:
        try:
            revoke_channel(store, name)
        except ChannelError as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(f"Channel {name!r} revoked.")


@channel_cli.command("list")
def list_command() -> None:
    """Print every channel: name, created, revoked (JSON Lines; never a token)."""
    from website.consent.receipts import iso_utc

    with _store() as store:
        for channel in list_channels(store):
            click.echo(json.dumps({
                "name": channel.name,
                "created_at": iso_utc(channel.created_at),
                "revoked_at": iso_utc(channel.revoked_at) if channel.revoked_at else None,
                "active": channel.active,
            }))
