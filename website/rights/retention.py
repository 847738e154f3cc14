"""``flask --app wsgi retention run``: the privacy policy's deletion promises, kept nightly.

- Contact messages: deleted ``CONTACT_RETENTION_YEARS`` (2) years after their last activity
  (arrival, or being marked answered).
- Receipts: deleted once ``RECEIPT_RETENTION_YEARS`` (3) full calendar years have passed after
  the end of the year in which the consent they prove ended. A consent ends when it expires
  (``expires_at``), is withdrawn (the withdrawal receipt's own time) or is superseded (the same
  visitor's next receipt). Each receipt is judged on its own: a superseded one can go while the
  visitor's current decision is still kept as proof.
- Tombstones: likewise ``TOMBSTONE_RETENTION_YEARS`` (3) years after the end of the year of the
  erasure.

Times come from ``--now`` (tests, reruns) or the clock; the summary is one JSON object.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import Connection, delete, exists, func, or_, select

from website.consent.cli import _store
from website.consent.receipts import iso_utc
from website.store import ReceiptStore
from website.store.errors import translated
from website.store.tables import receipts

from .tables import contact_messages, tombstones

DEFAULT_YEARS = {
    "CONTACT_RETENTION_YEARS": 2,
    "RECEIPT_RETENTION_YEARS": 3,
    "TOMBSTONE_RETENTION_YEARS": 3,
}



def configure(config: dict[str, Any]) -> None:
    """Retention periods from the environment (``CONTACT_RETENTION_YEARS`` ...) unless set."""
    for key, default in DEFAULT_YEARS.items():
        raw = os.environ.get(key)
        config.setdefault(key, int(raw) if raw else default)


retention_cli = AppGroup("retention", help="Delete what the privacy policy promises to delete.")


@dataclass(frozen=True)
class Cutoffs:
    """Rows whose reference time is before the cutoff are due."""

    contact_messages: datetime
    receipts: datetime
    tombstones: datetime


def years_before(moment: datetime, years: int) -> datetime:
    """The same instant ``years`` calendar years earlier (29 February becomes the 28th)."""
    try:
        return moment.replace(year=moment.year - years)
    except ValueError:
        return moment.replace(year=moment.year - years, day=28)


def year_end_cutoff(now: datetime, years: int) -> datetime:
    """Kept until the end of the year plus ``years`` years: due if before 1 January of
    ``now.year - years``."""
    return datetime(now.year - years, 1, 1, tzinfo=UTC)


def cutoffs(now: datetime, config: dict[str, Any]) -> Cutoffs:
    def years(key: str) -> int:
        raw = config.get(key)
        value = int(DEFAULT_YEARS[key] if raw is None or raw == "" else raw)
        if value < 1:
            raise ValueError(f"{key} must be at least 1 year")
        return value

    now = now.astimezone(UTC)
    return Cutoffs(
        contact_messages=years_before(now, years("CONTACT_RETENTION_YEARS")),
        receipts=year_end_cutoff(now, years("RECEIPT_RETENTION_YEARS")),
        tombstones=year_end_cutoff(now, years("TOMBSTONE_RETENTION_YEARS")),
    )


def _ended_receipts(cutoff: datetime) -> Any:
    """Receipts whose consent ended before ``cutoff``: expired, withdrawn or superseded."""
    later = receipts.alias("later")
    superseded = exists().where(
        later.c.consent_id == receipts.c.consent_id,
        later.c.created_at > receipts.c.created_at,
        later.c.created_at < cutoff,
    )
    return or_(
        receipts.c.expires_at < cutoff,
        (receipts.c.action == "withdraw") & (receipts.c.created_at < cutoff),
        superseded,
    )


def _count(connection: Connection, table: Any, where: Any) -> int:
    return int(connection.execute(select(func.count()).select_from(table).where(where))
               .scalar_one())


def run_retention(store: ReceiptStore, now: datetime, config: dict[str, Any], *,
                  dry_run: bool = False) -> dict[str, Any]:
    """Delete (or, with ``dry_run``, count) everything due at ``now``; one transaction."""
    due = cutoffs(now, config)
    targets = {
        "contact_messages": (contact_messages,
                             contact_messages.c.last_activity_at < due.contact_messages),
        "receipts": (receipts, _ended_receipts(due.receipts)),
        "tombstones": (tombstones, tombstones.c.erased_at < due.tombstones),
    }
    counts: dict[str, int] = {}
    with translated("cannot apply the retention periods"), store.engine.begin() as connection:
        for name, (table, where) in targets.items():
            if dry_run:
                counts[name] = _count(connection, table, where)
            elif table is receipts:  # with removal notes: retention is not tampering
                counts[name] = store.remove_receipts(connection, where, "retention")
            else:
                counts[name] = int(connection.execute(delete(table).where(where)).rowcount)
    return {
        "now": iso_utc(now),
        "dry_run": dry_run,
        "deleted" if not dry_run else "due": counts,
        "cutoffs": {name: iso_utc(moment) for name, moment in asdict(due).items()},
    }


def _now(_ctx: click.Context, _param: click.Parameter, value: str | None) -> datetime:
    if value is None:
        return datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not an ISO 8601 time "
                                 "(e.g. 2030-01-01T03:30:00Z)") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


@retention_cli.command("run")
@click.option("--dry-run", is_flag=True, help="Only count what is due; delete nothing.")
@click.option("--now", callback=_now, default=None, metavar="ISO",
              help="Reference time (ISO 8601, UTC if no offset); default: the clock.")
def run_command(dry_run: bool, now: datetime) -> None:
    """Delete contact messages, receipts and tombstones past their retention; print a JSON
    summary."""
    with _store() as store:
        try:
            summary = run_retention(store, now, current_app.config, dry_run=dry_run)
        except ValueError as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(json.dumps(summary, sort_keys=True))
