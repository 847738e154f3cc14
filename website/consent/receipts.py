"""Consent receipts: the immutable proof of each decision (GDPR Art. 7(1)).

A receipt says who (a pseudonymous consent id), when (UTC), what (every category's and service's
state), how (method and action), and what the visitor was shown (catalog revision and a hash of
the notice text, whose full text is kept once in the notices table). It never holds a full IP
address or a full user agent: the address is truncated (IPv4 /24, IPv6 /48) and the user agent is
reduced to browser family, OS family and device class before the receipt is built.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from privacy.ipmask import mask_ip
from privacy.useragent import reduce_user_agent

from .decision import Decision

SCHEMA = "website-consent-receipt/1"


@dataclass(frozen=True)
class Notice:
    """The exact information a visitor was shown, identified by its hash."""

    notice_hash: str
    revision: str
    language: str
    content: str

    @classmethod
    def of(cls, revision: str, language: str, content: dict[str, Any]) -> Notice:
        text = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return cls(hashlib.sha256(text.encode()).hexdigest(), revision, language, text)


@dataclass(frozen=True)
class Receipt:
    receipt_id: str
    consent_id: str
    created_at: str
    revision: str
    notice_hash: str
    language: str
    method: str
    action: str
    categories: dict[str, bool]
    services: dict[str, bool]
    page_path: str
    ip_prefix: str
    ua_browser: str
    ua_os: str
    ua_device: str
    decision_id: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {"schema": SCHEMA, **asdict(self)}


def truncate_address(address: str | None) -> str:
    """The visitor's network, never the address: IPv4 /24, IPv6 /48; '' when unknown."""
    if not address:
        return ""
    try:
        return mask_ip(address)
    except ValueError:
        return ""


def build_receipt(
    decision: Decision,
    *,
    notice: Notice,
    action: str,
    page_path: str,
    remote_addr: str | None,
    user_agent: str | None,
    decision_id: str | None = None,
) -> Receipt:
    """Build the receipt for a decision; personal data is reduced here, before any storage."""
    reduced = reduce_user_agent(user_agent or "")
    return Receipt(
        receipt_id=str(uuid.uuid4()),
        consent_id=decision.consent_id,
        created_at=decision.decided_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        revision=decision.revision,
        notice_hash=notice.notice_hash,
        language=notice.language,
        method=decision.method,
        action=action,
        categories=dict(decision.categories),
        services=dict(decision.services),
        page_path=page_path.split("?", 1)[0][:512],
        ip_prefix=truncate_address(remote_addr),
        ua_browser=reduced.browser,
        ua_os=reduced.os,
        ua_device=reduced.device,
        decision_id=decision_id,
    )


def utc_now() -> datetime:
    return datetime.now(UTC)
