"""``scan`` (the operator's proof) and ``nightly`` (the timer's job) on real folders."""

from __future__ import annotations

import gzip
import json
import os
import re
from datetime import timedelta
from pathlib import Path

import pytest

from tests.logrotate.conftest import ROOT
from tests.logrotate.logdata import CHROME, NOW, combined_line, many_lines


def test_scan_finds_unmasked_lines_until_anonymised(tmp_path: Path, run_cli) -> None:
    logs = tmp_path / "logs"
    (logs / "old").mkdir(parents=True)
    clean = combined_line("203.0.113.0", agent="Chrome 120 / Windows 10 / pc")
    unreduced = combined_line("203.0.113.0", agent=CHROME)  # its version token is no address
    (logs / "access.log").write_text(
        clean * 3 + combined_line("203.0.113.0", "/?ip=198.51.100.7", agent="bot / x") + unreduced
    )
    (logs / "old" / "access.log.2.gz").write_bytes(gzip.compress(many_lines(30)))
    (logs / "error.log").write_text("2026/11/24 10:00:00 [error] 1#1: client: 2001:db8::5\n")
    (logs / "clean.log").write_text(clean)

    found = run_cli("scan", str(logs))

    assert found.returncode == 1
    out = found.stdout.decode().splitlines()
    assert f"{logs / 'access.log'}:4: unmasked 198.51.100.7" in out
    assert f"{logs / 'access.log'}:5: unreduced user agent" in out
    assert f"{logs / 'error.log'}:1: unmasked 2001:db8::5" in out
    gz = logs / "old" / "access.log.2.gz"
    assert f"{gz}:1: unmasked 2001:db8:0:1::1, 203.0.113.1; unreduced user agent" in out
    assert f"{gz}: ... 30 lines that pipe would change in all" in out
    assert not any("clean.log" in line for line in out)
    assert b"4 files, 3 with unmasked addresses or user agents, 0 unreadable" in found.stderr

    anonymised = run_cli(
        "anonymise",
        str(logs / "access.log"),
        str(logs / "error.log"),
        str(logs / "old" / "access.log.2.gz"),
    )
    assert anonymised.returncode == 0
    clean_scan = run_cli("scan", str(logs))
    assert clean_scan.returncode == 0, clean_scan.stdout
    assert clean_scan.stdout == b""


def test_scan_reports_unreadable_files(tmp_path: Path, run_cli) -> None:
    (tmp_path / "broken.log.gz").write_bytes(gzip.compress(many_lines(500))[:300])
    result = run_cli("scan", str(tmp_path))
    assert result.returncode == 1
    assert f"{tmp_path / 'broken.log.gz'}: truncated gzip file" in result.stderr.decode()


def write_config(tmp_path: Path, logs: Path) -> Path:
    config = tmp_path / "nightly.toml"
    config.write_text(
        f"""
anonymise = ["{logs}/*.log.[0-9]*", "{logs}/*.log-*"]
purge = ["{logs}"]
days = 7
state_dir = "{tmp_path / "state"}"
report = "{tmp_path / "state" / "report.json"}"
"""
    )
    return config


def test_nightly_does_all_it_can_then_fails(tmp_path: Path, run_cli) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "access.log.1").write_bytes(many_lines(100))
    (logs / "access.log-20261120.gz").write_bytes(gzip.compress(many_lines(50)))
    broken = logs / "access.log.3.gz"
    broken.write_bytes(gzip.compress(many_lines(500))[:200])
    old = (NOW - timedelta(days=9)).strftime("%d/%b/%Y:%H:%M:%S +0000")
    (logs / "access.log.8").write_text(combined_line("192.0.2.1", when=old))
    (logs / "access.log.9").write_text(combined_line("192.0.2.2", when=old))
    assert (
        run_cli(
            "hold",
            "add",
            str(logs / "access.log.9"),
            "--reason",
            "incident",
            "--until",
            "2099-01-01",
            env={"LOGROTATE_STATE_DIR": str(tmp_path / "state")},
        ).returncode
        == 0
    )
    config = write_config(tmp_path, logs)

    result = run_cli("nightly", "--config", str(config))

    assert result.returncode == 1
    assert f"{broken}: truncated gzip file" in result.stderr.decode()
    summary = result.stdout.decode().strip()
    assert summary == (
        "nightly: 5 files (4 anonymised, 0 already done), 152 lines, 170 addresses masked, "
        "1 deleted, 1 kept under hold, 0 warnings, 1 errors"
    )
    report = json.loads((tmp_path / "state" / "report.json").read_text())
    assert report["files_deleted"] == [str(logs / "access.log.8")]
    assert report["holds_honoured"] == [str(logs / "access.log.9")]
    assert report["lines"] == 152 and report["addresses_masked"] == 170
    assert len(report["errors"]) == 1
    anonymised = (logs / "access.log.1").read_bytes()
    assert anonymised.startswith(b"2001:db8:: - - ")  # 2001:db8:0:1::1 at /48
    assert b"\n198.51.100.0 - - " in anonymised

    broken.unlink()
    second = run_cli("nightly", "--config", str(config))
    assert second.returncode == 0, second.stderr
    assert second.stdout.decode().startswith(
        "nightly: 3 files (0 anonymised, 3 already done), 0 lines"
    )


