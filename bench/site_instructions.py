"""What a request costs the gunicorn worker, in CPU instructions (``make bench-site-instructions``).

``make bench-site`` measures throughput, which on a shared two-core machine moves by 20 % and
more from one run to the next; this counts instructions instead, with valgrind's callgrind,
which agrees within about 1.5 % between runs, whatever else the machine is doing. For each case a
real gunicorn (``gunicorn.conf.py``, one worker, SQLite) runs under callgrind and serves
``--small`` and then ``--large`` requests over one kept-alive connection; the difference of the
worker's instruction totals divided by the difference in requests is one request's cost, with
start-up and shutdown cancelled out. Printed side by side with ``/healthz`` of the same run.

It counts user-space instructions of the worker only: not the kernel (sockets, fsync), not
other processes, and one connection at a time, so what concurrency adds (waiting for the GIL,
for a batch's commit) is not in it; ``make bench-site`` measures that. Callgrind runs each case
about 50 times slower than normal, so the runs are short; two cases run at a time.
"""

from __future__ import annotations

import argparse
import glob
import http.client
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.site import migrated_server_env  # noqa: E402

USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36"
CASES = ("GET /healthz", "GET / undecided", "GET / decided", "POST /consent")


def worker_instructions(case: str, requests: int, folder: Path) -> int:
    """The gunicorn worker's instruction total after serving ``requests`` of ``case``."""
    folder.mkdir()
    env, port = migrated_server_env(folder, f"sqlite:///{folder / 'receipts.db'}", workers=1)
    server = subprocess.Popen(
        ["valgrind", "--tool=callgrind", "--trace-children=yes",
         f"--callgrind-out-file={folder}/callgrind.%p",
         sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        _wait_until_up(port)
        _serve(case, requests, port)
    finally:
        server.terminate()
        server.wait(timeout=300)
    totals = []
    for path in glob.glob(f"{folder}/callgrind.*"):
        match = re.search(r"^(?:summary|totals): (\d+)", Path(path).read_text(errors="replace"),
                          re.M)
        if match:
            totals.append(int(match.group(1)))
    # The master and the worker each write a file; the worker is the one that served.
    return max(totals)


def _wait_until_up(port: int) -> None:
    for _ in range(600):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10).close()
            return
        except OSError:
            time.sleep(0.5)
    raise SystemExit("gunicorn under callgrind did not start")


def _serve(case: str, requests: int, port: int) -> None:
    """One browser: it loads the page (session and CSRF token), decides if the case needs a
    decided visitor, then sends ``requests`` requests of the case on one connection."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    cookies: dict[str, str] = {}

    def send(method: str, path: str, body: str | None = None, **headers: str) -> str:
        headers = {"User-Agent": USER_AGENT, **headers}
        if cookies and path != "/healthz":
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        text = response.read().decode()
        if response.status >= 300:
            raise SystemExit(f"{method} {path} answered {response.status}: {text[:200]}")
        for name, value in response.getheaders():
            if name.lower() == "set-cookie":
                key, _, rest = value.partition("=")
                cookies[key] = rest.split(";", 1)[0]
        return text

    page = send("GET", "/")
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    json_headers = {"Content-Type": "application/json", "X-CSRFToken": token}

    def decide(number: int) -> None:
        body = {"categories": {"statistics": True}, "method": "banner",
                "decision_id": f"instructions-{number:016d}"}
        send("POST", "/consent", json.dumps(body), **json_headers)

    if case == "GET / decided":
        decide(0)
    undecided = dict(cookies) if case != "GET / decided" else None
    for number in range(1, requests + 1):
        if case == "GET /healthz":
            send("GET", "/healthz")
        elif case == "POST /consent":
            cookies.clear()
            cookies.update(undecided or {})  # every decision is a first one, as in bench-site
            decide(number)
        else:
            send("GET", "/")
    connection.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--small", type=int, default=100)
    parser.add_argument("--large", type=int, default=400)
    args = parser.parse_args()
    if not shutil.which("valgrind"):
        raise SystemExit("bench-site-instructions needs valgrind (apt-get install valgrind)")
    with tempfile.TemporaryDirectory() as tmp, ThreadPoolExecutor(2) as pool:
        runs = {
            (case, count): pool.submit(
                worker_instructions, case, count, Path(tmp) / f"{index}-{count}"
            )
            for index, case in enumerate(CASES)
            for count in (args.small, args.large)
        }
        per_request = {
            case: (runs[case, args.large].result() - runs[case, args.small].result())
            / (args.large - args.small)
            for case in CASES
        }
    floor = per_request["GET /healthz"]
    print(f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC; gunicorn.conf.py, 1 worker under callgrind, "
          f"SQLite; ({args.large} - {args.small}) requests on one kept-alive connection")
    print()
    print("| case | instructions per request | x /healthz | /healthz / case |")
    print("| --- | ---: | ---: | ---: |")
    for case, cost in per_request.items():
        print(f"| {case} | {cost / 1e6:.2f} M | {cost / floor:.2f} | {floor / cost:.2f} |")


if __name__ == "__main__":
    main()
