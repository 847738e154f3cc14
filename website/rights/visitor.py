"""``/meine-daten``: a visitor sees, downloads and erases their own receipts (Art. 15, 17, 20).

Who a visitor is comes only from the signed ``consent`` cookie: a browser without a genuine one
is shown nothing of anybody's, and no URL or form field names a consent id. The cookie counts
even when it has expired or belongs to an older catalog revision (the receipts are still there).
GET requests only read; the one write is ``POST /meine-daten/loeschen`` (CSRF-protected).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, render_template

from website.consent.manager import expire_consent_cookies, known_consent_id
from website.consent.receipts import Notice, Receipt, iso_utc
from website.store import ReceiptStore, get_store

from .erasure import VISITOR_REQUEST, NothingToErase, erase_visitor

bp = Blueprint("rights", __name__)
EXPORT_SCHEMA = "website-visitor-export/1"


def visitor_data(store: ReceiptStore, consent_id: str) -> tuple[list[Receipt], dict[str, Notice]]:
    """One visitor's receipts (oldest first) and every notice they point to, by hash."""
    receipts = store.history(consent_id)
    notices: dict[str, Notice] = {}
    for receipt in receipts:
        if receipt.notice_hash not in notices:
            notice = store.notice(receipt.notice_hash)
            if notice is not None:
                notices[receipt.notice_hash] = notice
    return receipts, notices


def export_document(
    store: ReceiptStore, consent_id: str, *, now: datetime | None = None
) -> dict[str, Any]:
    """The visitor's data as one JSON document: receipts and the notices they saw.

    The same document for the visitor's download and for an operator answering an access
    request by e-mail (``flask --app wsgi receipts show CONSENT_ID`` or the admin).
    """
    receipts, notices = visitor_data(store, consent_id)
    return {
        "schema": EXPORT_SCHEMA,
        "exported_at": iso_utc(now or datetime.now(UTC)),
        "consent_id": consent_id,
        "receipts": [receipt.as_json() for receipt in receipts],
        "notices": {
            notice_hash: {
                "revision": notice.revision,
                "language": notice.language,
                "content": json.loads(notice.content),
            }
            for notice_hash, notice in notices.items()
        },
    }


@bp.get("/meine-daten")
def my_data() -> str:
    consent_id = known_consent_id()
    receipts, notices = visitor_data(get_store(), consent_id) if consent_id else ([], {})
    return render_template(
        "rights/my_data.html",
        consent_id=consent_id if receipts else None,
        receipts=list(reversed(receipts)),
        notices={h: json.loads(n.content) for h, n in notices.items()},
    )


@bp.get("/meine-daten/export")
def export() -> Response:
    consent_id = known_consent_id()
    if consent_id:
        document = export_document(get_store(), consent_id)
    else:
        document = {"schema": EXPORT_SCHEMA, "exported_at": iso_utc(datetime.now(UTC)),
                    "consent_id": None, "receipts": [], "notices": {}}
    response = Response(
        json.dumps(document, ensure_ascii=False, indent=2) + "\n",
        mimetype="application/json",
    )
    response.headers["Content-Disposition"] = 'attachment; filename="meine-daten.json"'
    return response


@bp.post("/meine-daten/loeschen")
def erase() -> Response:
    consent_id = known_consent_id()
    tombstone = None
    if consent_id:
        try:
            tombstone = erase_visitor(get_store(), consent_id, VISITOR_REQUEST)
        except NothingToErase:
            tombstone = None
    response = Response(render_template("rights/erased.html", tombstone=tombstone))
    # The browser's decision goes with its proof (the banner asks again on the next page), and
    # so do the cookies services set under it, as on withdrawal. Also when nothing was stored:
    # a browser that asks to be forgotten loses its service cookies in any case.
    return expire_consent_cookies(response)
