"""Load benchmark of the site under real gunicorn, measured with wrk (``make bench-site``).

Prints requests/s and latency for the liveness endpoint (the floor: gunicorn + Flask doing
nothing), a full page render (template, CSRF token, nonce, catalog config) and recording a
decision (JSON validation, receipt with fsync'd SQLite insert, signed cookie), side by side.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(folder: Path, workers: int) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {
        **os.environ,
        "PORT": str(port),
        "WEB_CONCURRENCY": str(workers),
        "INSTANCE_PATH": str(folder),
        "DATABASE_URL": f"sqlite:///{folder / 'receipts.db'}",
        "SECRET_KEY": "benchmark-only-key",
    }
    subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"],
                   cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
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


def session_for_posts(base: str) -> tuple[str, str]:
    """A browser's session cookie and CSRF token, as banner.js would send them."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(f"{base}/").read().decode()
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    cookies = "; ".join(f"{c.name}={c.value}" for c in jar)
    return cookies, token


def run_wrk(url: str, seconds: int, connections: int, script: Path | None) -> dict[str, float]:
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", url]
    if script:
        command[1:1] = ["-s", str(script)]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    p50 = re.search(r"50%\s+([\d.]+)(us|ms|s)", output)
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", output)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return {
        "rate": rate,
        "p50": _ms(p50),
        "p99": _ms(p99),
        "errors": float(non2xx.group(1)) if non2xx else 0.0,
    }


def _ms(match: re.Match[str] | None) -> float:
    if not match:
        return float("nan")
    value, unit = float(match.group(1)), match.group(2)
    return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed: apt-get install -y wrk")

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        process, base = start_gunicorn(folder, args.workers)
        try:
            cookies, token = session_for_posts(base)
            post = folder / "post.lua"
            post.write_text(
                'wrk.method = "POST"\n'
                'wrk.body = \'{"categories": {"statistics": true}, "source": "banner"}\'\n'
                'wrk.headers["Content-Type"] = "application/json"\n'
                f'wrk.headers["X-CSRFToken"] = "{token}"\n'
                f'wrk.headers["Cookie"] = "{cookies}"\n'
            )
            cases = [
                ("GET /healthz (floor)", f"{base}/healthz", None),
                ("GET / (page render)", f"{base}/", None),
                ("POST /consent (receipt)", f"{base}/consent", post),
            ]
            print(
                f"gunicorn gthread, {args.workers} workers x 4 threads; wrk -t2 "
                f"-c{args.connections} -d{args.seconds}s; both on this machine "
                f"({os.cpu_count()} cores)"
            )
            print(f"{'case':28} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'non-2xx':>8}")
            for name, url, script in cases:
                result = run_wrk(url, args.seconds, args.connections, script)
                print(
                    f"{name:28} {result['rate']:9.0f} {result['p50']:8.1f} "
                    f"{result['p99']:8.1f} {result['errors']:8.0f}"
                )
            with sqlite3.connect(folder / "receipts.db") as db:
                stored = db.execute("SELECT COUNT(*) FROM receipts").fetchone()[0]
            print(f"receipts stored during the POST run: {stored}")
        finally:
            process.terminate()
            process.wait(timeout=20)


if __name__ == "__main__":
    main()
