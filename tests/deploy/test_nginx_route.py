"""deploy/nginx-site.conf and the default logging route (nginx-log-mask@.service) on Debian's
nginx: ``nginx -t`` on Debian's own nginx.conf with the site included, a real nginx serving
requests whose log lines reach the disk masked, and the route failing closed without its reader.

The readers are started with the unit's own ExecStartPre/ExecStart command lines (paths moved
into tmp_path), so the commands systemd would run are the ones tested.
"""

from __future__ import annotations

import http.client
import os
import re
import shlex
import shutil
import signal
import socket
import ssl
import stat
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.deploy.conftest import (
    DEPLOY,
    ROOT,
    SHIPPED_LOG_JOB,
    log_anonymiser,
    need,
    need_file,
    need_root,
    run,
    self_signed_certificate,
    substitute,
)

UNIT = DEPLOY / "nginx-log-mask@.service"
INSTANCES = ("access", "error")


def nginx_binary() -> str:
    nginx = need("nginx")
    need_root("Debian's nginx.conf sets `user www-data` and nginx creates /var/lib/nginx/*")
    return nginx


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def unit_commands(key: str) -> list[str]:
    return [
        line.split("=", 1)[1]
        for line in UNIT.read_text().splitlines()
        if line.startswith(f"{key}=")
    ]


def nginx_version(nginx: str) -> tuple[int, ...]:
    output = run([nginx, "-v"]).stderr
    match = re.search(r"nginx/(\d+)\.(\d+)\.(\d+)", output)
    assert match, output
    return tuple(map(int, match.groups()))


@dataclass
class Route:
    """The FIFO route in tmp_path: runtime folders, FIFOs and their running readers."""

    tmp: Path
    run_dir: Path
    log_dir: Path
    readers: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def command(self, line: str, instance: str) -> list[str]:
        line = substitute(
            line.replace("%i", instance),
            {"/run/nginx-log-mask/": f"{self.run_dir}/"},
        )
        line = line.replace(SHIPPED_LOG_JOB, log_anonymiser())
        line = line.replace("/var/log/nginx/", f"{self.log_dir}/")
        return shlex.split(line)

    def start(self) -> None:
        for instance in INSTANCES:
            folder = self.run_dir / instance  # RuntimeDirectory=, made by systemd
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            for line in unit_commands("ExecStartPre"):
                result = run(self.command(line, instance), cwd=ROOT)
                assert result.returncode == 0, result.stderr
            assert stat.S_ISFIFO(os.stat(folder / "fifo").st_mode)
            (start,) = unit_commands("ExecStart")
            self.readers[instance] = subprocess.Popen(
                self.command(start, instance), cwd=ROOT, stderr=subprocess.PIPE
            )

    def stop(self) -> None:
        """As systemd stops the unit: the reader ends, the runtime folder is removed."""
        for process in self.readers.values():
            process.terminate()
            process.wait(timeout=30)
            assert process.stderr is not None
            process.stderr.close()
        self.readers.clear()
        for instance in INSTANCES:
            folder = self.run_dir / instance
            for entry in folder.iterdir():
                entry.unlink()
            folder.rmdir()


@pytest.fixture
def route(tmp_path: Path) -> Iterator[Route]:
    log_dir = tmp_path / "log"
    log_dir.mkdir()
    state = Route(tmp_path, tmp_path / "run" / "nginx-log-mask", log_dir)
    yield state
    for process in state.readers.values():
        process.kill()
        process.wait()
        assert process.stderr is not None
        process.stderr.close()


def build_config(
    tmp_path: Path,
    route: Route,
    ports: tuple[int, int] | None = None,
    nginx_conf: str | None = None,
) -> Path:
    """Debian's /etc/nginx/nginx.conf (as the package installs it, or ``nginx_conf``) including
    the shipped site file instead of sites-enabled/*, every path it would write moved into
    tmp_path."""
    cert, key = self_signed_certificate(tmp_path)
    site_text = DEPLOY.joinpath("nginx-site.conf").read_text()
    replacements = {
        "/etc/letsencrypt/live/www.example.de/fullchain.pem": str(cert),
        "/etc/letsencrypt/live/www.example.de/privkey.pem": str(key),
        "/run/nginx-log-mask/": f"{route.run_dir}/",
        "/opt/website/website/static/": f"{ROOT}/website/static/",
    }
    if ports is not None:
        https, http = ports
        replacements |= {
            "listen 443 ssl": f"listen 127.0.0.1:{https} ssl",
            "listen [::]:443 ssl": f"listen [::1]:{https} ssl",
            "listen 80 ": f"listen 127.0.0.1:{http} ",
            "listen [::]:80 ": f"listen [::1]:{http} ",
            # An upstream that cannot exist: every proxied request fails with 502 and an
            # error-log line naming the client.
            "http://127.0.0.1:8000": f"http://unix:{tmp_path}/no-upstream.sock",
        }
    site = tmp_path / "website-site.conf"
    site.write_text(substitute(site_text, replacements))
    moved = {
        "pid /run/nginx.pid;": f"pid {tmp_path}/nginx.pid;",
        "include /etc/nginx/sites-enabled/*;": f"include {site};",
    }
    if nginx_conf is None:
        nginx_conf = need_file("/etc/nginx/nginx.conf").read_text()
        moved |= {
            "error_log /var/log/nginx/error.log;": f"error_log {tmp_path}/nginx-error.log;",
            "access_log /var/log/nginx/access.log;": f"access_log {tmp_path}/access.log;",
        }
    else:
        moved["/run/nginx-log-mask/"] = f"{route.run_dir}/"
    conf = tmp_path / "nginx.conf"
    conf.write_text(substitute(nginx_conf, moved))
    return conf


