"""The shipped deployment files checked by the tools that read them on a Debian 12 server:
``logrotate`` next to Debian's own /etc/logrotate.d/nginx, ``systemd-analyze verify`` on the
units, ``rsyslogd -N1`` on the fallback route, and the rules a tool does not check (writable
paths that exist, no secret in the env example, journald retention within 7 days)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from logrotate.lines import LogMasker
from tests.deploy.conftest import (
    DEPLOY,
    JOB_DEPLOY,
    ROOT,
    SHIPPED_LOG_JOB,
    log_anonymiser,
    need,
    need_file,
    run,
    substitute,
)
from tests.logrotate.logdata import many_lines

UNITS = {
    "website.service": DEPLOY / "website.service",
    "nginx-log-mask@access.service": DEPLOY / "nginx-log-mask@.service",
    "nginx-log-mask@error.service": DEPLOY / "nginx-log-mask@.service",
    "logrotate-anon.service": JOB_DEPLOY / "logrotate-anon.service",
    "logrotate-anon.timer": JOB_DEPLOY / "logrotate-anon.timer",
    "website-seal.service": DEPLOY / "website-seal.service",
    "website-seal.timer": DEPLOY / "website-seal.timer",
}


# --- logrotate ----------------------------------------------------------------------------------


def logrotate_tree(tmp_path: Path, snippets: dict[str, str]) -> tuple[Path, Path]:
    """Debian's /etc/logrotate.conf including a folder in tmp_path that holds ``snippets``
    (name → text), every /var/log path moved to tmp_path/var/log."""
    confd = tmp_path / "logrotate.d"
    confd.mkdir()
    for name, text in snippets.items():
        (confd / name).write_text(text.replace("/var/log/", f"{tmp_path}/var/log/"))
    main = tmp_path / "logrotate.conf"
    main.write_text(
        substitute(
            need_file("/etc/logrotate.conf").read_text(),
            {"include /etc/logrotate.d": f"include {confd}"},
        )
    )
    for folder in ("nginx", "website"):
        (tmp_path / "var" / "log" / folder).mkdir(parents=True)
    return main, tmp_path / "logrotate.state"


def debian_nginx_snippet() -> str:
    return need_file("/etc/logrotate.d/nginx").read_text()


def test_shipped_snippets_work_next_to_debians_nginx_snippet(tmp_path: Path) -> None:
    """As installed (docs/deployment.md): Debian's file diverted to nginx.dpkg-dist, which
    logrotate skips, the shipped one in its place, and the site's own snippet."""
    logrotate = need("logrotate")
    main, state = logrotate_tree(
        tmp_path,
        {
            "nginx.dpkg-dist": debian_nginx_snippet(),
            "nginx": (JOB_DEPLOY / "logrotate-nginx").read_text(),
            "website": (JOB_DEPLOY / "logrotate-website").read_text(),
        },
    )
    (tmp_path / "var/log/nginx/masked-access.log").write_text("x\n")
    (tmp_path / "var/log/website/access.log").write_text("x\n")
    state.write_text(  # both last rotated long ago: the debug run goes through a rotation
        "logrotate state -- version 2\n"
        f'"{tmp_path}/var/log/nginx/masked-access.log" 2000-01-01-3:0:0\n'
        f'"{tmp_path}/var/log/website/access.log" 2000-01-01-3:0:0\n'
    )

    result = run([logrotate, "-d", "-s", str(state), str(main)])

    assert result.returncode == 0, result.stderr
    output = result.stdout + result.stderr
    assert "error:" not in output and "duplicate log entry" not in output
    assert "Ignoring nginx.dpkg-dist, because of *.dpkg-dist pattern match" in output
    assert f"rotating pattern: {tmp_path}/var/log/nginx/*.log  after 1 days (7 rotations)" in (
        output
    )
    assert f"rotating pattern: {tmp_path}/var/log/website/*.log  after 1 days (7 rotations)" in (
        output
    )
    assert output.count("log needs rotating") == 2
    assert "systemctl try-reload-or-restart nginx-log-mask@access.service" in output


