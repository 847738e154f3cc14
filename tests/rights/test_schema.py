"""Migration 0006 and the shipped systemd units of the retention job."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import inspect

from website.store.migrate import alembic_config

ROOT = Path(__file__).resolve().parents[2]


def test_migration_0006_follows_0005_and_creates_the_tables(store):
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config()).get_revision("0006")
    assert script.down_revision == "0005"  # 0004 proof, 0005 admin, 0006 rights: one chain
    with store.engine.connect() as connection:
        inspector = inspect(connection)
        columns = {t: {c["name"] for c in inspector.get_columns(t)}
                   for t in ("tombstones", "channels", "contact_messages")}
    assert columns == {
        "tombstones": {"id", "erased_at", "receipts_count", "reason"},
        "channels": {"name", "token_hash", "created_at", "revoked_at"},
        "contact_messages": {"id", "name", "email", "message", "created_at",
                             "last_activity_at", "ip_prefix", "consent_to_contact",
                             "answered_at"},
    }


def test_the_nightly_timer_runs_the_retention_job(tmp_path: Path):
    log_job = (ROOT / "logrotate/deploy/logrotate-anon.service").read_text()
    assert "Wants=website-retention.service" in log_job
    unit = (ROOT / "deploy/website-retention.service").read_text()
    assert "ExecStart=/opt/website/.venv/bin/flask --app wsgi retention run" in unit
    assert "User=www-data" in unit and "EnvironmentFile=/etc/website/env" in unit
    assert "retention run" in (ROOT / "logrotate/deploy/logrotate-anon.cron").read_text()
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        if os.environ.get("CI") == "true":
            pytest.fail("systemd-analyze is missing (CI=true)")
        pytest.skip("systemd-analyze is not installed")
    site = tmp_path / "opt-website"
    (site / ".venv/bin").mkdir(parents=True)
    for program in ("python", "flask"):
        (site / ".venv/bin" / program).write_text("#!/bin/sh\n")
        (site / ".venv/bin" / program).chmod(0o755)
    units = tmp_path / "units"
    units.mkdir()
    for source in (ROOT / "deploy/website-retention.service",
                   ROOT / "logrotate/deploy/logrotate-anon.service",
                   ROOT / "logrotate/deploy/logrotate-anon.timer"):
        (units / source.name).write_text(source.read_text().replace("/opt/website", str(site)))
    result = subprocess.run([analyze, "verify", *(str(p) for p in sorted(units.iterdir()))],
                            capture_output=True, text=True, timeout=120,
                            env={**os.environ, "SYSTEMD_LOG_COLOR": "0"})
    assert result.returncode == 0, result.stderr
    assert [line for line in result.stderr.splitlines() if str(units) in line] == [], \
        result.stderr
