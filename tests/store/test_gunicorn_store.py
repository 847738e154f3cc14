"""The store under real gunicorn: a worker restart (kill -HUP, a crashed worker) never takes the
site down because the database cannot be opened, and two app processes on one PostgreSQL both
record into one shared store."""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.postgres import PostgresUnavailable, start_postgres
from tests.site.gunicorn_server import free_port, http_status
from website.store import open_store

ROOT = Path(__file__).resolve().parents[2]
DEADLINE_S = 60  # only a safety net against a hung test, never a speed assertion


class Site:
    """One gunicorn master with its workers."""

    def __init__(self, process: subprocess.Popen, base: str, log: Path) -> None:
        self.process, self.base, self.log = process, base, log

    def status(self, path: str) -> int:
        return http_status(f"{self.base}{path}")

    def wait_for(self, path: str, status: int, times: int = 1) -> None:
        """Poll until ``path`` answered ``status`` ``times`` times in a row."""
        streak, deadline = 0, time.monotonic() + DEADLINE_S
        while streak < times:
            assert self.process.poll() is None, self.log.read_text()
            streak = streak + 1 if self.status(path) == status else 0
            if time.monotonic() > deadline:
                pytest.fail(f"{path} never answered {status}: {self.log.read_text()[-3000:]}")
            time.sleep(0.05)

    def workers(self) -> list[int]:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in children.read_text().split()]


class Visitor:
    """A browser: a cookie jar and the page's CSRF token."""

    def __init__(self) -> None:
        jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        self.token = ""

    def load(self, base: str) -> None:
        page = self.opener.open(f"{base}/", timeout=10).read().decode()
        self.token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)

    def decide(self, base: str, statistics: bool) -> tuple[int, dict, dict]:
        if not self.token:
            self.load(base)
        request = urllib.request.Request(
            f"{base}/consent", method="POST",
            data=json.dumps({"categories": {"statistics": statistics}}).encode(),
            headers={"Content-Type": "application/json", "X-CSRFToken": self.token})
        try:
            with self.opener.open(request, timeout=30) as response:
                return response.status, dict(response.headers), json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), json.loads(error.read())

    def history(self, base: str) -> list[dict]:
        return json.loads(self.opener.open(f"{base}/consent/receipts", timeout=10).read())


def migrate(env: dict[str, str]) -> None:
    subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"],
                   cwd=ROOT, env=env, check=True, capture_output=True, timeout=120)


