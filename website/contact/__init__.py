"""The contact form (``/kontakt``), its messages in the database and their CLI."""

from __future__ import annotations

import os

from flask import Flask

from .notify import DEFAULTS


def init_app(app: Flask) -> None:
    from .cli import contact_cli
    from .views import bp

    for key, default in DEFAULTS.items():
        raw = os.environ.get(key)
        if raw:
            value: object = raw
            if isinstance(default, bool):
                value = raw.lower() in ("1", "true", "yes", "on")
            elif isinstance(default, int):
                value = int(raw)
            app.config.setdefault(key, value)
        else:
            app.config.setdefault(key, default)
    app.register_blueprint(bp)
    app.cli.add_command(contact_cli)