def test_a_second_snippet_for_nginx_logs_is_what_breaks_rotation(tmp_path: Path) -> None:
    """The other side: the former recipe, the shipped rules as an extra file next to Debian's
    snippet, makes logrotate refuse it; hence the diversion."""
    logrotate = need("logrotate")
    main, state = logrotate_tree(
        tmp_path,
        {
            "nginx": debian_nginx_snippet(),
            "website-logs": (JOB_DEPLOY / "logrotate-nginx").read_text(),
        },
    )
    (tmp_path / "var/log/nginx/access.log").write_text("x\n")

    result = run([logrotate, "-d", "-s", str(state), str(main)])

    assert result.returncode == 1
    assert "duplicate log entry" in result.stderr


def test_real_rotation_signals_the_readers_and_anonymises_the_rotated_file(
    tmp_path: Path,
) -> None:
    """A real (forced) rotation with the shipped snippet; systemctl and invoke-rc.d are stand-ins
    on PATH that record their arguments, the anonymise hook runs for real."""
    logrotate = need("logrotate")
    text = substitute(
        (JOB_DEPLOY / "logrotate-nginx").read_text(),
        {
            SHIPPED_LOG_JOB: log_anonymiser(),
            "/usr/lib/rsyslog/rsyslog-rotate": str(tmp_path / "bin" / "rsyslog-rotate"),
        },
    )
    if os.geteuid() != 0:  # only root can give the new file to www-data
        text = text.replace("create 0640 www-data adm", "create 0640")
    main, state = logrotate_tree(tmp_path, {"nginx": text})
    calls = tmp_path / "calls"
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("systemctl", "invoke-rc.d", "rsyslog-rotate"):
        stub = bin_dir / tool
        stub.write_text(f'#!/bin/sh\necho "{tool} $*" >> {calls}\n')
        stub.chmod(0o755)
    log = tmp_path / "var/log/nginx/masked-access.log"
    raw = many_lines(40)  # as if something had written raw lines: the hook masks them
    log.write_bytes(raw)
    environment = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"}

    result = run([logrotate, "-f", "-s", str(state), str(main)], env=environment)

    assert result.returncode == 0, result.stderr
    assert log.read_bytes() == b""  # the new, empty file
    (rotated,) = (tmp_path / "var/log/nginx").glob("masked-access.log-*")
    assert re.fullmatch(r"masked-access\.log-\d{8}", rotated.name)
    assert rotated.read_bytes() == LogMasker().process(raw)
    assert calls.read_text().splitlines() == [
        "systemctl try-reload-or-restart nginx-log-mask@access.service "
        "nginx-log-mask@error.service",
        "rsyslog-rotate ",
        "invoke-rc.d nginx rotate",
    ]
    assert not list((tmp_path / "var/log/nginx").glob("*.gz"))  # delaycompress: next night
    assert all(not name.startswith(".") for name in os.listdir(tmp_path / "var/log/nginx"))


# --- systemd ------------------------------------------------------------------------------------


def stub_install(tmp_path: Path) -> Path:
    """/opt/website as the units expect it: the venv's programs (stand-ins) in tmp_path."""
    site = tmp_path / "opt" / "website"
    bin_dir = site / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    for program in ("python", "flask", "gunicorn", "log-anonymiser"):
        (bin_dir / program).write_text("#!/bin/sh\n")
        (bin_dir / program).chmod(0o755)
    return site


