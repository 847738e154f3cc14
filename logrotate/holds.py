"""Security-incident holds: logs under an active hold are never purged.

Holds live in a small JSON state file (``holds.json`` in the state folder). A hold protects
a file, or every file below a folder, until the end of its ``until`` day (local time); after
that it has expired and no longer protects anything, but stays listed until released.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

from . import clock
from .files import atomic_write_bytes

__all__ = ["DEFAULT_STATE_DIR", "Hold", "HoldError", "HoldStore", "state_dir"]

DEFAULT_STATE_DIR = "/var/lib/logrotate-anon"


def state_dir(explicit: str | None = None) -> Path:
    """``--state-dir``, else ``$LOGROTATE_STATE_DIR``, else /var/lib/logrotate-anon."""
    return Path(explicit or os.environ.get("LOGROTATE_STATE_DIR") or DEFAULT_STATE_DIR)


class HoldError(Exception):
    pass


@dataclass(frozen=True)
class Hold:
    path: str
    reason: str
    until: str  # ISO date, inclusive
    created: str

    def expires_at(self) -> datetime:
        return datetime.combine(date.fromisoformat(self.until) + timedelta(days=1), time())

    def active(self, now: datetime | None = None) -> bool:
        return (now or clock.local_now()) < self.expires_at()

    def covers(self, path: str | Path) -> bool:
        target = os.path.abspath(path)
        return target == self.path or target.startswith(self.path.rstrip(os.sep) + os.sep)


class HoldStore:
    def __init__(self, folder: str | Path) -> None:
        self.file = Path(folder) / "holds.json"

    def load(self) -> list[Hold]:
        try:
            data = json.loads(self.file.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return []
        except (OSError, ValueError) as error:
            raise HoldError(f"{self.file}: cannot read holds: {error}") from error
        return [Hold(**entry) for entry in data.get("holds", [])]

    def _save(self, holds: list[Hold]) -> None:
        payload = {"holds": [asdict(hold) for hold in holds]}
        atomic_write_bytes(self.file, json.dumps(payload, indent=2).encode() + b"\n")

    def add(self, path: str, reason: str, until: str, now: datetime | None = None) -> Hold:
        now = now or clock.local_now()
        if not reason.strip():
            raise HoldError("a hold needs a reason")
        try:
            end = date.fromisoformat(until)
        except ValueError as error:
            raise HoldError(f"--until must be a date like 2026-12-31, got {until!r}") from error
        if end < now.date():
            raise HoldError(f"--until {until} is in the past")
        target = os.path.abspath(path)
        if not os.path.exists(target):
            raise HoldError(f"{target}: no such file or folder")
        holds = [hold for hold in self.load() if hold.path != target]
        hold = Hold(target, reason.strip(), end.isoformat(), now.isoformat(timespec="seconds"))
        self._save([*holds, hold])
        return hold

    def release(self, path: str) -> list[Hold]:
        target = os.path.abspath(path)
        holds = self.load()
        released = [hold for hold in holds if hold.path == target]
        if not released:
            raise HoldError(f"{target}: no hold to release")
        self._save([hold for hold in holds if hold.path != target])
        return released