def nginx_t(nginx: str, tmp_path: Path, conf: Path) -> subprocess.CompletedProcess[str]:
    # -e: nginx's built-in early error log, else it opens /var/log/nginx/error.log.
    return run([nginx, "-t", "-e", str(tmp_path / "early-error.log"), "-c", str(conf)])


def test_site_passes_nginx_t_with_its_readers_running(tmp_path: Path, route: Route) -> None:
    nginx = nginx_binary()
    assert nginx_version(nginx) >= (1, 22, 0)
    conf = build_config(tmp_path, route)
    route.start()

    result = nginx_t(nginx, tmp_path, conf)

    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr
    assert "[warn]" not in result.stderr and "[emerg]" not in result.stderr


def test_debian_nginx_conf_edited_as_documented_logs_through_the_readers_too(
    tmp_path: Path, route: Route
) -> None:
    """docs/deployment.md's `sed` line on a copy of Debian's nginx.conf: the http-level and
    main error logs point at the readers, and the result passes `nginx -t`."""
    nginx = nginx_binary()
    (command,) = [
        line
        for line in (ROOT / "docs" / "deployment.md").read_text().splitlines()
        if line.startswith("sed -i ") and line.endswith(" /etc/nginx/nginx.conf")
    ]
    copy = tmp_path / "debian-nginx.conf"
    copy.write_text(need_file("/etc/nginx/nginx.conf").read_text())
    edited = run(["sh", "-c", command.replace("/etc/nginx/nginx.conf", str(copy))])
    assert edited.returncode == 0, edited.stderr
    text = copy.read_text()
    assert "access_log /run/nginx-log-mask/access/fifo;" in text
    assert "\nerror_log /run/nginx-log-mask/error/fifo;" in text
    assert "/var/log/nginx/" not in text
    conf = build_config(tmp_path, route, nginx_conf=text)
    route.start()

    result = nginx_t(nginx, tmp_path, conf)

    assert result.returncode == 0, result.stderr
    route.stop()
    assert nginx_t(nginx, tmp_path, conf).returncode == 1  # and it fails closed


def test_without_its_reader_nginx_fails_at_once_and_writes_nothing(
    tmp_path: Path, route: Route
) -> None:
    """Fails closed: no reader means no FIFO folder, so nginx stops with an error; it neither
    waits for a reader nor creates a plain file that would hold raw lines (the old recipe,
    with a fixed FIFO path in /run, did both: after a reboot, and on every `nginx -t`)."""
    nginx = nginx_binary()
    conf = build_config(tmp_path, route)
    route.start()
    route.stop()

    result = nginx_t(nginx, tmp_path, conf)

    assert result.returncode == 1
    assert f'open() "{route.run_dir}/access/fifo" failed (2: No such file or directory)' in (
        result.stderr
    )
    assert not route.run_dir.joinpath("access").exists()
    assert sorted(path.name for path in route.log_dir.iterdir()) == []


def test_http2_on_directive_is_not_used_because_1_22_rejects_it(
    tmp_path: Path, route: Route
) -> None:
    """The other side of the 1.22 rule: the site file as it was (`http2 on;`) fails there."""
    nginx = nginx_binary()
    conf = build_config(tmp_path, route)
    route.start()
    site = tmp_path / "website-site.conf"
    site.write_text(
        site.read_text().replace(
            "ssl http2 default_server;", "ssl default_server;\n    http2 on;", 1
        )
    )

    result = nginx_t(nginx, tmp_path, conf)

    if nginx_version(nginx) < (1, 25, 1):
        assert result.returncode == 1
        assert 'unknown directive "http2"' in result.stderr
    else:
        assert result.returncode == 0, result.stderr