def test_units_pass_systemd_analyze_verify(tmp_path: Path) -> None:
    """No running systemd needed: verify loads the unit files from a folder and checks every
    key, dependency and program path (programs under /opt/website are moved to tmp_path)."""
    analyze = need("systemd-analyze")
    need_file("/lib/systemd/system/nginx.service")
    site = stub_install(tmp_path)
    units = tmp_path / "units"
    units.mkdir()
    for source in sorted(set(UNITS.values())):
        text = source.read_text().replace("/opt/website", str(site))
        (units / source.name).write_text(text)
    names = [str(units / name) for name in UNITS]  # templates are verified as instances

    result = run([analyze, "verify", *names], env={**os.environ, "SYSTEMD_LOG_COLOR": "0"})

    assert result.returncode == 0, result.stderr
    ours = [line for line in result.stderr.splitlines() if str(units) in line or "@" in line]
    assert ours == [], result.stderr  # not even a warning (unknown keys only warn)


def test_verify_catches_a_broken_unit(tmp_path: Path) -> None:
    """The other side: the check above would notice a typo or a missing program."""
    analyze = need("systemd-analyze")
    site = stub_install(tmp_path)
    text = (DEPLOY / "website.service").read_text().replace("/opt/website", str(site))
    broken = tmp_path / "website.service"
    broken.write_text(text.replace("NoNewPrivileges=", "NoNewPrivilege="))
    typo = run([analyze, "verify", str(broken)])
    assert "Unknown key 'NoNewPrivilege'" in typo.stderr
    broken.write_text(text.replace(f"{site}/.venv/bin/gunicorn", "/nonexistent/gunicorn"))
    missing = run([analyze, "verify", str(broken)])
    assert missing.returncode != 0 and "/nonexistent/gunicorn" in missing.stderr


def unit_values(path: Path, key: str) -> list[str]:
    values: list[str] = []
    for line in path.read_text().splitlines():
        if line.startswith(f"{key}="):
            values += line.split("=", 1)[1].split()
    return values


@pytest.mark.parametrize(
    "unit",
    sorted({path.name for path in UNITS.values()} - {"logrotate-anon.timer", "website-seal.timer"}),
)
def test_writable_paths_exist_or_are_optional(unit: str) -> None:
    """ProtectSystem=strict fails a unit whose ReadWritePaths= entry does not exist. Each one
    is optional ("-") or created by systemd for the unit (State/Logs/RuntimeDirectory=)."""
    path = next(path for path in UNITS.values() if path.name == unit)
    created = {
        f"{root}/{name}"
        for key, root in (
            ("StateDirectory", "/var/lib"),
            ("LogsDirectory", "/var/log"),
            ("RuntimeDirectory", "/run"),
        )
        for name in unit_values(path, key)
    }
    for entry in unit_values(path, "ReadWritePaths"):
        assert entry.startswith("-") or entry in created, f"{unit}: {entry} may not exist"


def test_website_unit_logs_where_the_purge_and_journald_retention_reach() -> None:
    unit = (DEPLOY / "website.service").read_text()
    assert "Environment=ACCESS_LOG=/var/log/website/access.log" in unit
    assert "LogsDirectory=website" in unit and "LogNamespace=website" in unit
    nightly = (JOB_DEPLOY / "nightly.toml").read_text()
    assert '"-/var/log/website"' in nightly  # purged after 7 days, optional folder
    assert "/var/log/website/*.log {" in (JOB_DEPLOY / "logrotate-website").read_text()


def seconds(value: str) -> int:
    match = re.fullmatch(r"(\d+)(day|h|min|s)", value)
    assert match, value
    return int(match[1]) * {"day": 86400, "h": 3600, "min": 60, "s": 1}[match[2]]


def test_journald_namespace_keeps_nothing_longer_than_7_days() -> None:
    """journald deletes whole files: an entry can live MaxRetentionSec plus the span of its
    file (MaxFileSec) plus the time until the next check (one more file span)."""
    settings = dict(
        line.split("=", 1)
        for line in (DEPLOY / "journald@website.conf").read_text().splitlines()
        if "=" in line and not line.startswith("#")
    )
    worst = seconds(settings["MaxRetentionSec"]) + 2 * seconds(settings["MaxFileSec"])
    assert worst <= 7 * 86400


