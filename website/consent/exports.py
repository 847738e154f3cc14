"""Receipt exports in standard shapes, streamed one record at a time (flat memory).

* ``jsonl``: the receipt as stored (:meth:`Receipt.as_json`), one JSON document per line.
* ``csv``: one row per receipt, granted categories and services as ``;``-lists; cells that a
  spreadsheet would run as a formula are prefixed with ``'``.
* ``kantara``: Kantara Initiative Consent Receipt v1.1 (one JSON document per line).
* ``dpv``: ISO/IEC TS 27560:2023 record fields through the W3C DPV mapping (one per line).

The standard formats describe what the visitor was shown from the receipt's archived notice
(the catalog as it was then, in the visitor's language), not from today's catalog.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import Any

from .catalog import Controller
from .receipts import Notice, Receipt

FORMATS = ("jsonl", "csv", "kantara", "dpv")
CSV_COLUMNS = (
    "receipt_id", "consent_id", "created_at", "action", "method", "language", "revision",
    "notice_hash", "policy_version", "policy_hash", "app_version", "expires_at", "gpc",
    "page_path", "ip_prefix", "ua_browser", "ua_os", "ua_device", "decision_id",
    "categories_granted", "services_granted",
)
KANTARA_VERSION = "KI-CR-v1.1.0"
DPV_SCHEMA = "https://w3id.org/dpv/schema/dpv-27560#record"
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
_FORMULA = ("=", "+", "-", "@", "\t", "\r")
_STATE = {True: "dpv:ConsentGiven", False: "dpv:ConsentRefused"}

NoticeLookup = Callable[[str], Notice | None]


def export(
    receipts: Iterable[Receipt],
    fmt: str,
    notices: NoticeLookup,
    controller: Controller,
    *,
    policy_url: str = "/datenschutz",
    settings_url: str = "/cookie-einstellungen",
    jurisdiction: str = "DE",
) -> Iterator[str]:
    """Yield the export as text chunks (a header first for CSV)."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}: use one of {', '.join(FORMATS)}")
    cached: dict[str, dict[str, Any]] = {}

    def notice_of(receipt: dict[str, Any]) -> dict[str, Any]:
        key = receipt["notice_hash"]
        if key not in cached:
            found = notices(key)
            cached[key] = json.loads(found.content) if found else {}
        return cached[key]

    if fmt == "csv":
        yield _csv_line(CSV_COLUMNS)
    for receipt in receipts:
        data = receipt.as_json()
        if fmt == "jsonl":
            yield _json_line(data)
        elif fmt == "csv":
            yield _csv_line(_csv_row(data))
        elif fmt == "kantara":
            yield _json_line(
                kantara(data, notice_of(data), controller, policy_url, jurisdiction)
            )
        else:
            yield _json_line(
                dpv_record(data, notice_of(data), controller, policy_url, settings_url,
                           jurisdiction)
            )


def _json_line(value: dict[str, Any]) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":")) + "\n"


def _csv_line(values: Iterable[object]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(values)
    return out.getvalue()


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA) else text


def _granted(states: dict[str, bool]) -> str:
    return ";".join(sorted(name for name, on in states.items() if on))


def _csv_row(data: dict[str, Any]) -> list[str]:
    row = {**data, "categories_granted": _granted(data.get("categories", {})),
           "services_granted": _granted(data.get("services", {}))}
    return [_cell(row.get(column, "")) for column in CSV_COLUMNS]


def _timestamp(value: str) -> int:
    return int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp())


def _validity(data: dict[str, Any]) -> str:
    """ISO 8601 duration from the decision to its expiry (``P182D``), or ``""``."""
    expires = data.get("expires_at")
    if not expires:
        return ""
    start = datetime.fromisoformat(data["created_at"].replace("Z", "+00:00"))
    end = datetime.fromisoformat(str(expires).replace("Z", "+00:00"))
    return f"P{max(0, (end - start).days)}D"


def _catalog(notice: dict[str, Any]) -> list[dict[str, Any]]:
    catalog = notice.get("catalog")
    return catalog if isinstance(catalog, list) else []


def _party(controller: Controller) -> dict[str, Any]:
    email = _EMAIL.search(controller.contact)
    return {
        "piiController": controller.name,
        "onBehalf": False,
        "contact": controller.contact,
        "address": {"streetAddress": controller.contact},
        "email": email.group(0) if email else "",
        "phone": "",
    }