def wait_for(predicate, what: str) -> None:
    """Poll until true; the deadline only turns a hang into a failure, it measures nothing."""
    deadline = time.monotonic() + 30
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def get(port: int, path: str, tls: bool) -> int:
    if tls:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        connection: http.client.HTTPConnection = http.client.HTTPSConnection(
            "127.0.0.1", port, context=context, timeout=30
        )
    else:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", path, headers={"Host": "www.example.de"})
        return connection.getresponse().status
    finally:
        connection.close()


def test_real_nginx_writes_only_masked_lines_and_reopens_after_rotation(
    tmp_path: Path, route: Route
) -> None:
    """End to end on the default route: nginx (Debian's build and nginx.conf) → FIFO → pipe →
    masked-access.log / masked-error.log; then a rotation as the logrotate snippet does it
    (move the file, `systemctl reload` = SIGHUP to the reader's main process)."""
    nginx = nginx_binary()
    https, http = free_port(), free_port()
    conf = build_config(tmp_path, route, (https, http))
    route.start()
    server = subprocess.Popen(
        [nginx, "-e", str(tmp_path / "early-error.log"), "-c", str(conf), "-g", "daemon off;"],
        stderr=subprocess.PIPE,
    )
    access = route.log_dir / "masked-access.log"
    error = route.log_dir / "masked-error.log"
    try:

        def listening() -> bool:
            assert server.poll() is None, server.stderr.read() if server.stderr else ""
            with socket.socket() as probe:
                return probe.connect_ex(("127.0.0.1", http)) == 0

        wait_for(listening, "nginx to listen")
        assert get(http, "/lookup?ip=203.0.113.9", tls=False) == 301
        assert get(https, "/whois/198.51.100.23", tls=True) == 502  # no upstream

        wait_for(lambda: access.exists() and access.read_bytes().count(b"\n") >= 2, "2 lines")
        wait_for(
            lambda: error.exists() and b"while connecting to upstream" in error.read_bytes(),
            "error",
        )
        lines = access.read_text()
        assert "127.0.0.0 - - [" in lines and "GET /lookup?ip=203.0.113.0 HTTP/1.1" in lines
        assert "GET /whois/198.51.100.0 HTTP/1.1" in lines
        errors = error.read_text()
        assert "client: 127.0.0.0" in errors
        for raw in ("127.0.0.1 ", "203.0.113.9", "198.51.100.23", "client: 127.0.0.1,"):
            assert raw not in lines + errors

        # Rotation: the file moves away, the reader is told (ExecReload=/bin/kill -HUP $MAINPID;
        # the unit's shell execs the reader, so its PID is the main PID) and opens the file
        # again before it writes the next line.
        access.rename(route.log_dir / "masked-access.log-20261124")
        route.readers["access"].send_signal(signal.SIGHUP)
        assert get(http, "/after-rotation?ip=192.0.2.77", tls=False) == 301
        wait_for(
            lambda: access.exists() and b"/after-rotation" in access.read_bytes(),
            "the line after rotation in a new file",
        )
        assert b"ip=192.0.2.0 " in access.read_bytes()
        assert b"after-rotation" not in (route.log_dir / "masked-access.log-20261124").read_bytes()
    finally:
        server.send_signal(signal.SIGQUIT)
        server.wait(timeout=30)
        assert server.stderr is not None
        server.stderr.close()
    # Nothing anywhere in the test's folders holds a raw address.
    for path in tmp_path.rglob("*"):
        if path.is_file() and not stat.S_ISFIFO(path.stat().st_mode):
            content = path.read_bytes()
            assert b"203.0.113.9" not in content and b"198.51.100.23" not in content, path


# --- The fallback route: syslog to rsyslog's own socket -----------------------------------------


def switch_to_syslog(site: Path, socket_path: Path) -> None:
    """What docs/deployment.md tells the operator: comment out the FIFO lines of the site
    file and use the commented syslog lines instead."""
    text = site.read_text()
    fifo = re.compile(r"^(\s*)((?:access|error)_log \S+/fifo .*;)$", re.M)
    assert len(fifo.findall(text)) == 4
    text = fifo.sub(r"\1# \2", text)
    syslog = re.compile(r"^(\s*)# ((?:access|error)_log syslog:.*;)$", re.M)
    assert len(syslog.findall(text)) == 4
    text = syslog.sub(r"\1\2", text)
    site.write_text(substitute(text, {"unix:/run/nginx-log-mask.sock": f"unix:{socket_path}"}))


