"""Consent receipts: the immutable proof of each decision (GDPR Art. 7(1)).

A receipt says who (a pseudonymous consent id), when (UTC), what (every category's and service's
state), how (method and action), what the visitor was shown (catalog revision and a hash of the
notice text, whose full text is kept once in the notices table), under which privacy policy
(its "Stand" date and a hash of its text) and app version, until when the decision holds, and
whether a Global Privacy Control signal was present. It never holds a full IP
address or a full user agent: the address is truncated (IPv4 /24, IPv6 /48) and the user agent is
reduced to browser family, OS family and device class before the receipt is built.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from typing import Any

from privacy.ipmask import mask_ip
from privacy.useragent import reduce_user_agent

from .decision import Decision

SCHEMA = "website-consent-receipt/2"
#: How long a decision holds when the caller does not say (about six months).
DEFAULT_VALIDITY = timedelta(days=183)


def iso_utc(moment: datetime) -> str:
    """The one text form of a time at the edges: ISO 8601, UTC, microseconds, ``Z``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


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


@dataclass(frozen=True, kw_only=True)
class Receipt:
    """One stored decision; times are aware UTC datetimes (:meth:`as_json` formats them)."""

    receipt_id: str
    consent_id: str
    created_at: datetime
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
    #: The privacy policy in force: its "Stand" date (ISO) and the sha256 of its text.
    policy_version: str = ""
    policy_hash: str = ""
    app_version: str = ""
    expires_at: datetime
    #: A Global Privacy Control signal was present when the decision was made.
    gpc: bool = False
    #: Tamper evidence (docs/proof.md): the receipt key's id and the HMAC-SHA256 over every
    #: other field of :meth:`as_json`; set by the store at insert time, ``None`` on receipts
    #: stored before signing began.
    key_id: str | None = None
    hmac: str | None = None

    def as_json(self) -> dict[str, Any]:
        # Field by field rather than dataclasses.asdict, which deep-copies every value: this
        # runs for every receipt signed, sealed or exported. The two dicts are copied.
        record = {name: getattr(self, name) for name in _RECEIPT_FIELDS}
        record["categories"] = dict(self.categories)
        record["services"] = dict(self.services)
        record["created_at"] = iso_utc(self.created_at)
        record["expires_at"] = iso_utc(self.expires_at)
        return {"schema": SCHEMA, **record}


_RECEIPT_FIELDS = tuple(f.name for f in fields(Receipt))


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
    policy_version: str = "",
    policy_hash: str = "",
    app_version: str = "",
    expires_at: datetime | None = None,
    gpc: bool = False,
) -> Receipt:
    """Build the receipt for a decision; personal data is reduced here, before any storage.

    ``expires_at`` defaults to the decision time plus :data:`DEFAULT_VALIDITY`.
    """
    reduced = reduce_user_agent(user_agent or "")
    decided_at = decision.decided_at.astimezone(UTC)
    if expires_at is not None and expires_at.tzinfo is None:
        raise ValueError("expires_at must be an aware datetime")
    return Receipt(
        receipt_id=str(uuid.uuid4()),
        consent_id=decision.consent_id,
        created_at=decided_at,
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
        policy_version=policy_version,
        policy_hash=policy_hash,
        app_version=app_version,
        expires_at=(expires_at or decided_at + DEFAULT_VALIDITY).astimezone(UTC),
        gpc=gpc,
    )


def utc_now() -> datetime:
    return datetime.now(UTC)
