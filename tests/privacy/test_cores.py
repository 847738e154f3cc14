"""The C core and the pure-Python reference agree byte for byte, on a generated corpus.

300,000 lines: 250,000 of the benchmark's realistic combined log and 50,000 from
``corpus.py`` (every format and every tricky class, random "soup" around addresses), under
four prefix settings, with and without the user-agent version rule.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bench.generate_log import generate
from privacy import _pycore
from privacy.ipmask import CORES
from tests.privacy.corpus import lines

PREFIXES = [(24, 48), (16, 64), (32, 128), (20, 112)]


@pytest.fixture(scope="module")
def c_mask():  # noqa: ANN201
    if "c" not in CORES:
        if os.environ.get("CI") == "true":
            pytest.fail("the C core (privacy._core) is not built")
        pytest.skip("the C core is not built here")
    return CORES["c"]


def test_tricky_corpus_agrees(c_mask) -> None:  # noqa: ANN001
    corpus = [line.encode() for line in lines(50_000, seed=5)]
    changed = 0
    for number, start in enumerate(range(0, len(corpus), 2_500)):
        block = b"\n".join(corpus[start : start + 2_500])
        prefixes = PREFIXES[number % len(PREFIXES)]
        versions = number % 2 == 1
        expected = _pycore.mask(block, *prefixes, versions)
        assert c_mask(block, *prefixes, versions) == expected, (prefixes, versions)
        changed += expected[1]
    assert changed > 50_000  # the corpus is full of addresses
    # and line by line too (context at the edges of the data)
    for line in corpus[:5_000]:
        assert c_mask(line, 24, 48, False) == _pycore.mask(line, 24, 48, False), line


def test_realistic_log_agrees(c_mask, tmp_path: Path) -> None:  # noqa: ANN001
    log = tmp_path / "access.log"
    generate(str(log), 250_000, seed=3)
    data = log.read_bytes()
    start = number = 0
    while start < len(data):
        end = data.find(b"\n", start + (4 << 20)) + 1 or len(data)
        block = data[start:end]
        prefixes = PREFIXES[number % len(PREFIXES)]
        assert c_mask(block, *prefixes, False) == _pycore.mask(block, *prefixes, False)
        start, number = end, number + 1
    assert number >= 10


def test_bad_prefix_is_refused(c_mask) -> None:  # noqa: ANN001
    with pytest.raises(ValueError):
        c_mask(b"192.0.2.1", 33, 48)
    with pytest.raises(ValueError):
        c_mask(b"192.0.2.1", 24, 129)


def test_input_types(c_mask) -> None:  # noqa: ANN001
    """bytes, bytearray and memoryview are read without a copy; clean input comes back as is."""
    data = b"nothing to see here 1.2.3"
    result, changed = c_mask(data, 24, 48)
    assert result is data and changed == 0
    assert c_mask(bytearray(b"192.0.2.9"), 24, 48) == (b"192.0.2.0", 1)
    assert c_mask(memoryview(b"x 192.0.2.9 y"), 24, 48) == (b"x 192.0.2.0 y", 1)
    assert c_mask(b"", 24, 48) == (b"", 0)
