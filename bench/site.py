"""Load benchmark of the site under real gunicorn with the shipped settings, measured with wrk
(``make bench-site``), on SQLite and on PostgreSQL in one run.

For each backend: ``/healthz`` (the floor: gunicorn + Flask doing nothing), ``GET /`` for an
undecided and for a decided visitor (template, CSRF token, nonce, catalog config), and ``POST
/consent`` (validation, a signed receipt committed to the database, the decision cookie), with
req/s, p50/p99 and each case's ratio to ``/healthz`` of the same backend in the same run. Then a
separate short POST run compares the receipts stored with the 2xx answers wrk received (they
must be equal); its last 2-3 seconds send GET /healthz instead, since wrk abandons the requests in
flight at its deadline, whose receipts may still be committed.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from website.store import ReceiptStore, open_store  # noqa: E402

RECEIPT_KEYS = "bench:" + "b" * 40


#: wrk Lua: every thread counts its 2xx answers in ``ok``; the total is printed at the end.
REPORT_2XX = [
    "local threads = {}",
    "function setup(thread) table.insert(threads, thread); thread:set('tid', #threads) end",
    "function done(summary, latency, requests)",
    "  local total = 0",
    "  for _, t in ipairs(threads) do total = total + t:get('ok') end",
    "  io.write(string.format('2xx: %d\\n', total))",
    "end",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def migrated_server_env(
    folder: Path, database_url: str, workers: int
) -> tuple[dict[str, str], int]:
    """The environment of a benchmark server on a free port, its database migrated first."""
    port = free_port()
    env = {
        **os.environ,
        "PORT": str(port),
        "WEB_CONCURRENCY": str(workers),
        "INSTANCE_PATH": str(folder),
        "DATABASE_URL": database_url,
        "SECRET_KEY": "benchmark-only-key",
        "RECEIPT_KEYS": RECEIPT_KEYS,
        "ACCESS_LOG": str(folder / "access.log"),
    }
    subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"],
                   cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
    return env, port


def start_gunicorn(folder: Path, database_url: str, workers: int) -> tuple[subprocess.Popen, str]:
    env, port = migrated_server_env(folder, database_url, workers)
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            urllib.request.urlopen(f"{base}/healthz", timeout=1).close()
            return process, base
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("gunicorn did not start")


def browser(base: str, decide: bool) -> tuple[str, str]:
    """A browser's cookies (session, and the decision cookie if ``decide``) and CSRF token."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(f"{base}/").read().decode()
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    if decide:
        request = urllib.request.Request(
            f"{base}/consent", method="POST",
            data=json.dumps({"categories": {"statistics": True}}).encode(),
            headers={"Content-Type": "application/json", "X-CSRFToken": token})
        opener.open(request).close()
    return "; ".join(f"{c.name}={c.value}" for c in jar), token


def decision_body() -> list[str]:
    """wrk Lua: a decision as banner.js sends it, with a ``decision_id`` of its own per request
    (this run's random tag, thread number and counter), so every POST is a new decision, never
    a retry of one an earlier run stored."""
    run = os.urandom(4).hex()
    return [
        "local sent = 0",
        "function decision()",
        "  sent = sent + 1",
        """  return '{"categories": {"statistics": true}, "method": "banner", "decision_id": "'"""
        f""" .. string.format('bench-{run}-%02d-%012d', tid, sent) .. '"}}'""",
        "end",
    ]


def lua(path: Path, *, method: str = "GET", decisions: bool = False,
        headers: dict[str, str]) -> Path:
    lines = [f'wrk.method = "{method}"']
    lines += [f'wrk.headers["{name}"] = "{value}"' for name, value in headers.items()]
    if decisions:
        lines += [*decision_body(),
                  "function request() return wrk.format(nil, nil, nil, decision()) end"]
    # Count the 2xx answers wrk received (its own summary counts only non-2xx/3xx).
    lines += [
        "ok = 0",
        "function response(status, headers, body) if status < 300 then ok = ok + 1 end end",
        *REPORT_2XX,
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def counted_posts(path: Path, seconds: int, headers: dict[str, str]) -> Path:
    """POSTs that turn into GET /healthz for the run's last 2-3 seconds, so that no POST is in
    flight when wrk stops: then every receipt stored was answered, and stored must equal 2xx."""
    lines = [f'wrk.headers["{name}"] = "{value}"' for name, value in headers.items()]
    lines += [
        "ok = 0",
        "local stop_at = nil",
        *decision_body(),
        "local tail = wrk.format('GET', '/healthz', {}, nil)",
        "function request()",
        f"  if stop_at == nil then stop_at = os.time() + {seconds - 3} end",
        "  if os.time() < stop_at then return wrk.format('POST', nil, nil, decision()) end",
        "  return tail",
        "end",
        "function response(status, headers, body)",
        "  if status < 300 and string.find(body, 'receipt_id', 1, true) then ok = ok + 1 end",
        "end",
        *REPORT_2XX,
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def settled_count(store: ReceiptStore) -> int:
    """The receipt count once it has not changed for a second."""
    count = store.count()
    while True:
        time.sleep(1)
        now = store.count()
        if now == count:
            return count
        count = now


def run_wrk(url: str, seconds: int, connections: int, script: Path) -> dict[str, float]:
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--timeout", "20s",
               "--latency", "-s",
               str(script), url]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    ok = re.search(r"2xx: (\d+)", output)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)",
                       output)
    return {
        "rate": rate,
        "p50": _ms(re.search(r"50%\s+([\d.]+)(us|ms|s)", output)),
        "p99": _ms(re.search(r"99%\s+([\d.]+)(us|ms|s)", output)),
        "ok": float(ok.group(1)) if ok else float("nan"),
        "errors": float(sum(int(g) for g in errors.groups())) if errors else 0.0,
    }