def kantara(
    data: dict[str, Any],
    notice: dict[str, Any],
    controller: Controller,
    policy_url: str,
    jurisdiction: str,
) -> dict[str, Any]:
    """One Kantara v1.1 consent receipt. ``services`` lists what was consented to; a refusal
    or withdrawal lists none (``collectionMethod`` names the action)."""
    granted = data.get("services", {})
    services = []
    for category in _catalog(notice):
        if category.get("required"):
            continue
        for service in category.get("services", []):
            if not granted.get(service.get("name")):
                continue
            services.append({
                "service": service.get("title", service.get("name", "")),
                "purposes": [{
                    "purpose": category.get("description", ""),
                    "consentType": "EXPLICIT",
                    "purposeCategory": [category.get("title", category.get("name", ""))],
                    "piiCategory": [service.get("data", "")],
                    "primaryPurpose": False,
                    "termination": f"On withdrawal, at the latest {data.get('expires_at', '')}",
                    "thirdPartyDisclosure": service.get("provider") != controller.name,
                    "thirdPartyName": service.get("provider", ""),
                }],
            })
    return {
        "version": KANTARA_VERSION,
        "jurisdiction": jurisdiction,
        "consentTimestamp": _timestamp(data["created_at"]),
        "collectionMethod": f"website {data['method']}: {data['action']}",
        "consentReceiptID": data["receipt_id"],
        "language": data.get("language", ""),
        "piiPrincipalId": data["consent_id"],
        "piiControllers": [_party(controller)],
        "policyUrl": policy_url,
        "services": services,
        "sensitive": False,
        "spiCat": [],
    }


def dpv_record(
    data: dict[str, Any],
    notice: dict[str, Any],
    controller: Controller,
    policy_url: str,
    settings_url: str,
    jurisdiction: str,
) -> dict[str, Any]:
    """One ISO/IEC TS 27560 consent record, field names as in the W3C DPV guide."""
    withdrawn = data["action"] == "withdraw"
    processing = []
    for category in _catalog(notice):
        if category.get("required"):
            continue
        services = category.get("services", [])
        granted = bool(data.get("categories", {}).get(category.get("name")))
        processing.append({
            "privacy_notice": {
                "notice_hash": data["notice_hash"],
                "policy_url": policy_url,
                "policy_version": data.get("policy_version", ""),
                "policy_hash": data.get("policy_hash", ""),
            },
            "language": data.get("language", ""),
            "purpose": category.get("description", ""),
            "purpose_type": category.get("name", ""),
            "lawful_basis": "eu-gdpr:A6-1-a",
            "pii_information": [s.get("data", "") for s in services],
            "pii_controllers": [controller.name],
            "collection_method": data["method"],
            "storage_locations": ["visitor's device"] if any(s.get("cookies") for s in services)
            else [],
            "retention_period": _validity(data),
            "jurisdiction": jurisdiction,
            "recipient_third_parties": sorted({s.get("provider", "") for s in services}),
            "processing_location": sorted(
                {c for s in services for c in s.get("third_countries", [])}
            ),
            "withdrawal_method": settings_url,
            "service": [s.get("title", s.get("name", "")) for s in services],
            "consent_status": "dpv:ConsentWithdrawn" if withdrawn else _STATE[granted],
        })
    return {
        "dct:conformsTo": DPV_SCHEMA,
        "schema_version": "ISO/IEC TS 27560:2023",
        "record_id": data["receipt_id"],
        "receipt_id": data["receipt_id"],
        "pii_principal_id": data["consent_id"],
        "processing": processing,
        "party": [{
            "party_id": controller.name,
            "party_name": controller.name,
            "party_address": controller.contact,
            "party_contact": controller.contact,
            "party_type": "legal entity",
            "party_role": "dpv:DataController",
        }],
        "event": [{
            "event_time": data["created_at"],
            "validity_duration": _validity(data),
            "entity_id": data["consent_id"],
            "event_type": "dpv:ExpressedConsent",
            "event_state": "dpv:ConsentWithdrawn" if withdrawn else (
                "dpv:ConsentGiven" if any(
                    on for name, on in data.get("categories", {}).items()
                    if name in {c.get("name") for c in _catalog(notice) if not c.get("required")}
                ) else "dpv:ConsentRefused"
            ),
            "indication_method": data["method"],
        }],
    }
