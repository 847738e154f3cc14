"""``pip install .`` from a copy of the project: with gcc it builds the C core, without a
compiler it still installs (pure-Python core); ``log-anonymiser --version`` says which."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from tests.logrotate.conftest import ROOT

SOURCES = ["pyproject.toml", "setup.py", "README.md", "privacy", "logrotate", "website"]


def test_version_names_the_core(run_cli) -> None:
    from privacy.ipmask import CORE

    result = run_cli("--version")
    assert result.returncode == 0
    expected = "C extension" if CORE == "c" else "pure Python"
    assert result.stdout.decode().startswith("log-anonymiser ")
    assert expected in result.stdout.decode()
    forced = run_cli("--version", env={"PRIVACY_CORE": "python"})
    assert "masking core: pure Python" in forced.stdout.decode()


def _install(tmp_path: Path, name: str, env: dict[str, str]) -> Path:
    source = tmp_path / f"{name}-src"
    source.mkdir()
    for item in SOURCES:
        if (ROOT / item).is_dir():
            shutil.copytree(
                ROOT / item, source / item, ignore=shutil.ignore_patterns("*.so", "__pycache__")
            )
        else:
            shutil.copy2(ROOT / item, source / item)
    target = tmp_path / f"{name}-venv"
    venv.EnvBuilder(with_pip=True).create(target)
    subprocess.run(
        [target / "bin" / "pip", "install", "-q", "--no-deps", str(source)],
        check=True,
        capture_output=True,
        env={**os.environ, **env},
        timeout=300,
    )
    return target


@pytest.mark.parametrize("compiler", ["gcc", "none"])
def test_pip_install_with_and_without_a_compiler(tmp_path: Path, compiler: str) -> None:
    if compiler == "gcc" and not shutil.which("gcc"):
        pytest.skip("no gcc here")  # CI images have it (.ci/run)
    env = {"CC": "gcc"} if compiler == "gcc" else {"CC": "/bin/false", "LDSHARED": "/bin/false"}
    target = _install(tmp_path, compiler, env)
    run_env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PRIVACY_CORE")}
    version = subprocess.run(
        [target / "bin" / "log-anonymiser", "--version"],
        cwd=tmp_path,  # not the checkout: the installed package must do
        capture_output=True,
        check=True,
        env=run_env,
    ).stdout.decode()
    expected = "C extension" if compiler == "gcc" else "pure Python (no C extension built)"
    assert f"masking core: {expected}" in version
    masked = subprocess.run(
        [target / "bin" / "log-anonymiser", "pipe", "--keep-user-agent"],
        cwd=tmp_path,
        input=b"203.0.113.9 - - addr:2001:db8:1:2::5\n",
        capture_output=True,
        check=True,
        env=run_env,
    ).stdout
    assert masked == b"203.0.113.0 - - addr:2001:db8:1::\n"
    assert sys.version_info >= (3, 11)


def test_the_wheel_holds_every_file_the_site_and_the_log_job_need(tmp_path: Path) -> None:
    """``pip install .`` (not only the editable install): every tracked file of the three
    packages (modules, templates, static files, catalogs, migrations, legal texts) is in the
    wheel, so an installed copy runs without the checkout."""
    source = tmp_path / "src"  # a clean copy: a stale build/ folder must not help
    source.mkdir()
    for item in SOURCES:
        if (ROOT / item).is_dir():
            shutil.copytree(ROOT / item, source / item,
                            ignore=shutil.ignore_patterns("*.so", "__pycache__"))
        else:
            shutil.copy2(ROOT / item, source / item)
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps",
         "-w", str(tmp_path), str(source)],
        check=True, capture_output=True, timeout=300,
        env={**os.environ, "CC": "/bin/false", "LDSHARED": "/bin/false"},  # no C core needed
    )
    import zipfile

    (wheel,) = tmp_path.glob("*.whl")
    packed = set(zipfile.ZipFile(wheel).namelist())
    tracked = subprocess.run(
        ["git", "ls-files", "website", "logrotate", "privacy"], cwd=ROOT, check=True,
        capture_output=True, text=True,
    ).stdout.split()
    if not tracked:  # not a git checkout (a copy of the sources): list the folder instead
        tracked = [str(p.relative_to(ROOT)) for d in ("website", "logrotate", "privacy")
                   for p in (ROOT / d).rglob("*") if p.is_file() and "__pycache__" not in p.parts]
    needed = {name for name in tracked if not name.endswith((".po", ".c", ".so"))}
    assert needed - packed == set()
