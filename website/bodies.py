"""Request bodies read safely: malformed input becomes a 4xx, never a 500 or a silent cut.

Three gaps in the standard stack are closed here, each with an error the client can read:

* A chunked body (no ``Content-Length``) is limited by Werkzeug to ``MAX_CONTENT_LENGTH`` by
  *cutting* it: a 1 MB body was parsed from its first 16 KiB and accepted. :class:`SafeRequest`
  reads such a body up front, at most one byte over the limit, and refuses a longer one with 413.
* Broken chunked framing (a bad chunk size, a missing terminator, a client that stops) surfaces
  as the WSGI server's own exception type in the middle of form parsing, which Flask turns into
  a 500. It is refused with 400 here, before any parsing.
* A multipart part without a ``name`` becomes a form field named ``None``, which Flask-WTF's CSRF
  check cannot handle. Such a form is refused with 400.

:func:`parse_json` bounds the nesting depth of a JSON body before ``json.loads`` sees it
(``"[" * 5000`` raised ``RecursionError``).
"""

from __future__ import annotations

import io
import json
import re
from typing import IO, Any

from flask import Flask, Request
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge
from werkzeug.utils import cached_property
from werkzeug.wsgi import get_input_stream

from .errors import BadInput

#: Far deeper than any consent body needs (those are two levels deep), far below the point
#: where the parser's recursion limit is in sight.
MAX_JSON_DEPTH = 32

# A JSON string (skipped: its brackets do not count) or one bracket. A string always matches: an
# unterminated one (even ending in a lone backslash) runs to the end, so every byte is looked at
# once. With a closing quote required, each of 8,000 escaped quotes would start a new scan to
# the end: 1.2 s for a 16 KiB body.
_STRING_OR_BRACKET = re.compile(rb'"(?:[^"\\]|\\.)*+(?:"|\\?\Z)|[\[\]{}]', re.DOTALL)
_OPENING = frozenset(b"[{")


def json_depth(raw: bytes) -> int:
    """The deepest nesting of arrays and objects in ``raw`` (brackets inside strings ignored).

    Works on any bytes, valid JSON or not, in time linear in their length. After an
    unterminated string nothing counts, as for the JSON parser, which fails there.
    """
    depth = deepest = 0
    for match in _STRING_OR_BRACKET.finditer(raw):
        token = match.group()
        if len(token) != 1:
            continue
        if token[0] in _OPENING:
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def parse_json(raw: bytes) -> Any:
    """``raw`` parsed as JSON, or :class:`BadInput` (400) naming what is wrong with it."""
    if json_depth(raw) > MAX_JSON_DEPTH:
        raise BadInput(
            _l("The JSON body is nested deeper than %(levels)d levels.", levels=MAX_JSON_DEPTH)
        )
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        # ValueError covers JSONDecodeError and integers with too many digits.
        raise BadInput(_l("The request body is not valid JSON.")) from None


def read_json_body(request: Request) -> Any:
    """The request's body parsed as JSON (``None`` for an empty body); errors as in
    :func:`parse_json`, and 413 above ``MAX_CONTENT_LENGTH``."""
    raw = request.get_data(cache=True)
    if not raw.strip():
        return None
    return parse_json(raw)


class SafeRequest(Request):
    """Flask's request, with the body checks described in the module docstring."""

    @cached_property
    def stream(self) -> IO[bytes]:  # type: ignore[override]
        if self.shallow:
            raise RuntimeError("A shallow request (created with shallow=True) has no body.")
        environ = self.environ
        limit = self.max_content_length
        if self.content_length is not None or limit is None:
            return get_input_stream(environ, max_content_length=limit)
        # No Content-Length: the server has de-chunked the body and ends the stream (gunicorn
        # and Werkzeug's server set ``wsgi.input_terminated``); without that, there is no body.
        if "wsgi.input_terminated" not in environ:
            return io.BytesIO()
        source: IO[bytes] = environ["wsgi.input"]
        body = bytearray()
        try:
            while len(body) <= limit:
                data = source.read(limit + 1 - len(body))
                if not data:
                    break
                body += data
        except Exception as error:  # each WSGI server raises its own framing errors
            self.__dict__["stream"] = io.BytesIO()  # nothing half-read reaches a parser
            raise BadRequest(
                f"The chunked request body is malformed ({type(error).__name__})."
            ) from None
        if len(body) > limit:
            self.__dict__["stream"] = io.BytesIO()
            raise RequestEntityTooLarge()
        return io.BytesIO(bytes(body))

    def _load_form_data(self) -> None:
        try:
            super()._load_form_data()
        except ValueError:
            self._forget_form()
            raise BadRequest("The form data cannot be parsed.") from None
        if None in self.form or None in self.files:
            self._forget_form()
            raise BadRequest("A part of the multipart form has no name.")

    def _forget_form(self) -> None:
        """Leave an empty form behind, so that the error page never meets the bad one."""
        self.__dict__["form"] = self.parameter_storage_class()
        self.__dict__["files"] = self.parameter_storage_class()


def init_app(app: Flask) -> None:
    """Use :class:`SafeRequest` for every request of ``app``."""
    app.request_class = SafeRequest