@contextmanager
def gunicorn(folder: Path, database_url: str, name: str = "site",
             wrapper: tuple[str, ...] = ()) -> Iterator[Site]:
    """gunicorn (2 workers) on a free port; ``wrapper`` runs it in a changed environment."""
    port = free_port()
    env = {**os.environ, "PORT": str(port), "WEB_CONCURRENCY": "2", "GUNICORN_THREADS": "2",
           "INSTANCE_PATH": str(folder), "DATABASE_URL": database_url,
           "SECRET_KEY": "gunicorn-store-test-key"}
    log = folder / f"{name}.log"
    with open(log, "wb") as handle:
        process = subprocess.Popen(
            [*wrapper, sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"],
            cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT)
    site = Site(process, f"http://127.0.0.1:{port}", log)
    try:
        site.wait_for("/healthz", 200)
        yield site
    finally:
        process.terminate()
        process.wait(timeout=30)
    assert "Worker failed to boot" not in log.read_text()


def assert_degraded(site: Site) -> None:
    assert site.status("/healthz") == 200
    assert site.status("/") == 200
    assert site.status("/readyz") == 503
    status, headers, body = Visitor().decide(site.base, True)
    assert status == 503 and body["error"] == "storage_unavailable"
    assert int(headers["Retry-After"]) > 0


def test_sqlite_outage_survives_reload_and_crash(tmp_path):
    folder = tmp_path / "db"
    url = f"sqlite:///{folder / 'receipts.db'}"
    migrate({**os.environ, "DATABASE_URL": url, "SECRET_KEY": "k"})
    visitor = Visitor()
    with gunicorn(tmp_path, url) as site:
        assert visitor.decide(site.base, True)[0] == 200
        site.wait_for("/readyz", 200)

        # The outage: the database folder disappears (a lost mount); a file stands in its way.
        folder.rename(tmp_path / "db-away")
        folder.write_text("")
        os.kill(site.process.pid, signal.SIGHUP)  # new workers must open the database afresh
        site.wait_for("/readyz", 503, times=20)
        assert_degraded(site)

        crashed = site.workers()[0]
        os.kill(crashed, signal.SIGKILL)  # a worker crash: the master starts a new one
        deadline = time.monotonic() + DEADLINE_S
        while crashed in site.workers() or len(site.workers()) < 2:
            assert time.monotonic() < deadline, site.log.read_text()
            time.sleep(0.05)
        site.wait_for("/healthz", 200, times=20)
        assert_degraded(site)
        os.kill(site.process.pid, signal.SIGHUP)
        site.wait_for("/healthz", 200, times=20)
        assert site.process.poll() is None

        # The fix: the folder comes back; no restart needed.
        folder.unlink()
        (tmp_path / "db-away").rename(folder)
        site.wait_for("/readyz", 200, times=5)
        status, _, body = visitor.decide(site.base, False)
        assert status == 200
    store = open_store(url)
    assert [r.action for r in store.export()] == ["custom", "reject_all"]
    store.close()


def test_gunicorn_starts_while_postgresql_is_down(tmp_path):
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with gunicorn(tmp_path, f"postgresql://app@127.0.0.1:{port}/consent") as site:
        assert_degraded(site)
        os.kill(site.process.pid, signal.SIGHUP)
        site.wait_for("/healthz", 200, times=20)
        assert_degraded(site)


@pytest.fixture
def own_postgres():
    """A PostgreSQL server of this test's own: it is stopped and started again mid-test."""
    try:
        server = start_postgres()
    except PostgresUnavailable as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL could not be started: {exc}")
        pytest.skip(f"PostgreSQL could not be started: {exc}")
    yield server
    server.stop()


def test_two_app_processes_on_one_postgresql_both_record(tmp_path, own_postgres):
    own_postgres.execute("CREATE DATABASE consent")
    url = own_postgres.url("consent")
    migrate({**os.environ, "DATABASE_URL": url, "SECRET_KEY": "k"})
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    with gunicorn(tmp_path / "a", url, "a") as a, gunicorn(tmp_path / "b", url, "b") as b:
        visitors = [Visitor() for _ in range(8)]

        def decide(number: int) -> list[str]:
            visitor, ids = visitors[number], []
            for turn in range(6):  # each visitor alternates between the two nodes
                site = (a, b)[(number + turn) % 2]
                status, _, body = visitor.decide(site.base, bool(turn % 2))
                assert status == 200, body
                ids.append(body["receipt_id"])
            return ids

        with ThreadPoolExecutor(max_workers=len(visitors)) as pool:
            answered = [i for ids in pool.map(decide, range(len(visitors))) for i in ids]
        assert len(set(answered)) == len(visitors) * 6
        store = open_store(url)
        assert sorted(r.receipt_id for r in store.export()) == sorted(answered)
        assert len({r.consent_id for r in store.export()}) == len(visitors)  # one history each
        store.close()
        # One history, whichever node is asked.
        assert visitors[0].history(a.base) == visitors[0].history(b.base)
        assert len(visitors[0].history(b.base)) == 6

        own_postgres.halt()  # the outage
        for site in (a, b):
            site.wait_for("/readyz", 503, times=5)
            assert_degraded(site)
        os.kill(a.process.pid, signal.SIGHUP)
        a.wait_for("/healthz", 200, times=20)
        assert_degraded(a)

        own_postgres.resume()  # both nodes reconnect by themselves
        for site in (a, b):
            site.wait_for("/readyz", 200, times=5)
            assert visitors[1].decide(site.base, True)[0] == 200


def migrated_folder(tmp_path: Path) -> tuple[Path, str]:
    folder = tmp_path / "db"
    url = f"sqlite:///{folder / 'receipts.db'}"
    migrate({**os.environ, "DATABASE_URL": url, "SECRET_KEY": "k"})
    return folder, url


def test_no_permission_on_the_database_folder(tmp_path):
    """The folder exists but the site's user may not enter it (a wrong owner after a restore)."""
    folder, url = migrated_folder(tmp_path)
    folder.chmod(0)
    # As root, drop the capabilities that bypass file permissions, so the mode is obeyed.
    wrapper = (("setpriv", "--bounding-set", "-dac_override,-dac_read_search")
               if os.geteuid() == 0 else ())
    try:
        with gunicorn(tmp_path, url, wrapper=wrapper) as site:
            assert_degraded(site)
            os.kill(site.process.pid, signal.SIGHUP)
            site.wait_for("/healthz", 200, times=20)
            assert_degraded(site)
    finally:
        folder.chmod(0o700)


def test_read_only_file_system(tmp_path):
    """The database folder is mounted read-only (a real read-only bind mount in a user and
    mount namespace): the data can be read, nothing can be recorded, and /readyz says so."""
    folder, url = migrated_folder(tmp_path)
    mount = (f"mount --bind {folder} {folder} && mount -o remount,bind,ro {folder} "
             '&& exec "$@"')
    probe = subprocess.run(["unshare", "-rm", "sh", "-c", mount, "sh", "touch",
                            str(folder / "probe")], capture_output=True, text=True)
    assert "Read-only file system" in probe.stderr, probe.stderr  # the mount really is ro
    with gunicorn(tmp_path, url, wrapper=("unshare", "-rm", "sh", "-c", mount, "sh")) as site:
        assert_degraded(site)
        os.kill(site.process.pid, signal.SIGHUP)
        site.wait_for("/healthz", 200, times=20)
        assert_degraded(site)
    store = open_store(url)
    assert list(store.export()) == []  # nothing half-written
    store.close()
