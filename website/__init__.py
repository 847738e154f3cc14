"""A privacy-by-default website: pages, consent manager and security headers.

The package is called ``website`` because a package named ``site`` cannot be imported: Python's
own ``site`` module shadows it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from flask import Flask, request, url_for
from flask.sessions import SecureCookieSessionInterface
from flask_wtf.csrf import CSRFProtect, generate_csrf
from werkzeug.middleware.proxy_fix import ProxyFix

__version__ = "0.2.0"

from . import (  # noqa: E402
    bodies,
    consent,
    errors,
    i18n,
    page_cache,
    pages,
    rights,
    security,
    settings,
)
from .consent.texts import TEXTS  # noqa: E402
from .i18n import LANGUAGES, language_name, select_language  # noqa: E402

csrf = CSRFProtect()


class SessionOnlySecureOverHttps(SecureCookieSessionInterface):
    """The CSRF session cookie gets ``Secure`` whenever the request came over HTTPS."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return request.is_secure or super().get_cookie_secure(app)


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Application factory: environment first, then ``config`` (tests) on top."""
    app = Flask(
        __name__,
        instance_path=os.environ.get("INSTANCE_PATH") or None,
        instance_relative_config=True,
    )
    os.makedirs(app.instance_path, exist_ok=True)
    app.config.from_mapping(settings.defaults(app.instance_path))
    app.config.from_mapping(settings.from_environ())
    if config:
        app.config.from_mapping(config)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = settings.persistent_secret_key(app.instance_path)

    proxies = int(app.config["TRUSTED_PROXIES"])
    if proxies:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies
        )
    app.session_interface = SessionOnlySecureOverHttps()

    csrf.init_app(app)
    i18n.init_app(app)
    errors.init_app(app)
    bodies.init_app(app)
    manager = consent.init_app(app)
    security.init_app(app, manager.catalog.hosts)
    page_cache.init_app(app)
    app.register_blueprint(pages.bp)
    rights.init_app(app)
    from . import admin  # imported late: it needs the store, which needs consent

    admin.init_app(app)

    @app.context_processor
    def page_context() -> dict[str, Any]:
        lang = select_language()
        explicit = request.args.get("lang") in LANGUAGES

        def link(endpoint: str, **values: Any) -> str:
            """A link that keeps an explicitly chosen language."""
            if explicit:
                values.setdefault("lang", lang)
            return url_for(endpoint, **values)

        return {
            "lang": lang,
            "languages": [(code, language_name(code)) for code in LANGUAGES],
            "ct": TEXTS[lang],
            "link": link,
            "csp_nonce": security.csp_nonce,
            "csrf_token": generate_csrf,
            "site_name": app.config["SITE_NAME"],
        }

    return app