def test_nightly_rejects_a_bad_config(tmp_path: Path, run_cli) -> None:
    config = tmp_path / "bad.toml"
    config.write_text('anonymise = ["x"]\npurge_days = 3\n')
    result = run_cli("nightly", "--config", str(config))
    assert result.returncode == 1
    assert b"unknown settings: purge_days" in result.stderr


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("0", "days must be at least 1 (got 0)"),
        ("-3", "days must be at least 1 (got -3)"),
        ("0.5", "days must be at least 1 (got 0.5)"),
        ("nan", "days must be at least 1 (got nan)"),
        ("inf", "days must be at least 1 (got inf)"),
        ("true", "days must be a number, got True"),
        ('"7"', "days must be a number, got '7'"),
    ],
)
def test_nightly_refuses_days_that_would_delete_the_live_log(
    tmp_path: Path, run_cli, value: str, message: str
) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    live = logs / "access.log"
    live.write_bytes(many_lines(10))
    rotated = logs / "access.log.1"
    rotated.write_bytes(many_lines(10))
    config = tmp_path / "nightly.toml"
    config.write_text(
        f'anonymise = ["{logs}/*.log.[0-9]*"]\npurge = ["{logs}"]\ndays = {value}\n'
        f'state_dir = "{tmp_path / "state"}"\n'
    )

    result = run_cli("nightly", "--config", str(config))

    assert result.returncode == 1
    assert f"{config}: {message}".encode() in result.stderr
    assert live.read_bytes() == many_lines(10) == rotated.read_bytes()  # nothing done at all


def test_nightly_accepts_one_day(tmp_path: Path, run_cli) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "access.log").write_bytes(many_lines(10))  # entries two hours old
    config = tmp_path / "nightly.toml"
    config.write_text(f'purge = ["{logs}"]\ndays = 1\nstate_dir = "{tmp_path / "state"}"\n')
    result = run_cli("nightly", "--config", str(config))
    assert result.returncode == 0, result.stderr
    assert (logs / "access.log").exists()


def test_nightly_optional_folders_are_skipped_required_ones_fail(tmp_path: Path, run_cli) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    missing = tmp_path / "website"
    config = tmp_path / "nightly.toml"
    state = tmp_path / "state"
    report_file = state / "report.json"

    def write(purge: str) -> None:
        config.write_text(f'purge = [{purge}]\nstate_dir = "{state}"\nreport = "{report_file}"\n')

    write(f'"{logs}", "-{missing}"')
    optional = run_cli("nightly", "--config", str(config))
    assert optional.returncode == 0, optional.stderr
    assert json.loads(report_file.read_text())["optional_folders_absent"] == [str(missing)]

    write(f'"{logs}", "{missing}"')  # without the "-", a missing folder is a mistake
    required = run_cli("nightly", "--config", str(config))
    assert required.returncode == 1
    assert f"{missing}: No such file or directory".encode() in required.stderr

    missing.mkdir()
    old = (NOW - timedelta(days=9)).strftime("%d/%b/%Y:%H:%M:%S +0000")
    (missing / "access.log.3").write_text(combined_line("192.0.2.1", when=old))
    write(f'"{logs}", "-{missing}"')  # present: purged like any other folder
    present = run_cli("nightly", "--config", str(config))
    assert present.returncode == 0, present.stderr
    assert not (missing / "access.log.3").exists()
    assert json.loads(report_file.read_text())["optional_folders_absent"] == []


def shipped_config_under(root: Path) -> Path:
    """``logrotate/deploy/nightly.toml`` with every absolute path moved below ``root``."""
    text = (ROOT / "logrotate" / "deploy" / "nightly.toml").read_text()
    text = text.replace('"/var/', f'"{root}/var/').replace('"-/var/', f'"-{root}/var/')
    settings = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    paths = re.findall(r'"-?(/[^"]*)"', "\n".join(settings))
    assert paths and all(path.startswith(f"{root}/") for path in paths)  # nothing outside
    config = root / "nightly.toml"
    config.write_text(text)
    return config


def test_shipped_config_runs_on_a_server_without_var_log_website(tmp_path: Path, run_cli) -> None:
    """Before: the shipped config failed (exit 1) where /var/log/website does not exist."""
    nginx_logs = tmp_path / "var" / "log" / "nginx"
    nginx_logs.mkdir(parents=True)
    live = many_lines(5)
    (nginx_logs / "access.log").write_bytes(live)
    rotated = nginx_logs / "access.log-20261123"
    rotated.write_bytes(many_lines(20))
    config = shipped_config_under(tmp_path)

    result = run_cli("nightly", "--config", str(config), "--json")

    assert result.returncode == 0, result.stderr
    assert b"0 errors" in result.stdout
    assert rotated.read_bytes() != many_lines(20)
    assert (nginx_logs / "access.log").read_bytes() == live  # the live log is never rewritten
    report = json.loads((tmp_path / "var/lib/logrotate-anon/nightly-report.json").read_text())
    assert report["optional_folders_absent"] == [str(tmp_path / "var" / "log" / "website")]


