"""Fixtures for the masking package: every test that takes ``core`` runs on both cores.

The C core is built by ``make`` (``pip install -e .``). Without it those runs are skipped,
except under ``CI=true``, where a missing C core fails the run instead.
"""

from __future__ import annotations

import os

import pytest

from privacy.ipmask import CORES


@pytest.fixture(params=["c", "python"])
def core(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    if name not in CORES:
        if os.environ.get("CI") == "true":
            pytest.fail("the C core (privacy._core) is not built; run `make .venv/.dev`")
        pytest.skip("the C core is not built here (pip install -e . builds it)")
    return name
