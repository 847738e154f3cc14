"""PostgreSQL specifics through the real ``psql`` client: receipts are append-only (trigger),
and the shipped least-privilege roles work: the owner migrates, the app records but cannot
UPDATE, TRUNCATE, disable the trigger or create tables."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from tests.conftest import post_choice
from tests.consent.test_storage import make_receipt
from website import create_app
from website.store import open_store

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def database(postgres):
    name = postgres.create_database()
    yield name
    postgres.drop_database(name)


def test_update_and_truncate_are_refused_by_the_database(postgres, database):
    store = open_store(postgres.url(database))
    receipt, notice = make_receipt()
    store.add(receipt, notice)
    store.close()
    update = postgres.psql(database, "UPDATE receipts SET action = 'accept_all'")
    assert update.returncode != 0
    assert "consent receipts are immutable" in update.stderr
    truncate = postgres.psql(database, "TRUNCATE receipts")
    assert truncate.returncode != 0 and "immutable" in truncate.stderr
    select = postgres.psql(database, "SELECT action FROM receipts")
    assert "reject_all" in select.stdout
    delete = postgres.psql(database, "DELETE FROM receipts")  # retention and erasure
    assert delete.returncode == 0 and "DELETE 1" in delete.stdout


def test_least_privilege_roles_from_the_deploy_files(postgres, tmp_path):
    setup = (ROOT / "deploy" / "postgresql-setup.sql").read_text()
    # The throwaway cluster serves other tests too: a database of its own, same statements.
    setup = setup.replace("DATABASE consent", "DATABASE roles_test").replace(
        "\\connect consent", "\\connect roles_test")
    (tmp_path / "setup.sql").write_text(setup)
    grants = (ROOT / "deploy" / "postgresql-grants.sql").read_text().replace(
        "DATABASE consent", "DATABASE roles_test")
    (tmp_path / "grants.sql").write_text(grants)

    def psql_file(path: Path, user: str, database: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["psql", "-X", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", str(postgres.port),
             "-U", user, "-d", database, "-f", str(path)],
            capture_output=True, text=True, timeout=60)

    assert psql_file(tmp_path / "setup.sql", "postgres", "postgres").returncode == 0
    try:
        env = {**os.environ, "DATABASE_URL": postgres.url("roles_test", "website_owner"),
               "SECRET_KEY": "k", "INSTANCE_PATH": str(tmp_path)}
        migrate = subprocess.run(
            [sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
        assert migrate.returncode == 0, migrate.stderr
        granted = psql_file(tmp_path / "grants.sql", "website_owner", "roles_test")
        assert granted.returncode == 0, granted.stderr

        app_url = postgres.url("roles_test", "website_app")
        # The unit's ExecStartPre runs `db upgrade` as the app role: a no-op on a current schema.
        confirm = subprocess.run(
            [sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"],
            cwd=ROOT, env={**env, "DATABASE_URL": app_url}, capture_output=True, text=True,
            timeout=120)
        assert confirm.returncode == 0, confirm.stderr
        app = create_app({"SECRET_KEY": "k", "DATABASE_URL": app_url})
        client = app.test_client()
        assert client.get("/readyz").get_json() == {"database": "ok"}
        body = post_choice(client, {"categories": {"statistics": True}}).get_json()
        store = open_store(app_url)
        assert [r.receipt_id for r in store.history(body["consent_id"])] == [body["receipt_id"]]
        store.add_gpc_views(date(2026, 12, 1), 1)
        store.add_gpc_views(date(2026, 12, 1), 1)
        assert store.gpc_views(date(2026, 12, 1), date(2026, 12, 1)) == {date(2026, 12, 1): 2}
        store.close()
        app.extensions["receipt_store"].close()

        def as_app(sql: str) -> subprocess.CompletedProcess:
            return postgres.psql("roles_test", sql, user="website_app")

        for refused in ("UPDATE receipts SET action = 'accept_all'",
                        "TRUNCATE receipts",
                        "ALTER TABLE receipts DISABLE TRIGGER receipts_are_immutable",
                        "UPDATE notices SET content = ''",
                        "CREATE TABLE mine (x int)",
                        "DROP TABLE receipts"):
            result = as_app(refused)
            assert result.returncode != 0, refused
            assert "permission denied" in result.stderr or "must be owner" in result.stderr, (
                refused, result.stderr)
        assert as_app("SELECT count(*) FROM receipts").stdout.split()[2] == "1"
        owner_update = postgres.psql("roles_test", "UPDATE receipts SET action = 'x'",
                                     user="website_owner")
        assert "consent receipts are immutable" in owner_update.stderr  # even for the owner
        assert as_app("DELETE FROM receipts").returncode == 0  # retention purge, erasure
    finally:
        postgres.execute("DROP DATABASE IF EXISTS roles_test WITH (FORCE)")
        postgres.execute("DROP ROLE IF EXISTS website_app")
        postgres.execute("DROP ROLE IF EXISTS website_owner")


def _cut_connections(postgres, database: str) -> None:
    """Terminate every server process of ``database`` (a restart, as the pool sees it)."""
    postgres.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        f"WHERE datname = '{database}' AND pid <> pg_backend_pid()"
    )


def test_a_connection_cut_while_idle_is_replaced_before_use(postgres, database, monkeypatch):
    """A pooled connection that sat idle is pinged before it is handed out: one that the
    server dropped meanwhile is replaced, and the receipt goes in on the first try."""
    from website.store import engine

    store = open_store(postgres.url(database))
    try:
        store.add(*make_receipt())  # the pool now holds one connection
        _cut_connections(postgres, database)
        monkeypatch.setattr(engine, "PING_AFTER_IDLE_S", -1.0)  # every checkout pings
        receipt, notice = make_receipt()
        assert store.add(receipt, notice).receipt_id == receipt.receipt_id
    finally:
        store.close()


def test_a_connection_in_steady_use_is_not_pinged(postgres, database, monkeypatch):
    """The other side: a connection used again within ``PING_AFTER_IDLE_S`` costs no extra
    round trip, so a cut that lands in steady use fails that one write (503; the banner
    retries) and SQLAlchemy drops the dead connection, so the next write goes in."""
    from website.store import StorageUnavailable, engine

    store = open_store(postgres.url(database))
    try:
        store.add(*make_receipt())
        _cut_connections(postgres, database)
        monkeypatch.setattr(engine, "PING_AFTER_IDLE_S", 3600.0)
        with pytest.raises(StorageUnavailable):
            store.add(*make_receipt())
        receipt, notice = make_receipt()
        assert store.add(receipt, notice).receipt_id == receipt.receipt_id
        assert {r.receipt_id for r in store.history("c-1")} >= {receipt.receipt_id}
    finally:
        store.close()
