"""Global Privacy Control: the ``Sec-GPC`` request header (W3C GPC)."""

from __future__ import annotations

from werkzeug.datastructures import Headers


def gpc_enabled(headers: Headers) -> bool:
    """True only when a ``Sec-GPC`` value is exactly ``1``.

    Repeated headers reach WSGI joined with commas; one ``1`` among them is enough.
    """
    return any(
        part.strip() == "1" for value in headers.getlist("Sec-GPC") for part in value.split(",")
    )
