"""Find lines that ``pipe`` would still change: the operator's proof that logs are clean.

A line is dirty if it holds an address that masking would change, or (unless the logs are
kept with ``--keep-user-agent``) a user-agent field that is not reduced. The check is the one
``pipe`` applies (``LogMasker.process``), so the two cannot disagree.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .files import LogFileError, read_chunks
from .lines import LogMasker, iter_blocks

__all__ = ["ScanResult", "iter_files", "scan_file"]

MAX_REPORTED_LINES = 20


@dataclass
class ScanResult:
    path: str
    lines: int = 0
    dirty_lines: int = 0
    examples: list[tuple[int, list[str]]] = field(default_factory=list)


def iter_files(paths: list[str]) -> Iterator[str]:
    """Regular files given directly, and every regular file below given folders (sorted)."""
    for path in paths:
        if os.path.isdir(path):
            for folder, subfolders, names in os.walk(path):
                subfolders.sort()
                for name in sorted(names):
                    full = os.path.join(folder, name)
                    if os.path.isfile(full) and not os.path.islink(full):
                        yield full
        else:
            yield path


def findings(masker: LogMasker, line: bytes) -> list[str]:
    """What ``pipe`` would change in ``line``: the addresses as written, then
    ``"unreduced user agent"`` if a user-agent field would be reduced."""
    if masker.keep_user_agent:
        found: list[str] = []
        pos = 0
        for start, end, _kind in masker.agent_spans(line):
            found += masker.text.find_unmasked(line[pos:start])
            found += masker.text.find_unmasked(line[start:end], versions=True)
            pos = end
        return found + masker.text.find_unmasked(line[pos:])
    reduced = masker.reduce(line)
    found = masker.text.find_unmasked(reduced)
    if reduced != line:
        found.append("unreduced user agent")
    return found


def scan_file(path: str | Path, masker: LogMasker) -> ScanResult:
    """Raises ``LogFileError`` if the file cannot be read."""
    masker.start_file()  # as anonymise_file: the file's own format state only
    result = ScanResult(str(path))
    try:
        for block in iter_blocks(read_chunks(path)):
            first_line = result.lines + 1
            result.lines += block.count(b"\n") + (not block.endswith(b"\n"))
            if masker.process(block) == block:  # fast: most blocks are clean
                continue
            for number, line in enumerate(block.split(b"\n"), first_line):
                found = findings(masker, line)
                if found:
                    result.dirty_lines += 1
                    if len(result.examples) < MAX_REPORTED_LINES:
                        result.examples.append((number, found))
    except FileNotFoundError as error:
        raise LogFileError(f"{path}: file not found (vanished?)") from error
    except OSError as error:
        raise LogFileError(f"{path}: cannot read: {error.strerror}") from error
    return result
