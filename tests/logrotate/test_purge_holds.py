"""``purge`` and ``hold``: deletion after N days by newest entry, holds win until they expire."""

from __future__ import annotations

import gzip
import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from logrotate.holds import HoldStore
from logrotate.purge import PurgeError, check_days, purge
from tests.logrotate.logdata import NOW, combined_line


def log_with_newest_entry(path: Path, days_old: float, gz: bool = False) -> Path:
    """Entries up to ``days_old`` days ago; the file's mtime is *now* (entries decide)."""
    newest = NOW - timedelta(days=days_old)
    lines = [
        combined_line(
            f"192.0.2.{minutes + 1}",
            when=f"{newest - timedelta(minutes=minutes):%d/%b/%Y:%H:%M:%S +0000}",
        )
        for minutes in range(5, -1, -1)
    ]
    data = "".join(lines).encode()
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


def plain_file(path: Path, text: str, days_old: float) -> Path:
    """A file without time stamps whose mtime is ``days_old`` days ago."""
    path.write_text(text)
    stamp = (NOW - timedelta(days=days_old)).timestamp()
    os.utime(path, (stamp, stamp))
    return path


def make_folder(folder: Path) -> dict[str, Path]:
    """Logs whose newest entry is 0.1 ... 10.1 days old, a .gz, two without time stamps
    (mtime decides) and a file that is not a log."""
    folder.mkdir()
    files = {
        f"access.log.{days}": log_with_newest_entry(folder / f"access.log.{days}", days + 0.1)
        for days in range(11)
    }
    files["access.log.9.gz"] = log_with_newest_entry(folder / "access.log.9.gz", 9.1, gz=True)
    files["old-no-stamps.log"] = plain_file(folder / "old-no-stamps.log", "no stamp\n", 8)
    files["new-no-stamps.log"] = plain_file(folder / "new-no-stamps.log", "no stamp\n", 2)
    files["notes.txt"] = plain_file(folder / "notes.txt", "not a log\n", 30)
    return files


