"""Readiness (``/readyz``) and the answer when the receipt store fails (503 + ``Retry-After``).

``/healthz`` (in pages) says the process serves; ``/readyz`` says whether it can also record a
decision right now. The messages are fixed sentences: driver errors, paths and host names go to
the log, never to the client.
"""

from __future__ import annotations

from flask import Blueprint, Flask, Response, current_app, jsonify, render_template
from flask_babel import gettext

from .errors import wants_json
from .i18n import N_
from .store import SchemaError, SchemaMissing, StorageError, StorageUnavailable, get_store

#: Seconds a client should wait before retrying a write the store refused.
RETRY_AFTER = 30

bp = Blueprint("health", __name__)

UNAVAILABLE = N_(
    "The receipt store is unavailable; the choice was not saved. Please try again later."
)
NOT_MIGRATED = "The receipt database schema is not current; the operator must migrate it."
FAILED = N_("The receipt store could not save the choice.")


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/readyz")
def readyz() -> tuple[Response, int]:
    """200 ``{"database": "ok"}``, or 503 with the state and a sentence saying why."""
    try:
        get_store().check_ready()
    except SchemaMissing as exc:
        current_app.logger.warning("readyz: %s", exc)
        response = jsonify(database="schema_missing", message=NOT_MIGRATED)
        return _no_store(response), 503
    except SchemaError as exc:
        current_app.logger.warning("readyz: %s", exc)
        response = jsonify(database="schema_outdated", message=NOT_MIGRATED)
        return _no_store(response), 503
    except StorageError as exc:
        current_app.logger.warning("readyz: %s", exc)
        response = jsonify(database="unavailable", message=UNAVAILABLE)
        response.headers["Retry-After"] = str(RETRY_AFTER)
        return _no_store(response), 503
    return _no_store(jsonify(database="ok")), 200


def _storage_response(error: StorageError) -> tuple[Response | str, int]:
    current_app.logger.error("receipt store: %s", error)
    if isinstance(error, StorageUnavailable | SchemaError):
        status, code, message = 503, "storage_unavailable", UNAVAILABLE
    else:
        status, code, message = 500, "storage_error", FAILED
    if wants_json():
        body: Response | str = jsonify(error=code, message=message)
    else:
        # JSON says it in English (the API's language), the page in the visitor's.
        body = render_template("error.html", message=gettext(message), status=status)
    response = current_app.make_response((body, status))
    if status == 503:
        response.headers["Retry-After"] = str(RETRY_AFTER)
    return _no_store(response), status


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.register_error_handler(StorageError, _storage_response)
