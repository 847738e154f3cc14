"""A throwaway PostgreSQL server for the tests: initdb + pg_ctl in a temporary folder.

Started once per test session (under ``postgres`` when the tests run as root, since initdb
refuses root), listening on 127.0.0.1 and a free port with trust authentication, stopped and
deleted at the end. Each test gets its own database, copied from a migrated template.
"""

from __future__ import annotations

import itertools
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import psycopg

TEMPLATE = "receipts_template"


class PostgresUnavailable(RuntimeError):
    """PostgreSQL could not be started here (the message says why)."""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _pg_bin() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"),
                   key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0)
    if found:
        return found[-1].parent
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).parent
    raise PostgresUnavailable("initdb not found (apt-get install postgresql)")


class PostgresServer:
    def __init__(self) -> None:
        self.bin = _pg_bin()
        self.folder = Path(tempfile.mkdtemp(prefix="pg-test-"))
        self.port = _free_port()
        self.as_root = os.geteuid() == 0
        self._names = itertools.count(1)
        self.admin: psycopg.Connection | None = None

    def _run(self, *args: str) -> None:
        command = [str(self.bin / args[0]), *args[1:]]
        if self.as_root:
            command = ["runuser", "-u", "postgres", "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, timeout=120)
        if result.returncode != 0:
            log = self.folder / "log"
            detail = log.read_text() if log.exists() else ""
            raise PostgresUnavailable(
                f"{' '.join(args[:1])} failed: {result.stderr.strip()} {detail[-2000:]}"
            )

    def start(self) -> PostgresServer:
        if self.as_root:
            shutil.chown(self.folder, "postgres")
        self._run("initdb", "-D", f"{self.folder}/data", "-U", "postgres", "--auth=trust",
                  "-E", "UTF8", "--locale=C.UTF-8")
        self.resume()
        return self

    def _options(self) -> str:
        return (f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.folder} "
                "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
                "-c max_connections=200")

    def halt(self) -> None:
        """Stop the server but keep its data (an outage); :meth:`resume` brings it back."""
        if self.admin is not None:
            self.admin.close()
            self.admin = None
        self._run("pg_ctl", "-D", f"{self.folder}/data", "-m", "fast", "-w", "stop")

    def resume(self) -> None:
        self._run("pg_ctl", "-D", f"{self.folder}/data", "-l", f"{self.folder}/log", "-w",
                  "-o", self._options(), "start")
        self.admin = psycopg.connect(self.dsn("postgres"), autocommit=True)

    def stop(self) -> None:
        if self.admin is not None:
            self.admin.close()
        try:
            self._run("pg_ctl", "-D", f"{self.folder}/data", "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)

    def dsn(self, database: str, user: str = "postgres") -> str:
        return f"postgresql://{user}@127.0.0.1:{self.port}/{database}"

    def url(self, database: str, user: str = "postgres") -> str:
        """The app's ``DATABASE_URL`` for one database."""
        return self.dsn(database, user)

    def execute(self, sql: str) -> None:
        assert self.admin is not None
        self.admin.execute(sql)  # type: ignore[arg-type]

    def create_database(self, template: str | None = TEMPLATE) -> str:
        name = f"test_{os.getpid()}_{next(self._names)}"
        self.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
        return name

    def drop_database(self, name: str) -> None:
        self.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def psql(self, database: str, sql: str, user: str = "postgres") -> subprocess.CompletedProcess:
        """Run SQL through the real ``psql`` client (ON_ERROR_STOP: a failing statement is rc 3)."""
        return subprocess.run(
            ["psql", "-X", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", str(self.port),
             "-U", user, "-d", database, "-c", sql],
            capture_output=True, text=True, timeout=60,
        )


def start_postgres() -> PostgresServer:
    server = PostgresServer()
    try:
        return server.start()
    except (OSError, subprocess.SubprocessError, psycopg.Error, PostgresUnavailable) as exc:
        shutil.rmtree(server.folder, ignore_errors=True)
        if isinstance(exc, PostgresUnavailable):
            raise
        raise PostgresUnavailable(str(exc)) from None
