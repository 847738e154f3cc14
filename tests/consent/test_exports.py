"""Receipt exports: every Kantara record validates against the v1.1 schema, the ISO 27560 / DPV
records carry every mandatory field, CSV is safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import jsonschema
import pytest

from tests.conftest import csrf_token, post_choice
from website.consent.exports import CSV_COLUMNS, FORMATS, export

SCHEMA = json.loads(
    (Path(__file__).parents[1] / "schemas" / "kantara-consent-receipt-v1.1.schema.json")
    .read_text()
)
CHOICES = [
    {"categories": {"statistics": True, "marketing": True, "media": True}},
    {"categories": {}},
    {"categories": {"statistics": True}, "services": {"ga4": False}},
]


@pytest.fixture
def receipts(app, client, store):
    for choice in CHOICES:
        assert post_choice(client, choice).status_code == 200
    token = csrf_token(client)
    withdrawn = client.post("/consent/withdraw", json={}, headers={"X-CSRFToken": token})
    assert withdrawn.status_code == 200
    english = app.test_client()
    assert post_choice(english, {"categories": {"media": True}, "lang": "en"}).status_code == 200
    return list(store.export())


def run(app, store, receipts, fmt: str) -> str:
    controller = app.extensions["consent"].catalog.controller
    return "".join(export(iter(receipts), fmt, store.notice, controller))


def test_every_kantara_record_validates(app, store, receipts):
    lines = run(app, store, receipts, "kantara").splitlines()
    assert len(lines) == len(receipts) == 5
    validator = jsonschema.Draft4Validator(SCHEMA)
    for line, receipt in zip(lines, receipts, strict=True):
        record = json.loads(line)
        validator.validate(record)
        assert record["consentReceiptID"] == receipt.receipt_id
        assert record["piiPrincipalId"] == receipt.consent_id
        granted = {s["service"] for s in record["services"]}
        if receipt.action == "accept_all":
            assert {"Matomo", "Google Analytics 4", "Meta Pixel", "YouTube"} <= granted
            ga4 = next(s for s in record["services"] if s["service"] == "Google Analytics 4")
            purpose = ga4["purposes"][0]
            assert purpose["thirdPartyDisclosure"] and "Google" in purpose["thirdPartyName"]
        elif receipt.action in ("reject_all", "withdraw"):
            assert granted == set()
    assert json.loads(lines[-1])["language"] == "en"
    assert json.loads(lines[-1])["services"][0]["purposes"][0]["purposeCategory"] == [
        "External media"
    ]


def test_the_schema_refuses_what_kantara_forbids(app, store, receipts):
    record = json.loads(run(app, store, receipts, "kantara").splitlines()[0])
    validator = jsonschema.Draft4Validator(SCHEMA)
    for broken in (
        {k: v for k, v in record.items() if k != "piiPrincipalId"},
        {**record, "consentTimestamp": "yesterday"},
        {**record, "services": [{"service": "x", "purposes": [
            {**record["services"][0]["purposes"][0], "thirdPartyName": ""}]}]},
    ):
        assert not validator.is_valid(broken)


def test_dpv_27560_records_carry_every_mandatory_field(app, store, receipts):
    for line, receipt in zip(run(app, store, receipts, "dpv").splitlines(), receipts,
                             strict=True):
        record = json.loads(line)
        assert record["schema_version"] and record["record_id"] == receipt.receipt_id
        assert record["pii_principal_id"] == receipt.consent_id
        (event,) = record["event"]
        assert event["event_time"].endswith("Z") and event["validity_duration"].startswith("P")
        assert event["entity_id"] and event["event_type"] and event["event_state"]
        for field in ("party_id", "party_name", "party_address", "party_contact", "party_type"):
            assert record["party"][0][field]
        assert [p["purpose_type"] for p in record["processing"]] == [
            "statistics", "marketing", "media"
        ]
        for processing in record["processing"]:
            for field in ("privacy_notice", "language", "purpose", "pii_information",
                          "pii_controllers", "retention_period", "jurisdiction",
                          "recipient_third_parties", "withdrawal_method"):
                assert processing[field], (field, receipt.action)
        states = {p["purpose_type"]: p["consent_status"] for p in record["processing"]}
        if receipt.action == "withdraw":
            assert set(states.values()) == {"dpv:ConsentWithdrawn"}
            assert event["event_state"] == "dpv:ConsentWithdrawn"
        elif receipt.action == "reject_all":
            assert set(states.values()) == {"dpv:ConsentRefused"}
            assert event["event_state"] == "dpv:ConsentRefused"
        elif receipt.action == "accept_all":
            assert set(states.values()) == {"dpv:ConsentGiven"}


def test_csv_has_one_row_per_receipt_and_defuses_formulas(app, store, receipts):
    rows = list(csv.DictReader(io.StringIO(run(app, store, receipts, "csv"))))
    assert len(rows) == len(receipts)
    assert tuple(rows[0]) == CSV_COLUMNS
    assert rows[0]["services_granted"].split(";") == sorted(
        n for n, on in receipts[0].services.items() if on
    )
    assert rows[1]["services_granted"] == "site"
    from dataclasses import replace

    evil = replace(receipts[0], page_path="=HYPERLINK(\"http://x\")", ua_browser="+1")
    (row,) = list(csv.DictReader(io.StringIO(run(app, store, [evil], "csv"))))
    assert row["page_path"].startswith("'=") and row["ua_browser"] == "'+1"


def test_jsonl_round_trips_and_unknown_formats_are_refused(app, store, receipts):
    lines = run(app, store, receipts, "jsonl").splitlines()
    assert [json.loads(line)["receipt_id"] for line in lines] == [
        r.receipt_id for r in receipts
    ]
    assert set(FORMATS) == {"jsonl", "csv", "kantara", "dpv"}
    with pytest.raises(ValueError, match="unknown export format 'xml'"):
        list(export([], "xml", store.notice, app.extensions["consent"].catalog.controller))
