"""Fixtures for the log job's tests: a CLI runner (real subprocesses) and log generators.

Only documentation addresses (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32)
are used, and only generated at test time.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.logrotate.logdata import NOW

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def run_cli(tmp_path: Path) -> Callable[..., subprocess.CompletedProcess[bytes]]:
    """Run ``python -m logrotate ARGS`` from the repository root, state kept in tmp_path,
    the job's clock fixed at ``NOW`` (the tests never depend on the calendar)."""

    def run(
        *args: str, input: bytes | None = None, env: dict[str, str] | None = None, **kwargs
    ) -> subprocess.CompletedProcess[bytes]:
        environment = {
            **os.environ,
            "LOGROTATE_STATE_DIR": str(tmp_path / "state"),
            "LOGROTATE_NOW": NOW.isoformat(),
            **(env or {}),
        }
        return subprocess.run(
            [sys.executable, "-m", "logrotate", *args],
            cwd=ROOT,
            input=input,
            capture_output=True,
            env=environment,
            timeout=120,
            **kwargs,
        )

    return run