def rsyslog_config(tmp_path: Path, socket_path: Path, log_dir: Path) -> Path:
    """The shipped rsyslog file, run by a private rsyslogd that does not take /dev/log."""
    shipped = substitute(
        (DEPLOY / "rsyslog-nginx-mask.conf").read_text(),
        {
            "/run/nginx-log-mask.sock": str(socket_path),
            SHIPPED_LOG_JOB: log_anonymiser(),
            "/var/log/nginx/": f"{log_dir}/",
        },
    )
    (tmp_path / "rsyslog-nginx-mask.conf").write_text(shipped)
    main = tmp_path / "rsyslogd.conf"
    main.write_text(
        f'global(workDirectory="{tmp_path}")\n'
        'module(load="imuxsock" SysSock.Use="off")\n'
        f'include(file="{tmp_path}/rsyslog-nginx-mask.conf")\n'
    )
    return main


def start_nginx(nginx: str, tmp_path: Path, conf: Path, port: int) -> subprocess.Popen[bytes]:
    server = subprocess.Popen(
        [nginx, "-e", str(tmp_path / "early-error.log"), "-c", str(conf), "-g", "daemon off;"],
        stderr=subprocess.PIPE,
    )

    def listening() -> bool:
        assert server.poll() is None, server.stderr.read() if server.stderr else ""
        with socket.socket() as probe:
            return probe.connect_ex(("127.0.0.1", port)) == 0

    wait_for(listening, "nginx to listen")
    return server


def stop(process: subprocess.Popen[bytes], how: int = signal.SIGTERM) -> None:
    process.send_signal(how)
    process.wait(timeout=30)
    if process.stderr is not None:
        process.stderr.close()


@pytest.fixture
def socket_path() -> Iterator[Path]:
    """Where the syslog socket goes: nginx's workers (www-data) must reach it, and pytest's
    tmp_path is private to root, so a folder of its own below /tmp, like /run on a server."""
    folder = Path(tempfile.mkdtemp(prefix="nginx-log-mask-"))
    folder.chmod(0o711)
    yield folder / "nginx-log-mask.sock"
    shutil.rmtree(folder)


def test_syslog_fallback_writes_masked_lines_through_rsyslog(
    tmp_path: Path, route: Route, socket_path: Path
) -> None:
    nginx = nginx_binary()
    rsyslogd = need("rsyslogd")
    https, http = free_port(), free_port()
    conf = build_config(tmp_path, route, (https, http))
    switch_to_syslog(tmp_path / "website-site.conf", socket_path)
    daemon = subprocess.Popen(
        [rsyslogd, "-n", "-f", str(rsyslog_config(tmp_path, socket_path, route.log_dir)),
         "-i", str(tmp_path / "rsyslogd.pid")],
        stderr=subprocess.PIPE,
    )  # fmt: skip
    wait_for(socket_path.exists, "rsyslogd's socket")
    server = start_nginx(nginx, tmp_path, conf, http)
    access = route.log_dir / "masked-access.log"
    error = route.log_dir / "masked-error.log"
    try:
        assert get(http, "/lookup?ip=203.0.113.9", tls=False) == 301
        assert get(https, "/whois/198.51.100.23", tls=True) == 502
        wait_for(lambda: access.exists() and access.read_bytes().count(b"\n") >= 2, "2 lines")
        wait_for(
            lambda: error.exists() and b"while connecting to upstream" in error.read_bytes(),
            "error",
        )
    finally:
        stop(server, signal.SIGQUIT)
        stop(daemon)
    lines = access.read_text()
    assert lines.startswith("127.0.0.0 - - [")  # the bare line: no syslog header, no tag
    assert "GET /lookup?ip=203.0.113.0 HTTP/1.1" in lines
    assert "client: 127.0.0.0" in error.read_text()
    for path in tmp_path.rglob("*"):
        if path.is_file():
            content = path.read_bytes()
            assert b"203.0.113.9" not in content and b"198.51.100.23" not in content, path


def test_syslog_fallback_without_rsyslog_drops_lines_and_writes_nothing(
    tmp_path: Path, route: Route, socket_path: Path
) -> None:
    """Fails closed: no rsyslog, no socket: `nginx -t` does not wait, nginx serves and drops
    the log lines; no file with a raw line appears."""
    nginx = nginx_binary()
    https, http = free_port(), free_port()
    conf = build_config(tmp_path, route, (https, http))
    switch_to_syslog(tmp_path / "website-site.conf", socket_path)
    assert nginx_t(nginx, tmp_path, conf).returncode == 0
    server = start_nginx(nginx, tmp_path, conf, http)
    try:
        assert get(http, "/lookup?ip=203.0.113.9", tls=False) == 301
    finally:
        stop(server, signal.SIGQUIT)
    assert not socket_path.exists()
    assert list(route.log_dir.iterdir()) == []
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert b"203.0.113.9" not in path.read_bytes(), path
