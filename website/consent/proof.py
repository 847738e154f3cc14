"""Tamper evidence for receipts: an HMAC on every receipt and a seal on every UTC day.

* Each receipt carries ``key_id`` and ``hmac`` = HMAC-SHA256 over its *canonical content*: the
  receipt's JSON (:meth:`Receipt.as_json` without ``hmac``/``key_id``) with sorted keys, no
  white space, UTF-8, times as UTC ``YYYY-MM-DDTHH:MM:SS.ffffffZ``. Keys come from
  ``RECEIPT_KEYS`` (``id:secret`` pairs, the first signs, all verify), so keys rotate without
  re-signing old receipts. The cookie's ``SECRET_KEY`` is never a receipt key.
* Once a UTC day is over, its seal is written: the ids of that day's receipts in a fixed order
  (time, then id) and ``digest`` = SHA-256 over the previous seal's digest, the day, and each of
  the day's receipt HMACs in that order. The seals form a chain, so a day cannot be dropped or
  re-sealed without breaking every later link. No lock is needed per insert: a day is sealed
  only after its last receipt could have been written.
* Removing receipts on purpose (retention purge, a visitor's erasure) is recorded as a *removal
  note* per receipt (id, day, its HMAC, the reason), so :func:`verify` can tell it from tampering.

:func:`verify` is pure: it takes receipts, seals and removal notes (from the database or from an
export file) and reports every altered, inserted or deleted receipt by id and every broken seal.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

__all__ = [
    "GENESIS",
    "KeyRing",
    "ProofError",
    "RemovalNote",
    "Seal",
    "VerifyReport",
    "canonical",
    "seal_mac",
    "seal_day",
    "verify",
]

#: The "previous digest" of the first seal.
GENESIS = "0" * 64
_UNSIGNED = frozenset({"hmac", "key_id"})


class ProofError(ValueError):
    """Keys or proof data that cannot be used; the message says which."""


def canonical(content: Mapping[str, Any]) -> bytes:
    """The bytes a receipt's HMAC covers (documented in docs/proof.md)."""
    signed = {k: v for k, v in content.items() if k not in _UNSIGNED}
    return json.dumps(
        signed, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_time
    ).encode("utf-8")


def _time(value: object) -> str:
    """Times inside a receipt's content: aware, written in UTC with microseconds and Z."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ProofError("receipt times must be timezone-aware")
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"cannot put {type(value).__name__} into a receipt")


@dataclass(frozen=True)
class KeyRing:
    """The receipt keys: ``current`` signs, every key verifies."""

    keys: Mapping[str, bytes]
    current: str

    @classmethod
    def parse(cls, value: str, *, cookie_secret: str | None = None) -> KeyRing:
        """``id:secret[,id:secret…]``; secrets of at least 32 characters; the first signs."""
        keys: dict[str, bytes] = {}
        for part in (p.strip() for p in value.split(",")):
            kid, sep, secret = part.partition(":")
            if not sep or not kid or not kid.replace("-", "").replace("_", "").isalnum():
                raise ProofError(f"RECEIPT_KEYS: {part[:12]!r}… is not id:secret")
            if len(secret) < 32:
                raise ProofError(f"RECEIPT_KEYS: key {kid!r} is shorter than 32 characters")
            if cookie_secret is not None and hmac.compare_digest(secret, cookie_secret):
                raise ProofError(f"RECEIPT_KEYS: key {kid!r} is the cookie SECRET_KEY")
            if kid in keys:
                raise ProofError(f"RECEIPT_KEYS: key id {kid!r} appears twice")
            keys[kid] = secret.encode()
        if not keys:
            raise ProofError("RECEIPT_KEYS is empty")
        return cls(keys, next(iter(keys)))

    def sign(self, content: Mapping[str, Any]) -> tuple[str, str]:
        """``(key_id, hmac)`` for a receipt's content."""
        return self.current, self.mac(self.current, content)

    def mac(self, key_id: str, content: Mapping[str, Any]) -> str:
        return hmac.new(self.keys[key_id], canonical(content), hashlib.sha256).hexdigest()

    def check(self, key_id: str, mac: str, content: Mapping[str, Any]) -> bool:
        key = self.keys.get(key_id)
        if key is None or not isinstance(mac, str):
            return False
        expected = hmac.new(key, canonical(content), hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, mac)