def test_nightly_warns_about_trailing_garbage_and_masks_the_members(
    tmp_path: Path, run_cli
) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    log = logs / "access.log.2.gz"
    log.write_bytes(gzip.compress(many_lines(30)) + b"garbage 198.51.100.1\n")
    config = write_config(tmp_path, logs)

    result = run_cli("nightly", "--config", str(config))

    assert result.returncode == 0, result.stderr
    assert f"logrotate: warning: {log}: decompression OK".encode() in result.stderr
    assert b"1 warnings, 0 errors" in result.stdout
    report = json.loads((tmp_path / "state" / "report.json").read_text())
    assert len(report["warnings"]) == 1 and report["errors"] == []
    assert b"198.51.100.1" not in gzip.decompress(log.read_bytes())


def test_nightly_refuses_a_hard_linked_log_and_does_the_rest(tmp_path: Path, run_cli) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    linked = logs / "access.log.1"
    linked.write_bytes(many_lines(20))
    os.link(linked, tmp_path / "copy-for-ticket.log")
    other = logs / "access.log.2"
    other.write_bytes(many_lines(20))
    config = write_config(tmp_path, logs)

    result = run_cli("nightly", "--config", str(config))

    assert result.returncode == 1
    assert f"{linked}: has 2 hard links; left as it was".encode() in result.stderr
    assert linked.read_bytes() == many_lines(20) == (tmp_path / "copy-for-ticket.log").read_bytes()
    assert other.read_bytes() != many_lines(20)  # the others are still done


# Three IIS W3C files in one run. a.log and b.log announce different layouts; c.log has no
# #Fields: line (a cut-off file), and its lines have b.log's column count, with a referer where
# b.log has the user agent. Each file must start with no layout known: c.log is then a file
# of unknown format, masked everywhere and otherwise kept.
IIS_A = (
    "#Software: Microsoft Internet Information Services 10.0\n"
    "#Fields: date time c-ip cs(User-Agent) sc-status\n"
    f"2026-11-24 10:00:00 203.0.113.9 {CHROME.replace(' ', '+')} 200\n"
)
IIS_B = (
    "#Fields: date time s-ip cs-method cs-uri-stem c-ip cs(User-Agent) sc-status\n"
    f"2026-11-24 10:00:01 192.0.2.1 GET / 2001:db8:1:2::5 {CHROME.replace(' ', '+')} 200\n"
)
IIS_C = (
    "2026-11-24 10:00:02 192.0.2.1 GET /kontakt 198.51.100.23 http://203.0.113.77/a 200\n"
    "2026-11-24 10:00:03 192.0.2.1 GET / 2001:db8:1:2::6 https://[2001:db8:9:8::1]/ 304\n"
)
ADDRESS = re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}\b|[0-9a-f]*:[0-9a-f:]*:[0-9a-f]*")


def masked_by_oracle(text: str) -> bool:
    """Every address in ``text`` is its own /24 (IPv4) or /48 (IPv6) network address."""
    import ipaddress

    for literal in ADDRESS.findall(text):
        try:
            address = ipaddress.ip_address(literal)
        except ValueError:
            continue
        prefix = 24 if address.version == 4 else 48
        if ipaddress.ip_network((address, prefix), strict=False).network_address != address:
            return False
    return True


@pytest.mark.parametrize("how", ["nightly", "anonymise --jobs 1"])
def test_each_file_starts_without_an_iis_layout(tmp_path: Path, run_cli, how: str) -> None:
    from logrotate.lines import LogMasker

    logs = tmp_path / "logs"
    logs.mkdir()
    for name, text in (("a", IIS_A), ("b", IIS_B), ("c", IIS_C)):
        (logs / f"u_ex261124-{name}.log.1").write_text(text)
    if how == "nightly":
        result = run_cli("nightly", "--config", str(write_config(tmp_path, logs)))
    else:
        result = run_cli("anonymise", "--jobs", "1", *sorted(map(str, logs.iterdir())))
    assert result.returncode == 0, result.stderr

    a, b, c = ((logs / f"u_ex261124-{name}.log.1").read_text() for name in "abc")
    assert "203.0.113.0 Chrome+120+/+Windows+10+/+pc 200\n" in a  # a.log's own layout
    assert "/ 2001:db8:1:: Chrome+120+/+Windows+10+/+pc 200\n" in b  # b.log's own layout
    # c.log: not read with b.log's layout (that would put a reduced user agent in place of
    # each referer); its text is kept and every address masked, as a fresh masker does it
    assert c == LogMasker().process(IIS_C.encode()).decode()
    assert "/kontakt 198.51.100.0 http://203.0.113.0/a 200\n" in c
    assert "/ 2001:db8:1:: https://[2001:db8:9::]/ 304\n" in c
    assert all(masked_by_oracle(text) for text in (a, b, c))
    assert not masked_by_oracle(IIS_C)  # the oracle sees the raw addresses
