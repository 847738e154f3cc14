"""The admin's pages. Every endpoint but the login page needs a logged-in admin (checked once
for the whole blueprint, so a new page cannot forget it). GET never writes: the audit log is
written by the POSTs (login, logout, export) and by the CLI."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Response,
    current_app,
    redirect,
    render_template,
    request,
    session,
    stream_with_context,
    url_for,
)
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import DateField, PasswordField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from website.consent.exports import FORMATS, export
from website.consent.receipts import truncate_address
from website.contact.messages import delete_message, list_messages, mark_answered
from website.errors import BadInput
from website.i18n import LANGUAGES, N_, select_language
from website.legal import load_legal_text
from website.rights.erasure import NothingToErase, erase_visitor
from website.rights.visitor import export_document
from website.store import get_store
from website.store.queries import (
    ReceiptFilter,
    day_range,
    decisions_per_day,
    opt_in_by,
    opt_in_rates,
    revisions_in_force,
    search_receipts,
)

from . import AdminPrincipal, accounts, is_admin_path, login_manager, now
from .accounts import LoginResult
from .chart import Series, stacked_bars

bp = Blueprint("admin", __name__, url_prefix="/admin")

PUBLIC = {"admin.login"}
PAGE_SIZE = 50
#: Receipt ids are UUIDs (or, from other channels, similar tokens): anything else is a 404.
RECEIPT_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
MAX_DAYS = 400
ACTIONS = ("accept_all", "reject_all", "custom", "withdraw")
ACTION_LABELS = {"accept_all": N_("Accept all"), "reject_all": N_("Reject all"),
                 "custom": N_("Custom"), "withdraw": N_("Withdraw")}
#: Okabe-Ito colours: told apart with every common colour-vision deficiency.
ACTION_COLOURS = {"accept_all": "#009e73", "reject_all": "#d55e00", "custom": "#0072b2",
                  "withdraw": "#cc79a7"}
GPC_COLOUR = "#e69f00"
METHODS = ("banner", "settings", "form", "api", "gpc", "phone")
EXPORT_TYPES = {"csv": ("text/csv", "csv"), "jsonl": ("application/x-ndjson", "jsonl"),
                "kantara": ("application/x-ndjson", "kantara.jsonl"),
                "dpv": ("application/x-ndjson", "dpv.jsonl")}
LOGIN_FAILED = N_(
    "Login failed: the name or password is wrong, or the account is locked or disabled."
)


class LoginForm(FlaskForm):
    name = StringField(_l("User name"), validators=[DataRequired(), Length(max=64)],
                       render_kw={"autocomplete": "username", "autocapitalize": "none"})
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=1024)],
                             render_kw={"autocomplete": "current-password"})


class ExportForm(FlaskForm):
    format = SelectField(_l("Format"), choices=[
        SelectChoice("csv", _l("CSV (spreadsheet)")),
        SelectChoice("jsonl", _l("JSON Lines (as stored)")),
        # Names of standards, kept as they are in every language (the message lets a translator
        # say so: their msgstr is the id).
        SelectChoice("kantara", _l("Kantara Consent Receipt v1.1")),
        SelectChoice("dpv", _l("ISO/IEC TS 27560 (W3C DPV)")),
    ])
    since = DateField(_l("From (UTC, included)"), validators=[Optional()])
    until = DateField(_l("Until (UTC, included)"), validators=[Optional()])


class LogoutForm(FlaskForm):
    """Only the CSRF token: logging out is a POST."""


def _address() -> str:
    return truncate_address(request.remote_addr)


def _audit(action: str, detail: str = "", actor: str | None = None) -> None:
    name = actor if actor is not None else getattr(current_user, "name", "?")
    accounts().audit(name, action, detail, _address())


@bp.before_request
def require_login() -> Any:
    """One gate for the whole admin: no session, no page (302 to the login); idle timeout."""
    if request.endpoint in PUBLIC:
        return None
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    moment = now().timestamp()
    idle = int(current_app.config["ADMIN_IDLE_MINUTES"]) * 60
    limit = int(current_app.config["ADMIN_SESSION_HOURS"]) * 3600
    seen = float(session.get("admin_seen", 0))
    started = float(session.get("admin_login_at", 0))
    if moment - seen > idle or moment - started > limit:
        logout_user()
        session.clear()
        return login_manager.unauthorized()
    session["admin_seen"] = moment
    return None


@bp.context_processor
def admin_context() -> dict[str, Any]:
    return {"logout_form": LogoutForm(), "nav": [
        ("admin.dashboard", gettext("Dashboard")), ("admin.receipts", gettext("Receipts")),
        ("admin.export_page", gettext("Export")), ("admin.visitor", gettext("Visitor requests")),
        ("admin.messages", gettext("Messages")), ("admin.audit", gettext("Audit log")),
    ]}


def _safe_next(target: str | None) -> str:
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and is_admin_path(parts.path) \
                and not target.startswith("//") and "\\" not in target:
            return target
    return url_for("admin.dashboard")


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    form = LoginForm()
    if current_user.is_authenticated and request.method == "GET":
        return redirect(url_for("admin.dashboard"))
    error = None
    status = 200
    if form.validate_on_submit():
        name = form.name.data or ""
        result, user = accounts().authenticate(name, form.password.data or "")
        if result is LoginResult.OK and user is not None:
            target = _safe_next(request.args.get("next"))
            session.clear()  # a fresh session: nothing from before the login survives
            login_user(AdminPrincipal(user))
            session["admin_seen"] = session["admin_login_at"] = now().timestamp()
            _audit("login", actor=user.name)
            return redirect(target)
        _audit("login_" + result.value, actor=user.name if user else name[:64])
        error, status = gettext(LOGIN_FAILED), 401
    elif request.method == "POST":
        error, status = gettext("Enter a user name and a password."), 400
    return render_template("admin/login.html", form=form, error=error), status


@bp.post("/logout")
def logout() -> Any:
    _audit("logout")
    logout_user()
    session.clear()
    return redirect(url_for("admin.login"))


def _date(name: str, default: date | None) -> date | None:
    raw = request.args.get(name, "").strip()
    if not raw:
        return default
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise BadInput(_l("%(name)s must be a date like 2026-12-01, not %(value)r", name=name,
                          value=raw[:40])) from None


def _bounds(since: date | None, until: date | None) -> tuple[datetime | None, datetime | None]:
    tz = now().tzinfo
    start = datetime.combine(since, time(), tzinfo=tz) if since else None
    end = datetime.combine(until + timedelta(days=1), time(), tzinfo=tz) if until else None
    return start, end


def _period() -> tuple[date, date]:
    today = now().date()
    until = _date("until", today)
    since = _date("since", None)
    assert until is not None
    if since is None:
        since = until - timedelta(days=29)
    if since > until:
        raise BadInput(_l("the period's start (since) is after its end (until)"))
    if (until - since).days >= MAX_DAYS:
        raise BadInput(_l("choose a period of at most %(days)d days", days=MAX_DAYS))
    return since, until


@bp.get("")
def dashboard() -> str:
    since, until = _period()
    start, end = _bounds(since, until)
    assert start and end
    store = get_store()
    engine = store.engine
    catalog = current_app.extensions["consent"].catalog
    optional = [c.name for c in catalog.optional_categories]
    required_services = {s.name for c in catalog.categories if c.required for s in c.services}
    days = day_range(since, until)
    per_day = decisions_per_day(engine, start, end)
    lang = select_language()  # the admin's language (ADMIN_LANGUAGE)
    labels = {a: gettext(label) for a, label in ACTION_LABELS.items()}
    decisions = stacked_bars(
        gettext("Decisions per day, by action"), gettext("Decisions"), gettext("Day (UTC)"), days,
        [Series(a, labels[a], ACTION_COLOURS[a],
                [per_day.get(d.isoformat(), {}).get(a, 0) for d in days]) for a in ACTIONS],
    )
    gpc = store.gpc_views(since, until)
    gpc_chart = stacked_bars(
        gettext("Page views on which GPC was honoured, per day"), gettext("Page views"),
        gettext("Day (UTC)"), days,
        [Series("gpc", gettext("GPC-honoured views"), GPC_COLOUR,
                [gpc.get(d, 0) for d in days])],
    )
    totals = {a: sum(day.get(a, 0) for day in per_day.values()) for a in ACTIONS}
    others = sum(n for day in per_day.values() for a, n in day.items() if a not in ACTIONS)
    categories = [r for r in opt_in_rates(engine, "categories", start, end) if r.key in optional]
    services = [r for r in opt_in_rates(engine, "services", start, end)
                if r.key not in required_services]
    return render_template(
        "admin/dashboard.html",
        since=since, until=until, decisions=decisions, gpc_chart=gpc_chart,
        totals=totals, others=others, labels=labels, colours=ACTION_COLOURS,
        categories=categories, services=services,
        titles={**{c.name: c.title.text(lang) for c in catalog.categories},
                **{s.name: s.title.text(lang) for s in catalog.services}},
        devices=opt_in_by(engine, "ua_device", optional, start, end),
        languages=opt_in_by(engine, "language", optional, start, end),
        revisions=revisions_in_force(engine), current_revision=catalog.revision,
    )


def _text_arg(name: str, limit: int = 64) -> str | None:
    value = request.args.get(name, "").strip()
    if len(value) > limit:
        raise BadInput(_l("%(name)s is longer than %(limit)d characters", name=name, limit=limit))
    if not value.isprintable():
        raise BadInput(_l("%(name)s holds control characters", name=name))
    return value or None


@bp.get("/receipts")
def receipts() -> str:
    since, until = _date("since", None), _date("until", None)
    if since and until and since > until:
        raise BadInput(_l("the period's start (since) is after its end (until)"))
    start, end = _bounds(since, until)
    action, method = _text_arg("action"), _text_arg("method")
    if action and action not in ACTIONS:
        raise BadInput(_l("unknown action %(action)r", action=action))
    try:
        page = max(1, int(request.args.get("page", "1")))
    except ValueError:
        raise BadInput(_l("page must be a number")) from None
    where = ReceiptFilter(consent_id=_text_arg("consent_id"), receipt_id=_text_arg("receipt_id"),
                          since=start, until=end, action=action, method=method)
    found, total = search_receipts(get_store().engine, where, PAGE_SIZE, (page - 1) * PAGE_SIZE)
    pages = max(1, -(-total // PAGE_SIZE))
    query = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_template(
        "admin/receipts.html", receipts=found, total=total, page=page, pages=pages,
        query=query, actions=ACTIONS, methods=METHODS, args=request.args,
    )


@bp.get("/receipts/<receipt_id>")
def receipt(receipt_id: str) -> Any:
    store = get_store()
    found = store.get(receipt_id) if RECEIPT_ID.match(receipt_id) else None
    if found is None:
        raise BadInput(_l("there is no receipt with this id"), status=404, code="not_found")
    notice = store.notice(found.notice_hash)
    pretty = verified = None
    if notice is not None:
        verified = hashlib.sha256(notice.content.encode()).hexdigest() == found.notice_hash
        pretty = json.dumps(json.loads(notice.content), ensure_ascii=False, indent=2,
                            sort_keys=True)
    # The policy a visitor of this language is shown today (English for fr and nl, as then).
    lang = found.language if found.language in LANGUAGES else "de"
    policy = load_legal_text(current_app.config["LEGAL_TEXTS_DIR"], "datenschutz", lang)
    history = store.history(found.consent_id)
    return render_template(
        "admin/receipt.html", receipt=found, record=found.as_json(), notice=notice,
        notice_json=pretty, verified=verified, policy=policy,
        policy_current=policy.content_hash == found.policy_hash, history=history,
    )


@bp.get("/export")
def export_page() -> str:
    return render_template("admin/export.html", form=ExportForm(), formats=FORMATS)


@bp.post("/export")
def export_download() -> Response:
    form = ExportForm()
    if not form.validate_on_submit():
        problems = "; ".join(f"{k}: {', '.join(v)}" for k, v in form.errors.items())
        raise BadInput(_l("the export form is not valid (%(problems)s)", problems=problems))
    fmt = form.format.data or "csv"
    since, until = form.since.data, form.until.data
    if since and until and since > until:
        raise BadInput(_l("the period's start (from) is after its end (until)"))
    start, end = _bounds(since, until)
    _audit("export", f"format={fmt} since={since or '-'} until={until or '-'}")
    store = get_store()
    controller = current_app.extensions["consent"].catalog.controller
    policy_url = url_for("pages.privacy", _external=True)
    settings_url = url_for("consent.settings_page", _external=True)
    chunks = export(store.export(start, end), fmt, store.notice, controller,
                    policy_url=policy_url, settings_url=settings_url)
    mimetype, extension = EXPORT_TYPES[fmt]
    name = f"receipts-{since or 'start'}-{until or 'now'}.{extension}"
    response = Response(stream_with_context(chunks), mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/audit")
def audit() -> str:
    try:
        page = max(1, int(request.args.get("page", "1")))
    except ValueError:
        raise BadInput(_l("page must be a number")) from None
    entries, total = accounts().audit_log(PAGE_SIZE, (page - 1) * PAGE_SIZE)
    return render_template("admin/audit.html", entries=entries, total=total, page=page,
                           pages=max(1, -(-total // PAGE_SIZE)))


# --- Contact messages and one visitor's data (requests that arrive by e-mail) ---------------


class ActionForm(FlaskForm):
    """Only the CSRF token: a button that changes one thing."""


class EraseForm(FlaskForm):
    consent_id = StringField(_l("Consent id"), validators=[DataRequired(), Length(max=64)])
    reason = StringField(_l("Reason (no personal data)"),
                         validators=[DataRequired(), Length(max=200)])


@bp.get("/messages")
def messages() -> str:
    return render_template("admin/messages.html", messages=list_messages(get_store()),
                           form=ActionForm())


@bp.post("/messages/<int:message_id>/answered")
def message_answered(message_id: int) -> Response:
    if not ActionForm().validate_on_submit():
        raise BadInput(_l("the form is not valid"))
    if not mark_answered(get_store(), message_id, now=now()):
        raise BadInput(_l("there is no message with this number"), status=404, code="not_found")
    _audit("message answered", f"#{message_id}")
    return redirect(url_for("admin.messages"), code=303)


@bp.post("/messages/<int:message_id>/delete")
def message_delete(message_id: int) -> Response:
    if not ActionForm().validate_on_submit():
        raise BadInput(_l("the form is not valid"))
    if not delete_message(get_store(), message_id):
        raise BadInput(_l("there is no message with this number"), status=404, code="not_found")
    _audit("message deleted", f"#{message_id}")
    return redirect(url_for("admin.messages"), code=303)


@bp.get("/visitor")
def visitor() -> str:
    """One visitor's receipts for a consent id a visitor sent in (access and erasure requests)."""
    consent_id = _text_arg("consent_id")
    history = get_store().history(consent_id) if consent_id else []
    form = EraseForm(consent_id=consent_id)
    return render_template("admin/visitor.html", consent_id=consent_id, history=history,
                           form=form)