def seal_mac(content: Mapping[str, Any]) -> str:
    """What a receipt contributes to its day's seal: its HMAC, or for a receipt stored before
    signing began (no HMAC) ``sha256:`` + the SHA-256 of its canonical content, so a seal
    written later protects old receipts too."""
    mac = content.get("hmac")
    if isinstance(mac, str) and mac:
        return mac
    return "sha256:" + hashlib.sha256(canonical(content)).hexdigest()


@dataclass(frozen=True)
class Seal:
    """One UTC day's seal: which receipts it had and the chained digest over their HMACs."""

    day: date
    receipt_ids: tuple[str, ...]
    previous: str
    digest: str

    def as_json(self) -> dict[str, Any]:
        return {
            "day": self.day.isoformat(),
            "receipt_ids": list(self.receipt_ids),
            "previous": self.previous,
            "digest": self.digest,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Seal:
        return cls(
            date.fromisoformat(data["day"]),
            tuple(data["receipt_ids"]),
            data["previous"],
            data["digest"],
        )


@dataclass(frozen=True)
class RemovalNote:
    """A receipt removed on purpose, kept as the seal needs it: no personal data."""

    receipt_id: str
    day: date
    hmac: str
    reason: str  # "retention" | "erasure"


def _digest(previous: str, day: date, macs: Iterable[str]) -> str:
    hasher = hashlib.sha256()
    hasher.update(previous.encode() + b"|" + day.isoformat().encode())
    for mac in macs:
        hasher.update(b"|" + mac.encode())
    return hasher.hexdigest()


def seal_day(
    day: date,
    receipts: Iterable[tuple[str, datetime, str]],
    previous: str,
    removed: Iterable[tuple[str, str]] = (),
) -> Seal:
    """The seal for ``day`` from ``(receipt_id, created_at, hmac)`` of its receipts.

    ``removed`` are ``(receipt_id, hmac)`` of the day's receipts already removed on purpose
    (their removal notes) before the day was sealed: they follow the present ones, by id, so
    the seal covers the whole day either way.
    """
    ordered = [(r[0], r[2]) for r in sorted(receipts, key=lambda r: (r[1], r[0]))]
    present = {rid for rid, _ in ordered}
    ordered += sorted((rid, mac) for rid, mac in removed if rid not in present)
    return Seal(
        day,
        tuple(rid for rid, _ in ordered),
        previous,
        _digest(previous, day, (mac for _, mac in ordered)),
    )


@dataclass
class VerifyReport:
    """What :func:`verify` found; ``ok`` when nothing."""

    receipts: int = 0
    days: int = 0
    keys: set[str] = field(default_factory=set)
    altered: list[str] = field(default_factory=list)
    inserted: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    broken_seals: list[str] = field(default_factory=list)
    removed_on_purpose: int = 0
    #: Receipts stored before signing began (no HMAC): not tampering, but only a seal
    #: written since protects them.
    unsigned: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.altered or self.inserted or self.deleted or self.broken_seals)

    def lines(self) -> list[str]:
        out = [f"altered receipt {rid}" for rid in self.altered]
        out += [f"inserted receipt {rid} (not in its day's seal)" for rid in self.inserted]
        out += [f"deleted receipt {rid} (sealed, no removal note)" for rid in self.deleted]
        out += [f"broken seal {problem}" for problem in self.broken_seals]
        return out

    def summary(self) -> str:
        return (
            f"{self.receipts} receipts, {self.days} sealed days, "
            f"keys {', '.join(sorted(self.keys)) or '-'}, "
            f"{self.removed_on_purpose} removed on purpose, "
            f"{len(self.unsigned)} unsigned (before proof): "
            + ("all intact" if self.ok else f"{len(self.lines())} problems")
        )


