"""The site's pages: home, privacy policy, imprint, health check and the GPC support file."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify

from .i18n import select_language
from .legal import load_legal_text
from .page_cache import render_cached

bp = Blueprint("pages", __name__)

#: Date from which this site states its GPC support (``/.well-known/gpc.json``).
GPC_SUPPORT_SINCE = "2026-11-25"


@bp.get("/")
def home() -> str:
    return render_cached("index.html")


@bp.get("/datenschutz")
def privacy() -> str:
    return _legal("datenschutz")


@bp.get("/impressum")
def imprint() -> str:
    return _legal("impressum")


def _legal(name: str) -> str:
    lang = select_language()
    text = load_legal_text(current_app.config["LEGAL_TEXTS_DIR"], name, lang)
    return render_cached("legal.html", text=text, as_of=text.as_of_text(lang))


@bp.get("/healthz")
def healthz() -> Response:
    """Liveness for load balancers; touches neither the database nor the catalog."""
    return Response("ok", mimetype="text/plain")


@bp.get("/.well-known/gpc.json")
def gpc_support() -> Response:
    return jsonify(gpc=True, lastUpdate=GPC_SUPPORT_SINCE)
