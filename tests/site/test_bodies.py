"""The JSON depth bound (website/bodies.py): right depth, both sides of the bound, and a scan
that looks at each byte once whatever the body."""

from __future__ import annotations

import json
import random

import pytest

from website.bodies import _STRING_OR_BRACKET, MAX_JSON_DEPTH, json_depth, parse_json
from website.errors import BadInput


@pytest.mark.parametrize(
    ("raw", "depth"),
    [
        (b"", 0),
        (b"1", 0),
        (b'"[[[{"', 0),  # brackets inside a string do not count
        (b'["\\"[", []]', 2),  # nor after an escaped quote
        (b'{"categories": {"statistics": true}}', 2),
        (b"[" * 5000, 5000),
        (b"[[]][[[]]]", 3),
        (b'["abc', 1),  # an unterminated string hides the rest, as for the parser
        (b'["\\', 1),
    ],
)
def test_json_depth(raw: bytes, depth: int) -> None:
    assert json_depth(raw) == depth


def test_depth_agrees_with_the_parser_on_random_documents() -> None:
    rng = random.Random(7)

    def document(level: int) -> object:
        if level == 0 or rng.random() < 0.2:
            return rng.choice([1, "x[{", True, None, '"\\]'])
        if rng.random() < 0.5:
            return [document(level - 1) for _ in range(rng.randint(1, 3))]
        return {f"k{i}]": document(level - 1) for i in range(rng.randint(1, 3))}

    def nesting(value: object) -> int:
        if isinstance(value, list):
            return 1 + max((nesting(v) for v in value), default=0)
        if isinstance(value, dict):
            return 1 + max((nesting(v) for v in value.values()), default=0)
        return 0

    for _ in range(300):
        value = document(rng.randint(0, 12))
        assert json_depth(json.dumps(value).encode()) == nesting(value)


def test_parse_json_at_and_over_the_bound() -> None:
    at_bound = b"[" * MAX_JSON_DEPTH + b"]" * MAX_JSON_DEPTH
    assert json_depth(at_bound) == MAX_JSON_DEPTH
    parse_json(at_bound)  # parsed
    with pytest.raises(BadInput, match="nested deeper than 32"):
        parse_json(b"[" + at_bound + b"]")


@pytest.mark.parametrize("raw", [b"{", b"\xff", b"1" * 5000, b'{"a": 1,}', b"[" * 10])
def test_parse_json_refuses_invalid_json_with_a_400(raw: bytes) -> None:
    with pytest.raises(BadInput, match="not valid JSON") as caught:
        parse_json(raw)
    assert caught.value.status == 400


@pytest.mark.parametrize(
    "tail",
    [
        b"\\" + b'"\\' * 8191,  # 8,000 escaped quotes, never closed (was 1.2 s per 16 KiB)
        b'\\"' * 8192,
        b"\\\\" * 8192,
        b"\\",
        b"",
        b"abc",
    ],
)
def test_a_string_token_always_matches(tail: bytes) -> None:
    """Why the scan is linear: at a quote the string token matches whatever follows (to the
    closing quote or the end), so the scanner never starts over inside a string."""
    assert _STRING_OR_BRACKET.match(b'"' + tail) is not None


def test_a_string_token_always_matches_random_tails() -> None:
    rng = random.Random(11)
    for _ in range(2000):
        tail = bytes(rng.choice(b'"\\[]{}a\n\x00') for _ in range(rng.randint(0, 40)))
        assert _STRING_OR_BRACKET.match(b'"' + tail) is not None
