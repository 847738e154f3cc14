"""Read-only queries for the operator's admin: aggregates (GROUP BY in the database, never a
loop over every row in Python), receipt search with paging, and the catalog revisions in force.

Categories and services are stored as JSON text; SQLite reads them with ``json_each``,
PostgreSQL with ``jsonb_each_text``. Those two statements are spelled per dialect; every
identifier in them comes from a fixed list, every value is a bound parameter.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Engine, bindparam, func, select, text
from sqlalchemy.sql.elements import ColumnElement

from website.consent.receipts import Receipt

from .errors import translated
from .tables import UTCDateTime, receipts

#: The receipt columns the admin may group by, and the JSON columns it may unpack.
DIMENSIONS = ("ua_device", "language", "method", "action")
JSON_COLUMNS = ("categories", "services")


@dataclass(frozen=True)
class Rate:
    """How many decisions there were for one key, and how many of them granted it."""

    key: str
    granted: int
    total: int

    @property
    def percent(self) -> float:
        return 100.0 * self.granted / self.total if self.total else 0.0


@dataclass(frozen=True)
class RevisionInForce:
    revision: str
    first_used: datetime
    last_used: datetime
    receipts: int
    languages: str


@dataclass(frozen=True)
class ReceiptFilter:
    """What the admin's receipt search asks for; ``None`` means "any"."""

    consent_id: str | None = None
    receipt_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    action: str | None = None
    method: str | None = None

    def where(self) -> list[ColumnElement[bool]]:
        clauses: list[ColumnElement[bool]] = []
        if self.consent_id:
            clauses.append(receipts.c.consent_id == self.consent_id)
        if self.receipt_id:
            clauses.append(receipts.c.receipt_id == self.receipt_id)
        if self.since is not None:
            clauses.append(receipts.c.created_at >= self.since)
        if self.until is not None:
            clauses.append(receipts.c.created_at < self.until)
        if self.action:
            clauses.append(receipts.c.action == self.action)
        if self.method:
            clauses.append(receipts.c.method == self.method)
        return clauses


def _period(statement: Any) -> Any:
    return statement.bindparams(
        bindparam("since", type_=UTCDateTime()), bindparam("until", type_=UTCDateTime())
    )


def _day(dialect: str) -> str:
    if dialect == "postgresql":
        return "to_char(r.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')"
    return "substr(r.created_at, 1, 10)"  # fixed-width ISO text: the UTC date


def _each(dialect: str, column: str) -> tuple[str, str]:
    """``FROM`` fragment unpacking a JSON column into ``j.key``/``j.value``, and "is true"."""
    assert column in JSON_COLUMNS
    if dialect == "postgresql":
        return f"CROSS JOIN LATERAL jsonb_each_text(r.{column}::jsonb) AS j", "j.value = 'true'"
    return f", json_each(r.{column}) AS j", "j.value = 1"


def decisions_per_day(
    engine: Engine, since: datetime, until: datetime
) -> dict[str, dict[str, int]]:
    """``{"2026-12-01": {"accept_all": 3, ...}}`` for ``since <= created_at < until``."""
    day = _day(engine.dialect.name)
    statement = _period(text(
        f"SELECT {day} AS day, r.action AS action, COUNT(*) AS n FROM receipts r "
        "WHERE r.created_at >= :since AND r.created_at < :until "
        f"GROUP BY {day}, r.action ORDER BY 1, 2"
    ))
    out: dict[str, dict[str, int]] = {}
    with translated("cannot read receipts"), engine.connect() as connection:
        for row in connection.execute(statement, {"since": since, "until": until}):
            out.setdefault(row.day, {})[row.action] = int(row.n)
    return out


