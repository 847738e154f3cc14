"""``anonymise`` of several files at once: one worker process per CPU core.

Each file is still rewritten by ``files.anonymise_file`` (atomic, checked); the workers only
spread the files over the cores. Results come back in the order the files were given.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor

from .files import FileResult, LogFileError, anonymise_file
from .lines import LogMasker

__all__ = ["anonymise_many"]

_settings: tuple[int, int, bool] = (24, 48, False)


def _init(ipv4_prefix: int, ipv6_prefix: int, keep_user_agent: bool) -> None:
    global _settings
    _settings = (ipv4_prefix, ipv6_prefix, keep_user_agent)


def _one(path: str) -> FileResult | str:
    # one masker per file: its counts are the file's, and an IIS #Fields: line stays in its file
    masker = LogMasker(*_settings)
    try:
        return anonymise_file(path, masker)
    except LogFileError as error:
        return str(error)


def anonymise_many(
    paths: list[str], ipv4_prefix: int, ipv6_prefix: int, keep_user_agent: bool, jobs: int
) -> Iterator[tuple[str, FileResult | LogFileError]]:
    """``(path, result or error)`` for each path, in order, ``jobs`` files at a time."""
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(
        max_workers=jobs,
        mp_context=context,
        initializer=_init,
        initargs=(ipv4_prefix, ipv6_prefix, keep_user_agent),
    ) as pool:
        for path, outcome in zip(paths, pool.map(_one, paths), strict=True):
            yield path, LogFileError(outcome) if isinstance(outcome, str) else outcome
