"""Find lines that still hold an unmasked address: the operator's proof that logs are clean."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from privacy.ipmask import TextMasker

from .files import LogFileError, read_chunks
from .lines import iter_blocks

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


def scan_file(path: str | Path, text: TextMasker) -> ScanResult:
    """Raises ``LogFileError`` if the file cannot be read."""
    result = ScanResult(str(path))
    try:
        for block in iter_blocks(read_chunks(path)):
            first_line = result.lines + 1
            result.lines += block.count(b"\n") + (not block.endswith(b"\n"))
            if text.mask(block) == block:  # fast: most blocks are clean
                continue
            for number, line in enumerate(block.split(b"\n"), first_line):
                found = text.find_unmasked(line)
                if found:
                    result.dirty_lines += 1
                    if len(result.examples) < MAX_REPORTED_LINES:
                        result.examples.append((number, found))
    except FileNotFoundError as error:
        raise LogFileError(f"{path}: file not found (vanished?)") from error
    except OSError as error:
        raise LogFileError(f"{path}: cannot read: {error.strerror}") from error
    return result
