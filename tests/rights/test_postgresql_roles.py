"""The least-privilege PostgreSQL role from deploy/ can do everything this package needs."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from tests.rights.helpers import stored_receipt
from website.contact.messages import add_message, delete_message, mark_answered
from website.rights.channels import authenticate, create_channel, revoke_channel
from website.rights.erasure import erase_visitor
from website.rights.retention import run_retention
from website.store import open_store

ROOT = Path(__file__).resolve().parents[2]
DATABASE = "rights_roles_test"


def test_app_role_erases_records_channels_contact_and_retention(postgres, tmp_path):
    setup = (ROOT / "deploy/postgresql-setup.sql").read_text()
    setup = setup.replace("DATABASE consent", f"DATABASE {DATABASE}").replace(
        "\\connect consent", f"\\connect {DATABASE}")
    (tmp_path / "setup.sql").write_text(setup)
    grants = (ROOT / "deploy/postgresql-grants.sql").read_text().replace(
        "DATABASE consent", f"DATABASE {DATABASE}")
    (tmp_path / "grants.sql").write_text(grants)

    def psql_file(path: Path, user: str, database: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["psql", "-X", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", str(postgres.port),
             "-U", user, "-d", database, "-f", str(path)],
            capture_output=True, text=True, timeout=60)

    assert psql_file(tmp_path / "setup.sql", "postgres", "postgres").returncode == 0
    try:
        env = {**os.environ, "DATABASE_URL": postgres.url(DATABASE, "website_owner"),
               "SECRET_KEY": "k", "INSTANCE_PATH": str(tmp_path)}
        migrate = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "db",
                                  "upgrade"], cwd=ROOT, env=env, capture_output=True,
                                 text=True, timeout=120)
        assert migrate.returncode == 0, migrate.stderr
        granted = psql_file(tmp_path / "grants.sql", "website_owner", DATABASE)
        assert granted.returncode == 0, granted.stderr

        store = open_store(postgres.url(DATABASE, "website_app"))
        try:
            when = datetime(2026, 3, 1, tzinfo=UTC)
            stored_receipt(store, "visitor-one", when)
            assert erase_visitor(store, "visitor-one", "request by e-mail").receipts_count == 1
            token = create_channel(store, "phone-hotline")
            assert authenticate(store, token).name == "phone-hotline"
            revoke_channel(store, "phone-hotline")
            assert create_channel(store, "phone-hotline") != token
            message = add_message(store, name="N", email="n@example.org", message="m",
                                  ip_prefix="", consent_to_contact=False, now=when)
            assert mark_answered(store, message.id)
            second = add_message(store, name="N", email="n@example.org", message="m",
                                 ip_prefix="", consent_to_contact=False, now=when)
            assert delete_message(store, second.id)
            summary = run_retention(store, datetime(2040, 1, 1, tzinfo=UTC), {})
            assert summary["deleted"] == {"contact_messages": 1, "receipts": 0, "tombstones": 1}
        finally:
            store.close()
        refused = postgres.psql(DATABASE, "UPDATE tombstones SET reason = 'x'",
                                user="website_app")
        assert refused.returncode != 0 and "permission denied" in refused.stderr
    finally:
        postgres.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
        postgres.execute("DROP ROLE IF EXISTS website_app")
        postgres.execute("DROP ROLE IF EXISTS website_owner")
