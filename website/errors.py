"""Errors as the client can read them: JSON for the API, a page for browsers."""

from __future__ import annotations

from flask import Flask, Response, jsonify, render_template, request
from flask.globals import request_ctx
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class BadInput(Exception):
    """Input that cannot be accepted; ``status`` is 400, 403, 413 or 415."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


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


def error_response(status: int, message: str) -> tuple[Response | str, int]:
    if wants_json():
        return jsonify(error=_NAMES.get(status, "error"), message=message), status
    if not _can_render_page():
        return Response(f"{status} {message}\n", mimetype="text/plain"), status
    return render_template("error.html", message=message, status=status), status


def _can_render_page() -> bool:
    """The error page links to other pages, which needs a URL adapter (none when the Host
    header could not be bound, e.g. an empty or 64-character label), and it sets the CSRF
    session cookie: a missing file under ``/static/`` (a stylesheet, a script) gets plain text."""
    return request_ctx.url_adapter is not None and request.endpoint != "static"


_NAMES = {
    400: "bad_request",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    500: "internal_error",
}


def init_app(app: Flask) -> None:
    @app.errorhandler(BadInput)
    def bad_input(error: BadInput):  # type: ignore[no-untyped-def]
        return error_response(error.status, error.message)

    @app.errorhandler(CSRFError)
    def csrf_failed(error: CSRFError):  # type: ignore[no-untyped-def]
        from .i18n import select_language, translate

        if wants_json():
            return error_response(400, f"CSRF check failed: {error.description}")
        return error_response(400, translate("csrf_failed", select_language()))

    @app.errorhandler(413)
    def too_large(error: HTTPException):  # type: ignore[no-untyped-def]
        limit = app.config["MAX_CONTENT_LENGTH"]
        return error_response(413, f"The request body is larger than {limit} bytes.")

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):  # type: ignore[no-untyped-def]
        return error_response(error.code or 500, error.description or error.name)
