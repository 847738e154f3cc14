"""Operator commands: ``flask --app wsgi receipts export|purge|show``."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime

import click
from flask import current_app
from flask.cli import AppGroup

from .storage import open_store

receipts_cli = AppGroup("receipts", help="Consent receipts: export, look up, purge.")


@receipts_cli.command("export")
def export_command() -> None:
    """Write every receipt as JSON Lines to standard output, oldest first."""
    store = open_store(current_app.config["DATABASE_URL"])
    try:
        count = 0
        for receipt in store.export():
            sys.stdout.write(json.dumps(receipt.as_json(), ensure_ascii=False) + "\n")
            count += 1
    finally:
        store.close()
    click.echo(f"{count} receipts exported.", err=True)


@receipts_cli.command("show")
@click.argument("consent_id")
def show_command(consent_id: str) -> None:
    """One visitor's receipts with the notice each refers to (proof for Art. 7(1) GDPR)."""
    store = open_store(current_app.config["DATABASE_URL"])
    try:
        receipts = store.history(consent_id)
        if not receipts:
            raise click.ClickException(f"no receipts for consent id {consent_id!r}")
        for receipt in receipts:
            notice = store.notice(receipt.notice_hash)
            record = receipt.as_json()
            record["notice"] = json.loads(notice.content) if notice else None
            click.echo(json.dumps(record, ensure_ascii=False, indent=2))
    finally:
        store.close()


@receipts_cli.command("purge")
@click.option(
    "--years",
    type=click.IntRange(min=1),
    default=None,
    help="Keep this many full calendar years after a visitor's last receipt "
    "(default: RECEIPT_RETENTION_YEARS, 3).",
)
@click.option("--dry-run", is_flag=True, help="Only say how many would be deleted.")
def purge_command(years: int | None, dry_run: bool) -> None:
    """Delete visitors' receipts once the retention period after their last decision is over."""
    years = years or int(current_app.config["RECEIPT_RETENTION_YEARS"])
    now = datetime.now(UTC)
    # Kept until the end of the year plus N years (limitation period, Sec. 195, 199 BGB).
    cutoff = f"{now.year - years:04d}-01-01T00:00:00.000000Z"
    store = open_store(current_app.config["DATABASE_URL"])
    try:
        if dry_run:
            due = store.count_expired(cutoff)
            click.echo(f"{due} receipts older than {cutoff} would be deleted.")
            return
        deleted = store.purge(cutoff)
    finally:
        store.close()
    click.echo(f"{deleted} receipts older than {cutoff} deleted.")
