"""``LogMasker``: whole blocks of log lines, user-agent reduction, fast path = general path."""

from __future__ import annotations

import pytest

from logrotate.lines import LogMasker, iter_blocks
from tests.logrotate.logdata import CHROME, FIREFOX, GOOGLEBOT, combined_line, many_lines


def process(text: str | bytes, **options: bool) -> bytes:
    data = text.encode() if isinstance(text, str) else text
    return LogMasker(**options).process(data)


def test_combined_line_is_masked_and_reduced() -> None:
    line = combined_line(
        "203.0.113.77", "/search?ip=198.51.100.4", "http://192.0.2.1/x", CHROME, size=5123
    )
    assert process(line) == (
        b'203.0.113.0 - - [24/Nov/2026:10:00:00 +0000] "GET /search?ip=198.51.100.0 HTTP/1.1" '
        b'200 5123 "http://192.0.2.0/x" "Chrome 120 / Windows 10 / pc"\n'
    )


def test_keep_user_agent_is_byte_identical() -> None:
    line = combined_line("2001:db8:1:2::3", agent=CHROME)
    out = process(line, keep_user_agent=True)
    assert out == line.replace("2001:db8:1:2::3", "2001:db8:1::").encode()
    assert CHROME.encode() in out


def test_nginx_main_format_with_forwarded_for() -> None:
    line = (
        combined_line("192.0.2.10", agent=GOOGLEBOT).rstrip("\n") + ' "203.0.113.5, 2001:db8::9"\n'
    )
    assert process(line).endswith(b'"bot / Googlebot" "203.0.113.0, 2001:db8::"\n')


def test_json_lines() -> None:
    line = (
        '{"time":"2026-11-24T10:00:00+00:00","remote_addr":"198.51.100.77",'
        f'"http_x_forwarded_for":"203.0.113.1","http_user_agent":"{FIREFOX}","status":200}}\n'
    )
    assert process(line) == (
        b'{"time":"2026-11-24T10:00:00+00:00","remote_addr":"198.51.100.0",'
        b'"http_x_forwarded_for":"203.0.113.0","http_user_agent":"Firefox 121 / Windows 10 / pc",'
        b'"status":200}\n'
    )


def test_apache_escaped_quotes() -> None:
    agent = 'Mozilla/5.0 \\"quoted\\" Firefox/121.0'
    line = combined_line("203.0.113.9", agent=agent)
    out = process(line)
    assert out.startswith(b"203.0.113.0 - - ")
    assert out.count(b"\n") == 1
    assert b"quoted" not in out  # the whole field was reduced


def test_other_quoted_layouts_keep_their_fields() -> None:
    """Eight quotes per line, but not the combined layout: only addresses change."""
    line = (
        '192.0.2.1 - - [24/Nov/2026:10:00:00 +0000] "GET / HTTP/1.1" "example.org" '
        f'"{FIREFOX}" "2001:db8:1:2::3"\n'
    )
    out = process(line * 3)
    assert (
        out
        == (
            line.replace("192.0.2.1", "192.0.2.0").replace("2001:db8:1:2::3", "2001:db8:1::") * 3
        ).encode()
    )


def test_unknown_format_is_still_masked() -> None:
    text = "Nov 24 10:00:00 host sshd[1]: Failed password from 203.0.113.50 port 22\n"
    assert process(text) == text.replace("203.0.113.50", "203.0.113.0").encode()


def test_second_run_changes_nothing() -> None:
    data = many_lines(300)
    once = process(data)
    assert once != data
    assert process(once) == once


def test_lines_are_never_dropped_merged_or_reordered() -> None:
    data = (
        combined_line("192.0.2.1")
        + "\n"
        + "garbage \x00\x01 203.0.113.3\n"
        + combined_line("192.0.2.2")
        + "no newline at the end 198.51.100.9"
    ).encode() + b"\xff\xfe"
    out = process(data)
    assert out.count(b"\n") == data.count(b"\n")
    assert out.split(b"\n")[1] == b""
    assert out.endswith(b"no newline at the end 198.51.100.0\xff\xfe")
    assert b"\x00\x01 203.0.113.0" in out


def test_fast_path_equals_line_by_line() -> None:
    """A block through the column fast path gives what each line alone gives."""
    data = many_lines(2000)
    masker = LogMasker()
    assert masker._reduce_quoted_columns(data) is not None  # the fast path applies
    by_line = b"".join(LogMasker().process(line) for line in data.splitlines(keepends=True))
    assert LogMasker().process(data) == by_line


def test_counts_every_masked_address() -> None:
    data = many_lines(900)  # 900 clients, 100 query-string addresses
    masker = LogMasker()
    masker.process(data)
    masker.process(data)  # cached values are counted too
    assert masker.masked == 2 * (900 + 100)


@pytest.mark.parametrize("size", [1, 7, 100, 4096])
def test_iter_blocks_keeps_every_byte(size: int) -> None:
    data = many_lines(50) + b"tail without newline"
    chunks = [data[i : i + size] for i in range(0, len(data), size)]
    blocks = list(iter_blocks(chunks))
    assert b"".join(blocks) == data
    assert all(block.endswith(b"\n") for block in blocks[:-1])


def test_long_line_without_newline_is_cut_at_a_space() -> None:
    line = (b"x" * 1000 + b" 203.0.113.77 ") * 5000  # ~5 MiB, no newline
    blocks = list(iter_blocks([line[i : i + 65536] for i in range(0, len(line), 65536)]))
    assert len(blocks) > 1
    assert b"".join(blocks) == line
    assert all(block.endswith(b" ") for block in blocks[:-1])


def test_long_values_are_masked_and_counted_but_not_cached() -> None:
    long_path = "/x?" + "a=1&" * 400 + "ip=203.0.113.9"
    data = (combined_line("192.0.2.1", long_path) * 3).encode()
    masker = LogMasker()
    out = masker.process(data)
    assert out.count(b"ip=203.0.113.0") == 3
    assert masker.masked == 6
    assert all(len(value) <= 1024 for cache in masker._reduced for value in cache)