def test_env_example_holds_no_secret_and_only_documented_settings() -> None:
    text = (DEPLOY / "website.env.example").read_text()
    readme = (ROOT / "README.md").read_text()
    assignments = [
        line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")
    ]
    for line in assignments:
        name, _, value = line.partition("=")
        assert re.fullmatch(r"[A-Z_]+", name), line
        assert f"`{name}`" in readme, f"{name} is not in README's configuration table"
        assert "SECRET" not in name and "PASSWORD" not in name, line
    assert "# SECRET_KEY=" in text and "secrets.token_urlsafe" in text  # how to make one


# --- rsyslog (the fallback route) ---------------------------------------------------------------


def test_rsyslog_fallback_passes_rsyslogd_validation_in_debians_config(tmp_path: Path) -> None:
    rsyslogd = need("rsyslogd")
    shipped = DEPLOY / "rsyslog-nginx-mask.conf"
    main = tmp_path / "rsyslog.conf"
    main.write_text(
        substitute(
            need_file("/etc/rsyslog.conf").read_text(),
            {"$IncludeConfig /etc/rsyslog.d/*.conf": f'include(file="{shipped}")'},
        )
    )
    result = run([rsyslogd, "-N1", "-f", str(main)])
    assert result.returncode == 0, result.stderr
    assert "error" not in result.stderr.lower()

    broken = tmp_path / "broken.conf"  # the other side: a typo is reported
    broken.write_text(shipped.read_text().replace("ratelimit.interval", "ratelimit.intervall"))
    main.write_text(main.read_text().replace(str(shipped), str(broken)))
    assert run([rsyslogd, "-N1", "-f", str(main)]).returncode != 0


def test_rsyslog_fallback_uses_its_own_socket_and_ruleset() -> None:
    """Fail closed: never /dev/log (journald there would store raw lines), and a ruleset of
    its own so no default rule writes the line to /var/log/syslog."""
    text = (DEPLOY / "rsyslog-nginx-mask.conf").read_text()
    site = (DEPLOY / "nginx-site.conf").read_text()
    assert re.search(r'socket="/run/nginx-log-mask\.sock" ruleset="nginx_mask"', text)
    assert "/dev/log" not in re.sub(r"#.*", "", text)
    for line in re.findall(r"# (?:access|error)_log syslog:[^;]*;", site):
        assert "server=unix:/run/nginx-log-mask.sock" in line


def test_every_nginx_server_block_logs_only_through_the_masking_route() -> None:
    """A server block without its own log lines would use nginx.conf's defaults, which on a
    stock Debian server write raw lines to /var/log/nginx/access.log."""
    text = re.sub(r"#.*", "", (DEPLOY / "nginx-site.conf").read_text())
    blocks = text.split("server {")[1:]
    assert len(blocks) == 2
    for block in blocks:
        assert re.findall(r"access_log (\S+)", block) == ["/run/nginx-log-mask/access/fifo"]
        assert re.findall(r"error_log (\S+)", block) == ["/run/nginx-log-mask/error/fifo"]
        assert "default_server" in block
    assert not re.search(r"^\s*http2\s", text, re.M)  # needs nginx 1.25.1; Debian 12 has 1.22


def test_shipped_files_run_the_installed_log_job() -> None:
    """Every shipped file that starts the log job runs the venv's console script: no
    ``PYTHONPATH``, no ``python -m logrotate``, no ``cd`` into the checkout first."""
    runs_it = {
        JOB_DEPLOY / "logrotate-anon.service",
        JOB_DEPLOY / "logrotate-anon.cron",
        JOB_DEPLOY / "logrotate-nginx",
        DEPLOY / "nginx-log-mask@.service",
        DEPLOY / "rsyslog-nginx-mask.conf",
    }
    for path in sorted({*DEPLOY.iterdir(), *JOB_DEPLOY.iterdir()}):
        text = path.read_text()
        assert "-m logrotate" not in text and "PYTHONPATH" not in text, path
        assert (SHIPPED_LOG_JOB in text) == (path in runs_it), path
