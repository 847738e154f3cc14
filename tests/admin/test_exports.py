"""Exports from the admin (a streamed download) and from the CLI, in every format, for a period:
Kantara records validate against the v1.1 JSON schema, the others parse and carry every
receipt of the period and no other."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from pathlib import Path

import jsonschema
import pytest

from tests.admin.helpers import add, form_token
from website.consent.exports import CSV_COLUMNS, FORMATS

SCHEMA = json.loads((Path(__file__).parents[1] / "schemas"
                     / "kantara-consent-receipt-v1.1.schema.json").read_text())


@pytest.fixture
def spread(app, store):
    """Receipts on 31 Jan (edge), 1-3 Feb and 4 Feb 00:00 (edge); the period is 1-3 Feb."""
    times = [datetime(2026, 1, 31, 23, 59, 59, 999999, tzinfo=UTC),
             datetime(2026, 2, 1, 0, 0, tzinfo=UTC), datetime(2026, 2, 2, 12, tzinfo=UTC),
             datetime(2026, 2, 3, 23, 59, 59, 999999, tzinfo=UTC),
             datetime(2026, 2, 4, 0, 0, tzinfo=UTC)]
    actions = ["accept_all", "accept_all", "reject_all", "withdraw", "custom"]
    made = [add(app, store, when, action=action,
                grant=("statistics", "marketing", "media") if action == "accept_all" else ())
            for when, action in zip(times, actions, strict=True)]
    return made[1:4], made


def check(fmt: str, text: str, expected: list) -> None:
    ids = [r.receipt_id for r in expected]
    if fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(text)))
        assert tuple(rows[0]) == CSV_COLUMNS if rows else True
        assert [row["receipt_id"] for row in rows] == ids
        return
    records = [json.loads(line) for line in text.splitlines()]
    if fmt == "jsonl":
        assert [r["receipt_id"] for r in records] == ids
        assert all(r["schema"] == "website-consent-receipt/2" for r in records)
    elif fmt == "kantara":
        validator = jsonschema.Draft4Validator(SCHEMA)
        for record in records:
            validator.validate(record)
        assert [r["consentReceiptID"] for r in records] == ids
        assert records[0]["policyUrl"].endswith("/datenschutz")
    else:
        assert [r["record_id"] for r in records] == ids
        for record in records:
            assert record["schema_version"] == "ISO/IEC TS 27560:2023"
            assert record["event"][0]["event_time"].endswith("Z")
            assert {p["purpose_type"] for p in record["processing"]} == {
                "statistics", "marketing", "media"}


@pytest.mark.parametrize("fmt", FORMATS)
def test_admin_download_streams_the_period_in_every_format(app, spread, logged_in, accounts,
                                                            fmt):
    in_period, _ = spread
    token = form_token(logged_in, "/admin/export")
    response = logged_in.post("/admin/export", data={
        "csrf_token": token, "format": fmt, "since": "2026-02-01", "until": "2026-02-03"})
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.is_streamed
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment; filename=\"receipts-2026-02-01-2026-02-03.")
    assert response.headers["Cache-Control"] == "no-store"
    check(fmt, response.get_data(as_text=True), in_period)
    entry = accounts.audit_log(1)[0][0]
    assert (entry.actor, entry.action) == ("alice", "export")
    assert entry.detail == f"format={fmt} since=2026-02-01 until=2026-02-03"


def test_admin_download_without_a_period_has_everything(app, spread, logged_in):
    _, every = spread
    token = form_token(logged_in, "/admin/export")
    response = logged_in.post("/admin/export", data={"csrf_token": token, "format": "jsonl"})
    check("jsonl", response.get_data(as_text=True), every)
    assert 'filename="receipts-start-now.jsonl"' in response.headers["Content-Disposition"]


@pytest.mark.parametrize("data", [{"format": "xml"}, {"format": "csv", "since": "2026-02-31"},
                                  {"format": "csv", "since": "2026-02-03",
                                   "until": "2026-02-01"}])
def test_a_bad_export_form_is_a_400_and_not_audited(logged_in, accounts, data):
    before = accounts.audit_log(100)[1]
    token = form_token(logged_in, "/admin/export")
    response = logged_in.post("/admin/export", data={"csrf_token": token, **data})
    assert response.status_code == 400
    assert accounts.audit_log(100)[1] == before


@pytest.mark.parametrize("fmt", FORMATS)
def test_cli_export_every_format_for_a_period(runner, spread, fmt):
    in_period, _ = spread
    result = runner.invoke(args=["receipts", "export", "--format", fmt,
                                 "--since", "2026-02-01", "--until", "2026-02-03"])
    assert result.exit_code == 0, result.output
    check(fmt, result.stdout, in_period)
    assert "3 receipts exported." in result.stderr


def test_cli_export_default_is_the_old_json_lines(runner, store, spread):
    _, every = spread
    result = runner.invoke(args=["receipts", "export"])
    lines = result.stdout.splitlines()
    assert [json.loads(line)["receipt_id"] for line in lines] == [r.receipt_id for r in every]
    # The same bytes the command always wrote: json.dumps of the stored record, keys in order.
    stored = store.get(every[0].receipt_id)
    assert lines[0] == json.dumps(stored.as_json(), ensure_ascii=False)
    only_since = runner.invoke(args=["receipts", "export", "--since", "2026-02-04"])
    assert [json.loads(line)["receipt_id"] for line in only_since.stdout.splitlines()] == [
        every[-1].receipt_id]


@pytest.mark.parametrize("args", [["--format", "xml"], ["--since", "2026-02-30"],
                                  ["--since", "2026-02-03", "--until", "2026-02-01"]])
def test_cli_export_refuses_bad_options(runner, args):
    result = runner.invoke(args=["receipts", "export", *args])
    assert result.exit_code == 2 and "Traceback" not in result.output
