"""The compiled user-agent fast path (``privacy._core.replace_agents``) and its Python reference
(``LogMasker._reduce_quoted_columns_py``) agree: on which blocks qualify as combined/main, and
byte for byte on what they make of those.

Realistic blocks from the benchmark's generator, every line kind of the tricky corpus, and
blocks built to sit just inside and just outside each rule of the fast path.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bench.generate_log import generate
from logrotate.lines import LogMasker
from privacy.ipmask import CORES
from tests.privacy.corpus import lines

LINE = b'198.51.100.7 - - [01/Dec/2026:10:00:00 +0000] "GET /x HTTP/1.1" 200 512 "-" "%s"\n'
AGENT = b"Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0"

#: name -> block; each one qualifies or not, the two paths must agree either way.
EDGES = {
    "plain": LINE % AGENT * 3,
    "no final newline": (LINE % AGENT * 2)[:-1],
    "apache escaped quote": LINE % b'Agent \\"quoted\\"' + LINE % AGENT,
    "backslash without quote": LINE % b"Agent \\x22 nginx" * 2,
    "eight quotes a line": (LINE % AGENT).replace(b"\n", b' "extra" "x"\n') * 2,
    "seven quotes a line": (LINE % AGENT).replace(b"\n", b' "odd\n') * 2,
    "lines differ in quotes": LINE % AGENT + (LINE % AGENT).replace(b"\n", b' "a" "b"\n'),
    "status not numeric": (LINE % AGENT).replace(b" 200 ", b" OK ") * 2,
    "size dash": (LINE % AGENT).replace(b" 512 ", b" - ") * 2,
    "double space in status": (LINE % AGENT).replace(b" 200 ", b" 200  ") * 2,
    "spaces shifted between lines": (LINE % AGENT).replace(b" 200 512 ", b" 200512 ")
    + (LINE % AGENT).replace(b" 200 512 ", b" 2 00 512 "),
    "no space before agent": (LINE % AGENT).replace(b'"-" "', b'"-""') * 2,
    "two spaces before agent": (LINE % AGENT).replace(b'"-" "', b'"-"  "') * 2,
    "one line without, one with two": (LINE % AGENT).replace(b'"-" "', b'"-""')
    + (LINE % AGENT).replace(b'"-" "', b'"-"  "'),
    "empty agent": LINE % b"" * 2,
    "dash agent": LINE % b"-" * 2,
    "agent too long to cache": LINE % (b"Mozilla/5.0 " + b"x" * 3000) * 2,
    "NUL byte": LINE % b"Agent\x00NUL" + LINE % AGENT,
    "not UTF-8": LINE % b"Agent \xff\xfe" * 2,
    "empty block": b"",
    "only newlines": b"\n\n",
}


@pytest.fixture(scope="module")
def compiled() -> None:
    if "c" not in CORES:
        if os.environ.get("CI") == "true":
            pytest.fail("the C core (privacy._core) is not built")
        pytest.skip("the C core is not built here")


def both(block: bytes) -> tuple[bytes | None, bytes | None]:
    fast, reference = LogMasker(core="c"), LogMasker(core="python")
    return fast._reduce_quoted_columns(block), reference._reduce_quoted_columns_py(block)


@pytest.mark.parametrize("name", EDGES)
def test_edge_blocks_agree(compiled, name: str) -> None:  # noqa: ANN001
    fast, reference = both(EDGES[name])
    assert fast == reference


def test_the_edges_cover_both_outcomes(compiled) -> None:  # noqa: ANN001
    outcomes = {name: both(block)[1] is not None for name, block in EDGES.items()}
    assert outcomes["plain"] and outcomes["empty agent"] and outcomes["eight quotes a line"]
    assert outcomes["spaces shifted between lines"]  # the rule counts spaces per block
    assert not outcomes["apache escaped quote"] and not outcomes["no final newline"]
    assert not outcomes["seven quotes a line"] and not outcomes["lines differ in quotes"]
    assert not outcomes["status not numeric"] and not outcomes["double space in status"]


def test_realistic_and_tricky_blocks_agree(compiled, tmp_path: Path) -> None:  # noqa: ANN001
    log = tmp_path / "access.log"
    generate(str(log), 60_000, seed=11)
    data = log.read_bytes()
    blocks = [data[start : start + (64 << 10)] for start in range(0, len(data), 64 << 10)]
    blocks = [block[: block.rfind(b"\n") + 1] for block in blocks]
    corpus = [line.encode() for line in lines(20_000, seed=9)]
    blocks += [b"\n".join(corpus[i : i + 500]) + b"\n" for i in range(0, len(corpus), 500)]
    fast, reference = LogMasker(core="c"), LogMasker(core="python")
    qualified = 0
    for block in blocks:
        expected = reference._reduce_quoted_columns_py(block)
        assert fast._reduce_quoted_columns(block) == expected
        qualified += expected is not None
    assert qualified >= 20  # the realistic blocks take the fast path


def test_the_whole_pipe_step_agrees_across_cores(compiled, tmp_path: Path) -> None:  # noqa: ANN001
    """What ``pipe`` writes, with each core: the same bytes."""
    log = tmp_path / "access.log"
    generate(str(log), 20_000, seed=12)
    data = log.read_bytes()
    results = []
    for core in ("c", "python"):
        masker = LogMasker(core=core)
        results.append(b"".join(
            masker.process(data[start : start + (32 << 10)])
            for start in range(0, len(data), 32 << 10)))
    assert results[0] == results[1]
