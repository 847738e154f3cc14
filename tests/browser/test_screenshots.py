"""The screenshots in docs/screenshots/ (made by `make screenshots`) exist for every layout,
theme and device, are PNGs of the stated size, and stay small."""

from __future__ import annotations

import struct

from tests.browser.screenshots import OUT, SECOND_LAYER, SHOTS, SIZES, names


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def test_every_layout_theme_and_device_has_a_small_png():
    expected = {f"{layout}-{theme}-{device}.png": SIZES[device] for layout, theme, device in SHOTS}
    expected.update({f"settings-{theme}-{device}.png": SIZES[device]
                     for theme, device in SECOND_LAYER})
    assert sorted(expected) == sorted(names())
    assert len(expected) == 2 * 2 * 2 + 2
    for name, size in expected.items():
        data = (OUT / name).read_bytes()
        assert png_size(data) == size, name
        assert len(data) < 200_000, name
