"""The nightly job: anonymise what is not yet anonymised, purge old logs, report.

Configuration (TOML), see ``deploy/nightly.toml``::

    anonymise = ["/var/log/nginx/*.log.[0-9]*", "/var/log/nginx/*.gz"]   # glob patterns
    purge = ["/var/log/nginx", "-/var/log/website"]                       # folders
    days = 7                                                              # at least 1
    ipv4_prefix = 24
    ipv6_prefix = 48
    keep_user_agent = false
    state_dir = "/var/lib/logrotate-anon"           # holds.json, done.json
    report = "/var/lib/logrotate-anon/nightly.json"

A purge folder written with a leading ``-`` is optional (as in systemd's ``ReadWritePaths=``):
if it does not exist it is skipped and listed in the report, instead of failing the run. A
folder without the ``-`` that does not exist is an error, so a typo cannot silently stop
the purge. ``days`` must be at least 1: a shorter limit would delete the live log.

Files already anonymised are remembered in ``done.json`` by path, inode, size and modification
time, so they are not read again night after night.
"""

from __future__ import annotations

import glob
import json
import os
import tomllib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from privacy.ipmask import DEFAULT_IPV4_PREFIX, DEFAULT_IPV6_PREFIX

from . import clock
from .files import LogFileError, anonymise_file, atomic_write_bytes
from .holds import HoldError, HoldStore, state_dir
from .lines import LogMasker
from .progress import Progress
from .purge import PurgeError, check_days, purge

__all__ = ["Config", "ConfigError", "load_config", "purge_folders", "run_nightly"]


class ConfigError(Exception):
    pass


@dataclass
class Config:
    anonymise: list[str]
    purge: list[str]
    days: float = 7
    ipv4_prefix: int = DEFAULT_IPV4_PREFIX
    ipv6_prefix: int = DEFAULT_IPV6_PREFIX
    keep_user_agent: bool = False
    state_dir: str = field(default_factory=lambda: str(state_dir()))
    report: str | None = None


def load_config(path: str | Path) -> Config:
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as error:
        raise ConfigError(f"{path}: cannot read: {error.strerror}") from error
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: invalid TOML: {error}") from error
    known = set(Config.__dataclass_fields__)
    unknown = set(data) - known
    if unknown:
        raise ConfigError(f"{path}: unknown settings: {', '.join(sorted(unknown))}")
    try:
        config = Config(**{"anonymise": [], "purge": [], **data})
    except TypeError as error:
        raise ConfigError(f"{path}: {error}") from error
    for name in ("anonymise", "purge"):
        value = getattr(config, name)
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise ConfigError(f"{path}: {name} must be a list of strings")
    try:
        config.days = check_days(config.days)
    except PurgeError as error:
        raise ConfigError(f"{path}: {error}") from error
    return config


def purge_folders(folders: list[str]) -> tuple[list[str], list[str]]:
    """The folders to purge, and the optional (``-``) ones skipped because they are absent."""
    present: list[str] = []
    skipped: list[str] = []
    for folder in folders:
        if folder.startswith("-"):
            folder = folder[1:]
            if not os.path.lexists(folder):
                skipped.append(folder)
                continue
        present.append(folder)
    return present, skipped


def _signature(path: str) -> list[int]:
    info = os.stat(path)
    return [info.st_ino, info.st_size, info.st_mtime_ns]


def run_nightly(config: Config, now: datetime | None = None) -> tuple[dict[str, Any], str]:
    """Do everything that can be done; return the JSON report and the one-line summary."""
    now = now or clock.now()
    folder = Path(config.state_dir)
    done_file = folder / "done.json"
    errors: list[str] = []
    warnings: list[str] = []
    try:
        done: dict[str, list[int]] = json.loads(done_file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        done = {}
    except (OSError, ValueError) as error:
        errors.append(f"{done_file}: unreadable, every file is checked again ({error})")
        done = {}
    masker = LogMasker(config.ipv4_prefix, config.ipv6_prefix, config.keep_user_agent)
    files = sorted({path for pattern in config.anonymise for path in glob.glob(pattern)})
    files = [path for path in files if os.path.isfile(path)]
    anonymised = skipped = lines = 0
    for path in files:
        try:
            if done.get(path) == _signature(path):
                skipped += 1
                continue
            progress = Progress(path, os.path.getsize(path))
            try:
                result = anonymise_file(path, masker, progress.update)
            finally:
                progress.close()
            lines += result.lines
            anonymised += result.changed
            warnings += result.warnings
            done[path] = _signature(path)
        except (LogFileError, OSError) as error:
            errors.append(str(error))
    done = {path: sig for path, sig in done.items() if os.path.exists(path)}
    try:
        holds = HoldStore(folder).load()
    except HoldError as error:
        # Without the holds we cannot know what must be kept: purge nothing this time.
        errors.append(f"{error}; nothing purged")
        holds = None
    folders, absent = purge_folders(config.purge)
    purged = purge(folders, config.days, holds, now=now) if holds is not None else []
    deleted = [result.path for result in purged if result.deleted]
    held = [result.path for result in purged if result.hold is not None]
    errors += [result.error for result in purged if result.error]
    report = {
        "finished": now.isoformat(timespec="seconds"),
        "files_checked": len(files),
        "files_anonymised": anonymised,
        "files_already_done": skipped,
        "lines": lines,
        "addresses_masked": masker.masked,
        "files_deleted": deleted,
        "holds_honoured": held,
        "optional_folders_absent": absent,
        "warnings": warnings,
        "errors": errors,
    }
    try:
        atomic_write_bytes(done_file, json.dumps(done, indent=1).encode() + b"\n")
        if config.report:
            atomic_write_bytes(config.report, json.dumps(report, indent=2).encode() + b"\n")
    except OSError as error:
        errors.append(f"cannot write state or report: {error}")
    summary = (
        f"nightly: {len(files)} files ({anonymised} anonymised, {skipped} already done), "
        f"{lines} lines, {masker.masked} addresses masked, {len(deleted)} deleted, "
        f"{len(held)} kept under hold, {len(warnings)} warnings, {len(errors)} errors"
    )
    return report, summary
