"""Errors as the client can read them: JSON for the API, a page for browsers.

Every JSON error answer is ``{"error": "<code>", "message": "<text>"}``. The code is stable and
meant for programs (the banner tells a CSRF failure by ``csrf_failed``, never by the English
message); the message is for people and may change. The codes are listed in ``docs/api.md``;
:data:`CODES` is the list for each status.
"""

from __future__ import annotations

from flask import Flask, Response, jsonify, render_template, request
from flask.globals import request_ctx
from flask_babel import LazyString, force_locale, lazy_gettext
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")

#: The code for each status; a status not listed here answers with the code ``error``.
CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "too_many_requests",
    500: "internal_error",
    503: "service_unavailable",
}
#: A failed CSRF check (status 400): a stale page or a missing token; reload and try again.
CSRF_FAILED = "csrf_failed"


class BadInput(Exception):
    """Input that cannot be accepted; ``status`` is 400, 403, 409, 413 or 415.

    ``code`` overrides the status's code from :data:`CODES` for a case a client must tell apart.
    """

    def __init__(
        self, message: str | LazyString, status: int = 400, code: str | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code


def wants_json() -> bool:
    """API calls get JSON errors; browsers posting forms or loading pages get a page.

    A client that prefers ``application/json`` (its ``Accept`` header) gets JSON for a form post
    too.
    """
    if request.accept_mimetypes.best == "application/json":
        return True
    if request.mimetype in FORM_TYPES:
        return False
    return request.method != "GET"


def error_code(status: int) -> str:
    return CODES.get(status, "error")


def error_response(
    status: int, message: str | LazyString, code: str | None = None
) -> tuple[Response | str, int]:
    """The answer for an error: JSON with ``code`` (default: the status's), or a page.

    A message is a gettext message (often lazy): JSON answers and plain text say it in English,
    the API's one language, so a client's logs read the same whoever called; an error page
    says it in the page's language.
    """
    if wants_json() or not _can_render_page():
        with force_locale("en"):
            text = str(message)
        if wants_json():
            return jsonify(error=code or error_code(status), message=text), status
        return Response(f"{status} {text}\n", mimetype="text/plain"), status
    return render_template("error.html", message=str(message), status=status), status


def _can_render_page() -> bool:
    """The error page links to other pages, which needs a URL adapter (none when the Host
    header could not be bound, e.g. an empty or 64-character label), and it sets the CSRF
    session cookie: a missing file under ``/static/`` (a stylesheet, a script) gets plain text."""
    return request_ctx.url_adapter is not None and request.endpoint != "static"


def init_app(app: Flask) -> None:
    @app.errorhandler(BadInput)
    def bad_input(error: BadInput):  # type: ignore[no-untyped-def]
        return error_response(error.status, error.message, error.code)

    @app.errorhandler(CSRFError)
    def csrf_failed(error: CSRFError):  # type: ignore[no-untyped-def]
        if wants_json():
            return error_response(400, f"CSRF check failed: {error.description}", CSRF_FAILED)
        return error_response(400, lazy_gettext(
            "The form had expired or did not come from this website. Nothing was saved. "
            "Please reload the page and try again."
        ))

    @app.errorhandler(413)
    def too_large(error: HTTPException):  # type: ignore[no-untyped-def]
        limit = app.config["MAX_CONTENT_LENGTH"]
        return error_response(
            413, lazy_gettext("The request body is larger than %(limit)s bytes.", limit=limit)
        )

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):  # type: ignore[no-untyped-def]
        body, status = error_response(error.code or 500, error.description or error.name)
        response = app.make_response((body, status))
        for name, value in error.get_headers():
            if name == "Allow":  # 405 names the methods that would work
                response.headers[name] = value
        return response
