"""Migrations: lossless upgrade of the hand-written v1/v2 files, concurrent migrators (real
processes, both backends), start-up refuses an old schema and names the command."""

from __future__ import annotations

import os
import shutil
import sqlite3
import stat
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from tests.conftest import post_choice
from website import create_app
from website.store import SchemaError, head_revision, open_store, upgrade

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
OLD_COLUMNS = ("receipt_id", "consent_id", "created_at", "revision", "notice_hash", "language",
               "method", "action", "categories", "services", "page_path", "ip_prefix",
               "ua_browser", "ua_os", "ua_device")


def legacy_copy(tmp_path: Path, version: int) -> Path:
    path = tmp_path / f"receipts-v{version}.db"
    shutil.copyfile(FIXTURES / f"receipts-v{version}.db", path)
    return path


def raw_rows(path: Path, table: str) -> list[tuple]:
    db = sqlite3.connect(path)
    try:
        return db.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall()
    finally:
        db.close()


@pytest.mark.parametrize("version", [1, 2])
def test_legacy_file_upgrades_losslessly(tmp_path, version):
    path = legacy_copy(tmp_path, version)
    before = {table: raw_rows(path, table) for table in ("receipts", "notices")}
    assert len(before["receipts"]) == 4

    assert upgrade(f"sqlite:///{path}") == head_revision()

    db = sqlite3.connect(path)
    db.row_factory = sqlite3.Row
    after = db.execute("SELECT * FROM receipts ORDER BY receipt_id").fetchall()
    old_names = OLD_COLUMNS + (("decision_id",) if version == 2 else ())
    # Every old value, byte for byte.
    assert [tuple(row[name] for name in old_names) for row in after] == before["receipts"]
    assert raw_rows(path, "notices") == before["notices"]
    for row in after:
        assert (row["policy_version"], row["policy_hash"], row["app_version"]) == ("", "", "")
        assert row["gpc"] == 0
        created = datetime.fromisoformat(row["created_at"])
        assert datetime.fromisoformat(row["expires_at"]) == created + timedelta(days=183)
        assert row["expires_at"][19:] == row["created_at"][19:]  # same fraction, same Z
    tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert "schema_version" not in tables and {"gpc_views", "alembic_version"} <= tables
    triggers = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='trigger'")}
    # Receipts refuse UPDATE; seals and removal notes (revision 0004) refuse UPDATE and DELETE.
    assert triggers == {"receipts_are_immutable", "seals_no_update", "seals_no_delete",
                        "removal_notes_no_update", "removal_notes_no_delete"}
    with pytest.raises(sqlite3.IntegrityError, match="immutable"):
        db.execute("UPDATE receipts SET action = 'accept_all'")
    db.close()

    store = open_store(f"sqlite:///{path}")
    receipts = {r.receipt_id: r for r in store.export()}
    assert receipts["r-0003"].created_at == datetime(2026, 11, 30, 23, 59, 59, 999999, tzinfo=UTC)
    assert receipts["r-0003"].page_path == "/impressum/ümlaut"
    assert receipts["r-0002"].categories == {"essential": True, "statistics": False}
    if version == 2:
        assert store.by_decision_id("c-alpha", "0b7c9e1e-5a43-4d3f-9a57-2f6c1f0a9d11") == (
            receipts["r-0002"])
    store.close()
    assert upgrade(f"sqlite:///{path}") == head_revision()  # a second run changes nothing
    assert raw_rows(path, "receipts") == [tuple(r) for r in after]


def test_start_up_refuses_an_old_schema_and_names_the_command(tmp_path):
    path = legacy_copy(tmp_path, 2)
    with pytest.raises(SchemaError, match=r"revision '0002'.*flask --app wsgi db upgrade"):
        create_app({"SECRET_KEY": "k", "DATABASE_URL": f"sqlite:///{path}"})


def assert_serves_without_schema(url: str, caplog: pytest.LogCaptureFixture) -> None:
    """No schema yet: nothing can go into a wrong one, so the site serves and says why."""
    app = create_app({"SECRET_KEY": "k", "DATABASE_URL": url})
    assert "flask --app wsgi db upgrade" in caplog.text
    client = app.test_client()
    assert client.get("/").status_code == 200 and client.get("/healthz").status_code == 200
    ready = client.get("/readyz")
    assert ready.status_code == 503 and ready.get_json()["database"] == "schema_missing"
    response = post_choice(client, {"categories": {}})
    assert response.status_code == 503
    assert response.get_json()["error"] == "storage_unavailable"
    app.extensions["receipt_store"].close()
    upgrade(url)  # the operator runs the command: recording works, no restart
    assert client.get("/readyz").status_code == 200
    assert post_choice(client, {"categories": {}}).status_code == 200