def _ms(match: re.Match[str] | None) -> float:
    if not match:
        return float("nan")
    value, unit = float(match.group(1)), match.group(2)
    return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value


def bench(name: str, database_url: str, folder: Path, args: argparse.Namespace) -> list[str]:
    process, base = start_gunicorn(folder, database_url, args.workers)
    rows: list[str] = []
    try:
        undecided_cookies, token = browser(base, decide=False)
        decided_cookies, _ = browser(base, decide=True)
        json_post = {"Content-Type": "application/json", "X-CSRFToken": token,
                     "Cookie": undecided_cookies}
        cases = [
            ("GET /healthz", "/healthz", lua(folder / "h.lua", headers={})),
            ("GET / undecided", "/", lua(folder / "u.lua", headers={})),
            ("GET / decided", "/", lua(folder / "d.lua", headers={"Cookie": decided_cookies})),
            ("POST /consent", "/consent", lua(
                folder / "p.lua", method="POST", headers=json_post, decisions=True)),
        ]
        floor = 0.0
        for case, path, script in cases:
            result = run_wrk(f"{base}{path}", args.seconds, args.connections, script)
            floor = floor or result["rate"]
            rows.append(
                f"| {name} | {case} | {result['rate']:,.0f} | {result['rate'] / floor:.2f} | "
                f"{result['p50']:.1f} | {result['p99']:.1f} | {result['errors']:.0f} |"
            )
        # Nothing lost, nothing twice: a separate run whose last second sends no POST.
        store = open_store(database_url)
        try:
            before = settled_count(store)  # the speed run's abandoned POSTs may still commit
            check = counted_posts(folder / "c.lua", 6, json_post)
            result = run_wrk(f"{base}/consent", 6, args.connections, check)
            stored = settled_count(store) - before
        finally:
            store.close()
        verdict = "equal" if stored == result["ok"] else "DIFFERENT"
        rows.append(f"| {name} | receipts stored / POST 2xx answers (6 s run) | "
                    f"{stored} / {result['ok']:.0f} | {verdict} | | | "
                    f"{result['errors']:.0f} |")
    finally:
        process.terminate()
        process.wait(timeout=20)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed: apt-get install -y wrk")
    from tests.postgres import start_postgres  # the throwaway cluster of the test suite

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        sqlite_folder = Path(tmp) / "sqlite"
        sqlite_folder.mkdir()
        rows += bench("SQLite", f"sqlite:///{sqlite_folder / 'receipts.db'}", sqlite_folder, args)
        postgres = start_postgres()
        try:
            postgres.execute("CREATE DATABASE bench")
            pg_folder = Path(tmp) / "postgresql"
            pg_folder.mkdir()
            rows += bench("PostgreSQL", postgres.url("bench"), pg_folder, args)
        finally:
            postgres.stop()
    print(f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC; gunicorn.conf.py as shipped "
          f"({args.workers} workers x {os.environ.get('GUNICORN_THREADS', '4')} threads); "
          f"wrk -t2 -c{args.connections} -d{args.seconds}s on the same machine "
          f"({os.cpu_count()} cores); PostgreSQL: throwaway local cluster (tests/postgres.py: "
          "fsync=off), SQLite: WAL, synchronous=FULL")
    print()
    print("| backend | case | req/s | ratio to /healthz | p50 ms | p99 ms | socket errors |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
    for row in rows:
        print(row)


if __name__ == "__main__":
    main()
