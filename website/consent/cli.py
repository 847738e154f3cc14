"""Operator commands: ``flask --app wsgi receipts export|show|purge|seal|verify``.

``export --format csv|jsonl|kantara|dpv --since DAY --until DAY`` streams the standard shapes of
:mod:`.exports`; JSON Lines (the default) also carries the seals and removal notes of the period,
so that ``receipts verify --file`` can check the file offline (docs/proof.md).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import IO, Any

import click
from flask import current_app
from flask.cli import AppGroup

from website.store import DatabaseSettings, ReceiptStore, StorageError, keyring_from_config

from .exports import FORMATS, export
from .proof import KeyRing, RemovalNote, Seal, VerifyReport, verify
from .receipts import Receipt, iso_utc

#: Statement (PostgreSQL) or lock-wait (SQLite) limit for operator commands: ten minutes.
COMMAND_TIMEOUT_MS = 600_000
#: A day is sealed only this long after it ended: a request that decided at 23:59:59 may still
#: be committing its receipt (the statement timeout is 5 s; the margin covers clock skew
#: between nodes too).
SEAL_GRACE = timedelta(minutes=10)

receipts_cli = AppGroup(
    "receipts", help="Consent receipts: export, look up, purge, seal, verify."
)


@contextmanager
def _store() -> Iterator[ReceiptStore]:
    """A store for one command; a database failure becomes a clear message and exit 1."""
    settings = DatabaseSettings.from_config(current_app.config)
    # An export or purge of a large store may legitimately run longer than a web request.
    settings = replace(settings, statement_timeout_ms=max(settings.statement_timeout_ms,
                                                          COMMAND_TIMEOUT_MS))
    try:
        keys = keyring_from_config(current_app.config, current_app.instance_path)
    except StorageError as exc:
        raise click.ClickException(str(exc)) from None
    store = ReceiptStore(settings, keys)
    try:
        yield store
    except StorageError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        store.close()


def _day(_ctx: click.Context, param: click.Parameter, value: datetime | None) -> date | None:
    return value.date() if value is not None else None


def _line(document: dict[str, Any]) -> str:
    return json.dumps(document, ensure_ascii=False) + "\n"


@receipts_cli.command("export")
@click.option(
    "--format", "fmt", type=click.Choice(FORMATS), default="jsonl", show_default=True,
    help="jsonl: the receipts as stored, then the seals and removal notes; csv; kantara: "
    "Kantara Consent Receipt v1.1; dpv: ISO/IEC TS 27560 through W3C DPV (JSON Lines).",
)
@click.option("--since", type=click.DateTime(formats=["%Y-%m-%d"]), callback=_day,
              help="First UTC day to export (included).")
@click.option("--until", type=click.DateTime(formats=["%Y-%m-%d"]), callback=_day,
              help="Last UTC day to export (included).")
def export_command(fmt: str, since: date | None, until: date | None) -> None:
    """Write the receipts to standard output, oldest first, streamed (flat memory).

    JSON Lines ends with every seal (``"type": "seal"``) and removal note (``"type":
    "removal"``) of the period. The period is filtered in SQL.
    """
    if since and until and since > until:
        raise click.BadParameter("--since is after --until", param_hint="--since")
    start = datetime.combine(since, time(), tzinfo=UTC) if since else None
    end = datetime.combine(until + timedelta(days=1), time(), tzinfo=UTC) if until else None

    def in_period(day: date) -> bool:
        return (since is None or day >= since) and (until is None or day <= until)

    count = 0
    with _store() as store:
        receipts = store.export(start, end)
        if fmt == "jsonl":
            for receipt in receipts:
                sys.stdout.write(_line(receipt.as_json()))
                count += 1
            seals = [seal for seal in store.seals() if in_period(seal.day)]
            notes = [note for note in store.removal_notes() if in_period(note.day)]
            for seal in seals:
                sys.stdout.write(_line({"type": "seal", **seal.as_json()}))
            for note in notes:
                sys.stdout.write(_line(_note_json(note)))
            click.echo(f"{count} receipts exported. {len(seals)} seals, {len(notes)} removal "
                       "notes.", err=True)
            return
        controller = current_app.extensions["consent"].catalog.controller

        def counted() -> Iterator[Receipt]:
            nonlocal count
            for receipt in receipts:
                count += 1
                yield receipt

        for chunk in export(counted(), fmt, store.notice, controller):
            sys.stdout.write(chunk)
    click.echo(f"{count} receipts exported.", err=True)


def _note_json(note: RemovalNote) -> dict[str, Any]:
    return {
        "type": "removal",
        "receipt_id": note.receipt_id,
        "day": note.day.isoformat(),
        "hmac": note.hmac,
        "reason": note.reason,
    }


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


#: ``--now`` of the commands that judge dates (purge, seal): a fixed clock for reproducible runs.
NOW_OPTION = click.option(
    "--now",
    type=click.DateTime(formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"]),
    default=None,
    callback=_aware,
    help="Reference time in UTC (default: the current time); for reproducible runs.",
)


@receipts_cli.command("purge")
@click.option(
    "--years",
    type=click.IntRange(min=1),
    default=None,
    help="Keep this many full calendar years after a visitor's last receipt "
    "(default: RECEIPT_RETENTION_YEARS, 3).",
)
@click.option("--dry-run", is_flag=True, help="Only say how many would be deleted.")
@NOW_OPTION
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


@receipts_cli.command("seal")
@click.option(
    "--until",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    callback=_day,
    help="Seal up to this UTC day (default and latest: the last day that is over).",
)
@NOW_OPTION
def seal_command(until: date | None, now: datetime) -> None:
    """Seal every finished UTC day not sealed yet (idempotent; safe to run concurrently)."""
    latest = (now - SEAL_GRACE).date() - timedelta(days=1)
    if until is None or until > latest:
        until = latest
    with _store() as store:
        written = store.seal(until)
    if written:
        click.echo(
            f"{len(written)} days sealed ({written[0].day} to {written[-1].day}), "
            f"{sum(len(seal.receipt_ids) for seal in written)} receipts."
        )
    else:
        click.echo(f"Nothing to seal: every day up to {until} is sealed.")


class ExportFileError(click.ClickException):
    """An export file that cannot be read as one."""


def read_export(handle: IO[str]) -> tuple[list[dict[str, Any]], list[Seal], list[RemovalNote]]:
    """The receipts, seals and removal notes of a ``receipts export`` file."""
    receipts: list[dict[str, Any]] = []
    seals: list[Seal] = []
    notes: list[RemovalNote] = []
    for number, line in enumerate(handle, 1):
        if not line.strip():
            continue
        try:
            document = json.loads(line)
            if not isinstance(document, dict):
                raise ValueError("not a JSON object")
            kind = document.get("type")
            if kind is None:
                receipts.append(document)
            elif kind == "seal":
                seals.append(Seal.from_json(document))
            elif kind == "removal":
                notes.append(
                    RemovalNote(
                        str(document["receipt_id"]),
                        date.fromisoformat(document["day"]),
                        str(document["hmac"]),
                        str(document["reason"]),
                    )
                )
            else:
                raise ValueError(f"unknown type {kind!r}")
        except (ValueError, KeyError, TypeError) as exc:
            raise ExportFileError(f"line {number}: not an export line ({exc})") from None
    return receipts, seals, notes


@receipts_cli.command("verify")
@click.option(
    "--since",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    callback=_day,
    help="Check only the UTC days from this one on.",
)
@click.option(
    "--file",
    "export_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Check a `receipts export` file offline instead of the database.",
)
def verify_command(since: date | None, export_file: Path | None) -> None:
    """Check every receipt's HMAC and every day's seal; name each altered, inserted or deleted
    receipt and each broken seal (exit 1), or print a one-line summary (exit 0)."""
    if export_file is not None:
        keys = _keys()
        with export_file.open(encoding="utf-8") as handle:
            receipts, seals, notes = read_export(handle)
        report = verify(receipts, seals, notes, keys, since=since)
    else:
        keys = _keys()
        with _store() as store:
            report = verify(
                (receipt.as_json() for receipt in store.export()),
                store.seals(),
                store.removal_notes(),
                keys,
                since=since,
            )
    _print_report(report)


def _keys() -> KeyRing:
    try:
        return keyring_from_config(current_app.config, current_app.instance_path, create=False)
    except StorageError as exc:
        raise click.ClickException(str(exc)) from None


def _print_report(report: VerifyReport) -> None:
    for line in report.lines():
        click.echo(line)
    click.echo(report.summary())
    if not report.ok:
        raise click.exceptions.Exit(1)