@bp.get("/visitor/export")
def visitor_export() -> Response:
    consent_id = _text_arg("consent_id")
    if not consent_id:
        raise BadInput(_l("give the consent id the visitor sent in"))
    document = export_document(get_store(), consent_id, now=now())
    _audit("visitor export", f"{len(document['receipts'])} receipts")
    response = Response(json.dumps(document, ensure_ascii=False, indent=2) + "\n",
                        mimetype="application/json")
    response.headers["Content-Disposition"] = 'attachment; filename="visitor-data.json"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/visitor/erase")
def visitor_erase() -> Response:
    form = EraseForm()
    if not form.validate_on_submit():
        problems = "; ".join(f"{k}: {', '.join(v)}" for k, v in form.errors.items())
        raise BadInput(_l("the erasure form is not valid (%(problems)s)", problems=problems))
    consent_id = (form.consent_id.data or "").strip()
    try:
        tombstone = erase_visitor(get_store(), consent_id, form.reason.data or "", now=now())
    except NothingToErase:
        raise BadInput(_l("no receipts are stored under this consent id"), status=404,
                       code="not_found") from None
    except ValueError as error:
        raise BadInput(str(error)) from None
    # The audit entry names the tombstone, not the erased pseudonym.
    _audit("visitor erased", f"tombstone #{tombstone.id}: {tombstone.receipts_count} receipts")
    return redirect(url_for("admin.visitor", erased=tombstone.receipts_count), code=303)