def verify(
    receipts: Iterable[Mapping[str, Any]],
    seals: Iterable[Seal],
    removals: Iterable[RemovalNote],
    keys: KeyRing,
    *,
    since: date | None = None,
) -> VerifyReport:
    """Check every receipt's HMAC, every seal's membership and digest, and the chain.

    ``receipts`` are receipt JSON documents (``as_json()`` with ``key_id`` and ``hmac``), in any
    order; ``seals`` in any order. Receipts of days without a seal (today, or not yet sealed)
    are checked by their HMAC alone. A receipt without an HMAC is *unsigned (before proof)*
    when it is older than the oldest signed receipt, and *altered* otherwise (its HMAC was
    stripped). With ``since``, only days from ``since`` on are checked and the first of their
    seals is trusted to follow the one before.
    """
    report = VerifyReport()
    by_day: dict[date, dict[str, tuple[datetime, str]]] = defaultdict(dict)
    unsigned: list[tuple[datetime | None, str]] = []
    first_signed: datetime | None = None
    for content in receipts:
        created = _parse_time(content.get("created_at"))
        if since is not None and created is not None and created.date() < since:
            continue
        report.receipts += 1
        rid = str(content.get("receipt_id"))
        key_id, mac = content.get("key_id"), content.get("hmac")
        if mac is None and key_id is None:
            unsigned.append((created, rid))
        else:
            report.keys.add(str(key_id))
            if not keys.check(str(key_id), mac, content):  # type: ignore[arg-type]
                report.altered.append(rid)
            elif created is not None and (first_signed is None or created < first_signed):
                first_signed = created
        if created is None:
            if rid not in report.altered:
                report.altered.append(rid)
            continue
        day = by_day[created.date()]
        if rid in day:
            report.inserted.append(rid)  # the same receipt twice
        day[rid] = (created, seal_mac(content))
    for created, rid in unsigned:
        if first_signed is not None and created is not None and created >= first_signed:
            report.altered.append(rid)  # stored after signing began, so its HMAC was removed
        else:
            report.unsigned.append(rid)
    removed: dict[date, dict[str, str]] = defaultdict(dict)
    for note in removals:
        if since is not None and note.day < since:
            continue
        removed[note.day][note.receipt_id] = note.hmac
        report.removed_on_purpose += 1
    previous: str | None = None if since is not None else GENESIS
    seals_in = [seal for seal in seals if since is None or seal.day >= since]
    for seal in sorted(seals_in, key=lambda s: s.day):
        report.days += 1
        if previous is not None and seal.previous != previous:
            report.broken_seals.append(f"{seal.day}: does not follow the seal before it")
        present = by_day.get(seal.day, {})
        gone = removed.get(seal.day, {})
        sealed = set(seal.receipt_ids)
        report.inserted += sorted(set(present) - sealed)
        missing = [rid for rid in seal.receipt_ids if rid not in present and rid not in gone]
        report.deleted += missing
        macs = [present[r][1] if r in present else gone.get(r, "") for r in seal.receipt_ids]
        if not missing and _digest(seal.previous, seal.day, macs) != seal.digest:
            report.broken_seals.append(f"{seal.day}: digest does not match its receipts")
        previous = seal.digest
    # Days are sealed one after the other with none left out, empty days too: receipts on an
    # unsealed day before the last sealed one were put there afterwards.
    sealed_days = {seal.day for seal in seals_in}
    if sealed_days:
        last = max(sealed_days)
        for day in sorted(d for d in by_day if d < last and d not in sealed_days):
            report.inserted += sorted(by_day[day])
    return report


def _parse_time(value: object) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    return None