def opt_in_rates(engine: Engine, column: str, since: datetime, until: datetime) -> list[Rate]:
    """For each category (or service) key in the period's receipts: decisions and grants."""
    join, true = _each(engine.dialect.name, column)
    statement = _period(text(
        f"SELECT j.key AS key, SUM(CASE WHEN {true} THEN 1 ELSE 0 END) AS granted, "
        f"COUNT(*) AS total FROM receipts r {join} "
        "WHERE r.created_at >= :since AND r.created_at < :until GROUP BY j.key ORDER BY j.key"
    ))
    with translated("cannot read receipts"), engine.connect() as connection:
        rows = connection.execute(statement, {"since": since, "until": until})
        return [Rate(row.key, int(row.granted or 0), int(row.total)) for row in rows]


def opt_in_by(
    engine: Engine, dimension: str, optional: Sequence[str], since: datetime, until: datetime
) -> list[Rate]:
    """Per device class (or language, ...): decisions, and those granting any optional category."""
    assert dimension in DIMENSIONS
    dialect = engine.dialect.name
    each, true = _each(dialect, "categories")
    each_from = each.removeprefix(", ").removeprefix("CROSS JOIN LATERAL ")
    any_optional = (f"EXISTS (SELECT 1 FROM {each_from} WHERE j.key IN :keys AND {true})"
                    if optional else "1 = 0")
    statement = _period(text(
        f"SELECT r.{dimension} AS key, "
        f"SUM(CASE WHEN {any_optional} THEN 1 ELSE 0 END) AS granted, COUNT(*) AS total "
        "FROM receipts r WHERE r.created_at >= :since AND r.created_at < :until "
        f"GROUP BY r.{dimension} ORDER BY COUNT(*) DESC, r.{dimension}"
    ))
    params: dict[str, Any] = {"since": since, "until": until}
    if optional:
        statement = statement.bindparams(bindparam("keys", expanding=True))
        params["keys"] = list(optional)
    with translated("cannot read receipts"), engine.connect() as connection:
        rows = connection.execute(statement, params)
        return [Rate(row.key or "", int(row.granted or 0), int(row.total)) for row in rows]


def revisions_in_force(engine: Engine) -> list[RevisionInForce]:
    """Every catalog revision receipts point to, with its first and last use (oldest first)."""
    first = func.min(receipts.c.created_at)
    query = (
        select(
            receipts.c.revision,
            first.label("first_used"),
            func.max(receipts.c.created_at).label("last_used"),
            func.count().label("n"),
        )
        .group_by(receipts.c.revision)
        .order_by(first)
    )
    languages = (
        select(receipts.c.revision, receipts.c.language)
        .group_by(receipts.c.revision, receipts.c.language)
    )
    with translated("cannot read receipts"), engine.connect() as connection:
        rows = list(connection.execute(query))
        langs: dict[str, list[str]] = {}
        for row in connection.execute(languages):
            langs.setdefault(row.revision, []).append(row.language)
    return [
        RevisionInForce(row.revision, row.first_used, row.last_used, int(row.n),
                        ", ".join(sorted(langs.get(row.revision, []))))
        for row in rows
    ]


def search_receipts(
    engine: Engine, where: ReceiptFilter, limit: int, offset: int
) -> tuple[list[Receipt], int]:
    """One page of matching receipts, newest first, and how many match in all."""
    clauses = where.where()
    query = (
        select(receipts).where(*clauses)
        .order_by(receipts.c.created_at.desc(), receipts.c.receipt_id.desc())
        .limit(limit).offset(offset)
    )
    count = select(func.count()).select_from(receipts).where(*clauses)
    with translated("cannot read receipts"), engine.connect() as connection:
        page = [Receipt(**row._asdict()) for row in connection.execute(query)]
        total = int(connection.execute(count).scalar_one())
    return page, total


def distinct_values(engine: Engine, column: str) -> list[str]:
    """The values a receipt column takes (for the search form's choices)."""
    assert column in DIMENSIONS
    col = receipts.c[column]
    with translated("cannot read receipts"), engine.connect() as connection:
        return [row[0] for row in connection.execute(select(col).group_by(col).order_by(col))]


def day_range(since: date, until: date) -> list[date]:
    """Every day from ``since`` to ``until``, both included."""
    return [date.fromordinal(n) for n in range(since.toordinal(), until.toordinal() + 1)]
