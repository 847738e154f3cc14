"""Helpers for the deployment-file tests: the real tools (nginx, logrotate, systemd-analyze,
rsyslogd, openssl) on copies of the shipped files in temporary folders.

Nothing here needs a running systemd or writes below /etc, /run or /var: every absolute path
of a shipped file that a tool would touch is moved into ``tmp_path`` first, and each such
substitution is checked to have happened, so a renamed path in a shipped file fails the test
instead of silently testing something else.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
JOB_DEPLOY = ROOT / "logrotate" / "deploy"
# What the shipped files run: the console script in the site's venv.
SHIPPED_LOG_JOB = "/opt/website/.venv/bin/log-anonymiser"


def log_anonymiser() -> str:
    """The console script of the venv running the tests (``make .venv/.dev`` installs the
    project as ``make .venv/.runtime`` does on the server), put where the shipped files say
    ``/opt/website/.venv/bin/log-anonymiser``."""
    script = Path(sys.executable).with_name("log-anonymiser")
    assert script.is_file(), f"{script} is missing: install the project (make .venv/.dev)"
    return str(script)


def need(tool: str) -> str:
    """The tool's path; skipped locally without it, a failure under CI=true (.ci/run installs
    it: nginx-light, logrotate, systemd, rsyslog, openssl)."""
    found = shutil.which(tool) or next(
        (str(Path(d) / tool) for d in ("/usr/sbin", "/sbin") if (Path(d) / tool).exists()), None
    )
    if found:
        return found
    reason = f"{tool} is not installed (apt-get install nginx-light logrotate systemd rsyslog)"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}; CI=true: the deployment tests must run")
    pytest.skip(reason)


def need_root(why: str) -> None:
    """Skip locally when not root (CI runs .ci/run as root: there it is a failure)."""
    if os.geteuid() != 0:
        reason = f"needs root: {why}"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}; CI=true: the deployment tests must run")
        pytest.skip(reason)


def need_file(path: str) -> Path:
    """A file a Debian package installs (e.g. /etc/logrotate.d/nginx), read, never written."""
    if not Path(path).exists():
        reason = f"{path} is missing (installed by the Debian package)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}; CI=true: the deployment tests must run")
        pytest.skip(reason)
    return Path(path)


def substitute(text: str, replacements: dict[str, str]) -> str:
    """Replace each key by its value; every key must occur (see the module docstring)."""
    for old, new in replacements.items():
        assert old in text, f"{old!r} no longer occurs: update the test with the shipped file"
        text = text.replace(old, new)
    return text


def run(command: list[str], **kwargs) -> subprocess.CompletedProcess[str]:
    kwargs.setdefault("timeout", 60)
    return subprocess.run(command, capture_output=True, text=True, **kwargs)


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    openssl = need("openssl")
    cert, key = folder / "cert.pem", folder / "key.pem"
    result = run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-subj", "/CN=www.example.de", "-keyout", str(key), "-out", str(cert)]
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return cert, key