def test_a_missing_sqlite_file_serves_pages_and_records_nothing(tmp_path, caplog):
    missing = tmp_path / "never-created.db"
    app = create_app({"SECRET_KEY": "k", "DATABASE_URL": f"sqlite:///{missing}"})
    assert not missing.exists()  # the app never creates or migrates the database itself
    app.extensions["receipt_store"].close()
    assert_serves_without_schema(f"sqlite:///{missing}", caplog)


def test_an_empty_postgresql_database_serves_pages_and_records_nothing(postgres, caplog):
    name = postgres.create_database(template=None)
    try:
        assert_serves_without_schema(postgres.url(name), caplog)
    finally:
        postgres.drop_database(name)


def test_db_upgrade_command_migrates_a_legacy_file(tmp_path):
    """The real CLI, as the deploy step runs it: the app loads although the schema is old."""
    path = legacy_copy(tmp_path, 2)
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{path}", "SECRET_KEY": "k",
           "INSTANCE_PATH": str(tmp_path)}
    command = [sys.executable, "-m", "flask", "--app", "wsgi", "db"]
    before = subprocess.run([*command, "current"], cwd=ROOT, env=env, capture_output=True,
                            text=True)
    assert before.returncode == 1 and before.stdout.startswith("0002 (head:")
    result = subprocess.run([*command, "upgrade"], cwd=ROOT, env=env, capture_output=True,
                            text=True)
    assert result.returncode == 0, result.stderr
    assert f"revision {head_revision()} (head)" in result.stdout
    create_app({"SECRET_KEY": "k", "DATABASE_URL": f"sqlite:///{path}"})  # now it starts


def test_a_newer_database_is_refused(tmp_path):
    path = tmp_path / "r.db"
    url = f"sqlite:///{path}"
    upgrade(url)
    store = open_store(url)
    with store.engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    store.close()
    with pytest.raises(SchemaError, match="newer than this code"):
        upgrade(url)
    with pytest.raises(SchemaError, match="newer than this code"):
        create_app({"SECRET_KEY": "k", "DATABASE_URL": url})


def test_new_sqlite_database_is_owner_only(tmp_path):
    path = tmp_path / "sub" / "receipts.db"
    upgrade(f"sqlite:///{path}")
    for candidate in path.parent.iterdir():
        assert stat.S_IMODE(candidate.stat().st_mode) == 0o600, candidate
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    db.close()


# --- several migrators at once: real processes ----------------------------------------------

WORKER = """
import sys
from website.store import upgrade
print("ready", flush=True)
for line in sys.stdin:
    try:
        print("ok", upgrade(line.strip()), flush=True)
    except Exception as exc:
        print("error", type(exc).__name__, str(exc).replace(chr(10), " "), flush=True)
"""
PROCESSES = 6
ROUNDS = 25


@pytest.fixture
def migrators():
    """Six long-lived Python processes, each ready to run ``upgrade(url)`` on a line of input."""
    workers = [subprocess.Popen([sys.executable, "-c", WORKER], cwd=ROOT, text=True,
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE)
               for _ in range(PROCESSES)]
    for worker in workers:
        assert worker.stdout.readline().strip() == "ready"

    def run(url: str) -> list[str]:
        for worker in workers:  # all six start on the same database at once
            worker.stdin.write(url + "\n")
            worker.stdin.flush()
        return [worker.stdout.readline().strip() for worker in workers]

    yield run
    for worker in workers:
        worker.stdin.close()
        worker.wait(timeout=30)


def _revisions(url: str) -> list[str]:
    store = open_store(url)
    try:
        with store.engine.connect() as connection:
            return list(connection.execute(text("SELECT version_num FROM alembic_version"))
                        .scalars())
    finally:
        store.close()


def test_concurrent_migrations_agree_on_sqlite(tmp_path, migrators):
    for round_number in range(ROUNDS):
        folder = tmp_path / f"round-{round_number}"
        folder.mkdir()
        # Odd rounds start from a hand-written v2 file (stamp, then upgrade), even ones from none.
        path = legacy_copy(folder, 2) if round_number % 2 else folder / "receipts.db"
        url = f"sqlite:///{path}"
        assert migrators(url) == [f"ok {head_revision()}"] * PROCESSES, round_number
        assert _revisions(url) == [head_revision()]
        if round_number % 2:
            assert len(raw_rows(path, "receipts")) == 4


def test_concurrent_migrations_agree_on_postgresql(postgres, migrators):
    for round_number in range(ROUNDS):
        name = postgres.create_database(template=None)
        try:
            url = postgres.url(name)
            assert migrators(url) == [f"ok {head_revision()}"] * PROCESSES, round_number
            assert _revisions(url) == [head_revision()]
        finally:
            postgres.drop_database(name)
