"""Visitor rights (``/meine-daten``), receipts from other channels (``/api/receipts``), the
contact form and retention: registered on the app by :func:`init_app`."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Rate limiter, blueprints (the channel API is CSRF exempt: it takes a bearer token) and
    the ``receipts erase``, ``channel``, ``contact`` and ``retention`` commands."""
    from website import csrf
    from website.contact import init_app as init_contact

    from . import api, limits, visitor
    from .cli import channel_cli
    from .retention import configure, retention_cli

    configure(app.config)
    limits.init_app(app)
    app.register_blueprint(visitor.bp)
    app.register_blueprint(api.bp)
    csrf.exempt(api.bp)
    limits.limit(app, "rights.my_data", "RIGHTS_RATE_LIMIT", scope="rights")
    limits.limit(app, "rights.export", "RIGHTS_RATE_LIMIT", scope="rights")
    limits.limit(app, "rights.erase", "RIGHTS_ERASE_RATE_LIMIT")
    limits.limit(app, "channel_api.record_channel_receipt", "CHANNEL_RATE_LIMIT")
    app.cli.add_command(channel_cli)
    app.cli.add_command(retention_cli)
    init_contact(app)
    limits.limit(app, "contact.send", "CONTACT_RATE_LIMIT")
