"""Export benchmark: peak memory of a streamed receipt export against a materialised list.

    python bench/exports.py [--sizes 10000,100000] [--runs 3]   (or: make bench-exports)

Fills a temporary SQLite store with N receipts (a child process, so this process stays
small), then, in the same run, measures each case in a fresh child process and prints its peak
RSS (``ru_maxrss`` from ``wait4``: that child only) and wall time, the minimum of ``--runs``:

* ``flask receipts export --format csv`` and ``--format kantara``: the real command (streamed);
* ``materialised csv``: the same formatter over ``list(store.export())``, the baseline a
  naive export would be.

Output goes to /dev/null. A benchmark, not a test: nothing is asserted.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
BATCH = 5000


def fill(url: str, count: int) -> None:
    """Migrate a new store and insert ``count`` receipts (varied actions, days, devices)."""
    from website import create_app
    from website.store import upgrade
    from website.store.tables import notices, receipts

    upgrade(url)
    app = create_app({"SECRET_KEY": "bench", "DATABASE_URL": url})
    manager = app.extensions["consent"]
    catalog = manager.catalog
    notice = manager.notices["de"]
    engine = app.extensions["receipt_store"].engine
    start = datetime(2026, 1, 1, tzinfo=UTC)
    actions = ("accept_all", "reject_all", "custom", "withdraw")
    devices = ("Desktop", "Mobile", "Tablet")
    with engine.begin() as connection:
        connection.execute(notices.insert().values(
            notice_hash=notice.notice_hash, revision=notice.revision,
            language=notice.language, content=notice.content))
        rows = []
        for i in range(count):
            action = actions[i % 4]
            granted = {c.name: c.required or action == "accept_all" or
                       (action == "custom" and i % 3 == 0) for c in catalog.categories}
            created = start + timedelta(seconds=i * 30)
            rows.append({
                "receipt_id": str(uuid.UUID(int=i, version=4)),
                "consent_id": str(uuid.UUID(int=i // 2, version=4)),
                "created_at": created, "revision": catalog.revision,
                "notice_hash": notice.notice_hash, "language": "de", "method": "banner",
                "action": action, "categories": granted,
                "services": {s.name: granted[s.category] for s in catalog.services},
                "page_path": "/", "ip_prefix": "198.51.100.0", "ua_browser": "Firefox",
                "ua_os": "Linux", "ua_device": devices[i % 3], "decision_id": None,
                "policy_version": "2026-11-25", "policy_hash": "ab" * 32,
                "app_version": "0.2.0", "expires_at": created + timedelta(days=182),
                "gpc": False,
            })
            if len(rows) == BATCH:
                connection.execute(receipts.insert(), rows)
                rows = []
        if rows:
            connection.execute(receipts.insert(), rows)


def materialised(url: str) -> None:
    """The baseline: every receipt in a list first, then the same CSV formatter."""
    from website import create_app
    from website.consent.exports import export

    app = create_app({"SECRET_KEY": "bench", "DATABASE_URL": url})
    store = app.extensions["receipt_store"]
    controller = app.extensions["consent"].catalog.controller
    everything = list(store.export())
    with open(os.devnull, "w") as out:
        for chunk in export(everything, "csv", store.notice, controller):
            out.write(chunk)


def measure(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Peak RSS (MiB) and wall seconds of one child process."""
    began = time.perf_counter()
    with open(os.devnull, "wb") as null:
        child = subprocess.Popen(command, stdout=null, stderr=subprocess.PIPE, env=env)
        assert child.stderr is not None
        _, status, usage = os.wait4(child.pid, 0)
        error = child.stderr.read().decode()
        child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed: {error}")
    return usage.ru_maxrss / 1024, time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--child", choices=("fill", "materialised"))
    parser.add_argument("--url")
    parser.add_argument("--count", type=int, default=0)
    args = parser.parse_args()
    if args.child == "fill":
        fill(args.url, args.count)
        return
    if args.child == "materialised":
        materialised(args.url)
        return

    flask = str(Path(sys.executable).with_name("flask"))
    print(f"{'receipts':>9}  {'case':<28} {'peak RSS MiB':>12} {'seconds':>8}")
    results: dict[tuple[int, str], float] = {}
    with tempfile.TemporaryDirectory(prefix="bench-exports-") as folder:
        for size in (int(s) for s in args.sizes.split(",")):
            url = f"sqlite:///{folder}/receipts-{size}.db"
            subprocess.run([sys.executable, __file__, "--child", "fill", "--url", url,
                            "--count", str(size)], check=True, cwd=ROOT)
            env = {**os.environ, "DATABASE_URL": url, "INSTANCE_PATH": folder,
                   "SECRET_KEY": "bench", "PYTHONPATH": str(ROOT)}
            cases = {
                "streamed csv (CLI)": [flask, "--app", "wsgi", "receipts", "export",
                                       "--format", "csv"],
                "streamed kantara (CLI)": [flask, "--app", "wsgi", "receipts", "export",
                                           "--format", "kantara"],
                "materialised csv (list)": [sys.executable, __file__, "--child",
                                            "materialised", "--url", url],
            }
            for name, command in cases.items():
                runs = [measure(command, env) for _ in range(args.runs)]
                peak = min(r[0] for r in runs)
                seconds = min(r[1] for r in runs)
                results[(size, name)] = peak
                print(f"{size:>9}  {name:<28} {peak:>12.1f} {seconds:>8.2f}", flush=True)
    sizes = sorted({size for size, _ in results})
    largest = sizes[-1]
    streamed = results[(largest, "streamed csv (CLI)")]
    listed = results[(largest, "materialised csv (list)")]
    print(f"\nAt {largest} receipts the materialised list peaks at {listed / streamed:.2f}x the "
          "streamed export's RSS.")
    if len(sizes) > 1:
        small = results[(sizes[0], "streamed csv (CLI)")]
        print(f"Streamed CSV: {largest / sizes[0]:.0f}x the receipts, {streamed / small:.2f}x "
              "the peak RSS.")


if __name__ == "__main__":
    main()