def test_purge_by_newest_entry_with_mtime_fallback(tmp_path: Path, run_cli) -> None:
    folder = tmp_path / "logs"
    files = make_folder(folder)

    dry = run_cli("purge", str(folder), "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert all(path.exists() for path in files.values())
    assert dry.stdout.decode().count("would delete: ") == 6

    result = run_cli("purge", str(folder), "--days", "7")

    assert result.returncode == 0, result.stderr
    remaining = sorted(os.listdir(folder))
    assert remaining == sorted(
        [f"access.log.{days}" for days in range(7)] + ["new-no-stamps.log", "notes.txt"]
    )
    out = result.stdout.decode()
    assert f"deleted: {folder / 'access.log.9.gz'} (newest entry" in out
    assert f"deleted: {folder / 'old-no-stamps.log'} (newest mtime" in out


def test_holds_protect_until_they_expire(tmp_path: Path, run_cli) -> None:
    folder = tmp_path / "logs"
    files = make_folder(folder)
    state = tmp_path / "state"
    held = run_cli(
        "hold",
        "add",
        str(files["access.log.8"]),
        "--reason",
        "incident 2026-17",
        "--until",
        f"{NOW + timedelta(days=30):%Y-%m-%d}",
    )
    assert held.returncode == 0, held.stderr
    whole_folder = run_cli(
        "hold", "add", str(folder / "sub"), "--reason", "x", "--until", "2099-01-01"
    )
    assert whole_folder.returncode == 1 and b"no such file or folder" in whole_folder.stderr
    # An expired hold (written as it would have been a month ago) no longer protects.
    HoldStore(state).add(
        str(files["access.log.10"]),
        "old incident",
        f"{NOW - timedelta(days=3):%Y-%m-%d}",
        now=(NOW - timedelta(days=30)).astimezone().replace(tzinfo=None),
    )
    listing = run_cli("hold", "list").stdout.decode()
    assert "active\tincident 2026-17" in listing
    assert "expired\told incident" in listing

    result = run_cli("purge", str(folder))

    assert files["access.log.8"].exists()
    assert not files["access.log.10"].exists()
    assert not files["access.log.9"].exists()
    assert (
        f"kept (hold until {NOW + timedelta(days=30):%Y-%m-%d}: incident 2026-17)"
        in result.stdout.decode()
    )

    released = run_cli("hold", "release", str(files["access.log.8"]))
    assert released.returncode == 0
    run_cli("purge", str(folder))
    assert not files["access.log.8"].exists()
    assert json.loads((state / "holds.json").read_text())["holds"][0]["reason"] == "old incident"


def test_folder_hold_and_bad_hold_input(tmp_path: Path, run_cli) -> None:
    folder = tmp_path / "logs"
    files = make_folder(folder)
    assert (
        run_cli(
            "hold", "add", str(folder), "--reason", "all of it", "--until", "2099-12-31"
        ).returncode
        == 0
    )
    run_cli("purge", str(folder))
    assert all(path.exists() for path in files.values())

    past = run_cli("hold", "add", str(folder), "--reason", "r", "--until", "2001-01-01")
    assert past.returncode == 1 and b"in the past" in past.stderr
    garbled = run_cli("hold", "add", str(folder), "--reason", "r", "--until", "next week")
    assert garbled.returncode == 1 and b"--until must be a date" in garbled.stderr
    missing = run_cli("hold", "release", str(tmp_path / "nothing"))
    assert missing.returncode == 1 and b"no hold to release" in missing.stderr


def test_unreadable_hold_state_purges_nothing(tmp_path: Path, run_cli) -> None:
    folder = tmp_path / "logs"
    files = make_folder(folder)
    (tmp_path / "state").mkdir()
    (tmp_path / "state" / "holds.json").write_text("{not json")
    result = run_cli("purge", str(folder))
    assert result.returncode == 1
    assert b"cannot read holds" in result.stderr
    assert all(path.exists() for path in files.values())


def test_newest_entry_reads_the_common_time_stamp_formats(tmp_path: Path) -> None:
    from logrotate.purge import newest_entry

    cases = {
        "combined.log": (
            '192.0.2.0 - - [24/Nov/2026:10:00:00 +0100] "GET / HTTP/1.1" 200 1 "-" "-"\n'
            '192.0.2.0 - - [24/Nov/2026:11:30:00 +0100] "GET / HTTP/1.1" 200 1 "-" "-"\n',
            datetime(2026, 11, 24, 10, 30, tzinfo=UTC),
        ),
        "json.log": (
            '{"time":"2026-11-23T08:00:00Z","remote_addr":"192.0.2.0"}\n'
            '{"time":"2026-11-23T09:15:00+02:00","remote_addr":"192.0.2.0"}\n',
            datetime(2026, 11, 23, 8, 0, tzinfo=UTC),
        ),
        "nginx-error.log": (
            "2026/11/20 13:55:36 [error] 12#12: *1 open() failed, client: 192.0.2.0\n",
            datetime(2026, 11, 20, 13, 55, 36).astimezone(UTC),
        ),
        "apache-error.log": (
            "[Fri Nov 20 13:55:36.123456 2026] [core:error] [client 192.0.2.0:1] AH00126\n",
            datetime(2026, 11, 20, 13, 55, 36).astimezone(UTC),
        ),
        "none.log": ("no time stamps in here\n", None),
    }
    for name, (text, expected) in cases.items():
        (tmp_path / name).write_text(text)
        assert newest_entry(tmp_path / name) == expected, name
    big = tmp_path / "big.log.gz"
    big.write_bytes(
        gzip.compress(("x" * 300 + "\n").encode() * 10_000 + cases["combined.log"][0].encode())
    )
    assert newest_entry(big) == datetime(2026, 11, 24, 10, 30, tzinfo=UTC)


def test_the_clock_is_the_one_the_operator_sets(tmp_path: Path, run_cli) -> None:
    """``LOGROTATE_NOW`` moves the job's "today": a week later every log is past 7 days;
    a malformed value is refused and nothing is deleted."""
    folder = tmp_path / "logs"
    files = make_folder(folder)
    for bad in ("next tuesday", "2026-11-24T12:00:00"):
        refused = run_cli("purge", str(folder), env={"LOGROTATE_NOW": bad})
        assert refused.returncode == 1 and b"LOGROTATE_NOW" in refused.stderr
        assert all(path.exists() for path in files.values())
    later = (NOW + timedelta(days=7.5)).isoformat()
    dry = run_cli("purge", str(folder), "--dry-run", env={"LOGROTATE_NOW": later})
    assert dry.stdout.decode().count("would delete: ") == 14  # all but notes.txt


@pytest.mark.parametrize("days", ["0", "-1", "-0.5", "0.5", "nan", "inf", "-inf", "seven"])
def test_purge_refuses_an_age_limit_that_would_delete_the_live_log(
    tmp_path: Path, run_cli, days: str
) -> None:
    """Before: ``--days 0`` deleted every log, the one nginx is writing included."""
    folder = tmp_path / "logs"
    files = make_folder(folder)

    result = run_cli("purge", str(folder), f"--days={days}")

    assert result.returncode == 2  # a usage error, before anything is looked at
    stderr = result.stderr.decode()
    assert "argument --days" in stderr
    assert (
        "must be at least 1" in stderr and "would delete the log the server is writing" in stderr
    ) or "must be a number of days, got 'seven'" in stderr
    assert all(path.exists() for path in files.values())


def test_purge_accepts_one_day_and_keeps_the_live_log(tmp_path: Path, run_cli) -> None:
    """The other side: the smallest allowed limit deletes what is older, never today's log."""
    folder = tmp_path / "logs"
    files = make_folder(folder)

    result = run_cli("purge", str(folder), "--days", "1")

    assert result.returncode == 0, result.stderr
    assert files["access.log.0"].exists()  # newest entry 0.1 days old: the live log
    assert not files["access.log.1"].exists()  # 1.1 days
    assert not files["new-no-stamps.log"].exists()  # no stamps, mtime 2 days ago
    assert files["notes.txt"].exists()


@pytest.mark.parametrize("days", [0, -7, 0.99, float("nan"), True, "7", None])
def test_purge_function_checks_days_too(tmp_path: Path, days: object) -> None:
    folder = tmp_path / "logs"
    files = make_folder(folder)
    with pytest.raises(PurgeError):
        purge([str(folder)], days, [], now=NOW)  # type: ignore[arg-type]
    assert all(path.exists() for path in files.values())
    assert check_days(1) == 1.0 and check_days(7.5) == 7.5
