"""Operator commands: ``flask --app wsgi receipts export|show|purge``.

``export --format csv|jsonl|kantara|dpv --since DAY --until DAY`` streams the standard shapes of
:mod:`.exports`; without options it prints every receipt as JSON Lines, as it always did.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import click
from flask import current_app
from flask.cli import AppGroup

from website.store import DatabaseSettings, ReceiptStore, StorageError

from .exports import FORMATS, export
from .receipts import Receipt, iso_utc

#: Statement (PostgreSQL) or lock-wait (SQLite) limit for operator commands: ten minutes.
COMMAND_TIMEOUT_MS = 600_000

receipts_cli = AppGroup("receipts", help="Consent receipts: export, look up, purge.")


@contextmanager
def _store() -> Iterator[ReceiptStore]:
    """A store for one command; a database failure becomes a clear message and exit 1."""
    settings = DatabaseSettings.from_config(current_app.config)
    # An export or purge of a large store may legitimately run longer than a web request.
    settings = replace(settings, statement_timeout_ms=max(settings.statement_timeout_ms,
                                                          COMMAND_TIMEOUT_MS))
    store = ReceiptStore(settings)
    try:
        yield store
    except StorageError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        store.close()


def _day(_ctx: click.Context, param: click.Parameter, value: datetime | None) -> date | None:
    return value.date() if value is not None else None


@receipts_cli.command("export")
@click.option(
    "--format", "fmt", type=click.Choice(FORMATS), default="jsonl", show_default=True,
    help="jsonl: the receipts as stored; csv; kantara: Kantara Consent Receipt v1.1; "
    "dpv: ISO/IEC TS 27560 through W3C DPV (JSON Lines).",
)
@click.option("--since", type=click.DateTime(formats=["%Y-%m-%d"]), callback=_day,
              help="First UTC day to export (included).")
@click.option("--until", type=click.DateTime(formats=["%Y-%m-%d"]), callback=_day,
              help="Last UTC day to export (included).")
def export_command(fmt: str, since: date | None, until: date | None) -> None:
    """Write the receipts to standard output, oldest first, streamed (flat memory).

    Without options: every receipt as JSON Lines, as before. The period is filtered in SQL.
    """
    if since and until and since > until:
        raise click.BadParameter("--since is after --until", param_hint="--since")
    start = datetime.combine(since, time(), tzinfo=UTC) if since else None
    end = datetime.combine(until + timedelta(days=1), time(), tzinfo=UTC) if until else None
    count = 0
    with _store() as store:
        receipts = store.export(start, end)
        if fmt == "jsonl":
            for receipt in receipts:
                sys.stdout.write(json.dumps(receipt.as_json(), ensure_ascii=False) + "\n")
                count += 1
        else:
            controller = current_app.extensions["consent"].catalog.controller

            def counted() -> Iterator[Receipt]:
                nonlocal count
                for receipt in receipts:
                    count += 1
                    yield receipt

            for chunk in export(counted(), fmt, store.notice, controller):
                sys.stdout.write(chunk)
    click.echo(f"{count} receipts exported.", err=True)


def _with_notice(store: ReceiptStore, receipt: Receipt) -> dict[str, Any]:
    record = receipt.as_json()
    notice = store.notice(receipt.notice_hash)
    record["notice"] = json.loads(notice.content) if notice else None
    return record


@receipts_cli.command("show")
@click.argument("receipt_or_consent_id")
def show_command(receipt_or_consent_id: str) -> None:
    """Print ONE JSON document: a receipt with the notice it points to, or, for a consent id,
    that visitor's receipts (oldest first), each with its notice (proof for Art. 7(1) GDPR)."""
    with _store() as store:
        receipt = store.get(receipt_or_consent_id)
        if receipt is not None:
            document: dict[str, Any] = _with_notice(store, receipt)
        else:
            history = store.history(receipt_or_consent_id)
            if not history:
                raise click.ClickException(
                    f"no receipt and no consent id {receipt_or_consent_id!r}"
                )
            document = {
                "consent_id": receipt_or_consent_id,
                "receipts": [_with_notice(store, receipt) for receipt in history],
            }
    click.echo(json.dumps(document, ensure_ascii=False, indent=2))


def _aware(_ctx: click.Context, _param: click.Parameter, value: datetime | None) -> datetime:
    if value is None:
        return datetime.now(UTC)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@receipts_cli.command("purge")
@click.option(
    "--years",
    type=click.IntRange(min=1),
    default=None,
    help="Keep this many full calendar years after a visitor's last receipt "
    "(default: RECEIPT_RETENTION_YEARS, 3).",
)
@click.option("--dry-run", is_flag=True, help="Only say how many would be deleted.")
@click.option(
    "--now",
    type=click.DateTime(formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"]),
    default=None,
    callback=_aware,
    help="Reference time in UTC (default: the current time); for reproducible runs.",
)
def purge_command(years: int | None, dry_run: bool, now: datetime) -> None:
    """Delete visitors' receipts once the retention period after their last decision is over."""
    years = years or int(current_app.config["RECEIPT_RETENTION_YEARS"])
    # Kept until the end of the year plus N years (limitation period, Sec. 195, 199 BGB).
    cutoff = datetime(now.year - years, 1, 1, tzinfo=UTC)
    with _store() as store:
        if dry_run:
            due = store.count_expired(cutoff)
            click.echo(f"{due} receipts older than {iso_utc(cutoff)} would be deleted.")
            return
        deleted = store.purge(cutoff)
    click.echo(f"{deleted} receipts older than {iso_utc(cutoff)} deleted.")
