"""The log job's one clock: the real time, or ``$LOGROTATE_NOW`` when it is set.

Retention is a rule about dates, so every age the job judges (purge, holds, the nightly
report) comes from here. Setting ``LOGROTATE_NOW`` (ISO 8601 with an offset, e.g.
``2026-11-24T12:00:00+00:00``) answers "what would the job do on that day?" in a dry run,
and lets the tests fix the date instead of depending on the calendar.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime

__all__ = ["ClockError", "local_now", "now"]


class ClockError(ValueError):
    pass


def now() -> datetime:
    """The current time, aware, in UTC."""
    fixed = os.environ.get("LOGROTATE_NOW")
    if not fixed:
        return datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(fixed)
    except ValueError as error:
        raise ClockError(f"LOGROTATE_NOW={fixed!r} is not an ISO 8601 time") from error
    if moment.tzinfo is None:
        raise ClockError(f"LOGROTATE_NOW={fixed!r} needs an offset such as +00:00")
    return moment.astimezone(UTC)


def local_now() -> datetime:
    """The current time as naive local time (holds end at local midnight)."""
    return now().astimezone().replace(tzinfo=None)
