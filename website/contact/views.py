"""``/kontakt``: the contact form. Only the POST writes; a filled honeypot stores nothing and
looks like success; a rate limit protects the inbox (429 past it)."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, redirect, render_template, request, url_for

from website.consent.receipts import truncate_address
from website.i18n import select_language
from website.store import get_store

from .form import MAX_EMAIL, MAX_MESSAGE, MAX_NAME, ContactForm
from .messages import add_message
from .notify import send_notification

bp = Blueprint("contact", __name__)
LIMITS = {"name": MAX_NAME, "email": MAX_EMAIL, "message": MAX_MESSAGE}


def _page(form: ContactForm, status: int = 200) -> tuple[str, int]:
    return render_template("contact/form.html", form=form, limits=LIMITS), status


@bp.get("/kontakt")
def contact_page() -> tuple[str, int]:
    return _page(ContactForm(lang=select_language(), formdata=None))


@bp.post("/kontakt")
def send() -> Response | tuple[str, int]:
    lang = select_language()
    form = ContactForm(lang=lang)
    if not form.validate():
        return _page(form, 400)
    if not form.is_bot:
        message = add_message(
            get_store(), name=form.name.data, email=form.email.data,
            message=form.message.data, ip_prefix=truncate_address(request.remote_addr),
            consent_to_contact=bool(form.consent_to_contact.data),
        )
        try:
            send_notification(current_app.config, message)
        except (OSError, ValueError) as exc:  # smtplib errors are OSErrors
            current_app.logger.warning("contact message #%d stored, but the notification "
                                       "could not be sent: %s", message.id, exc)
    return redirect(url_for("contact.thanks", lang=lang), code=303)


@bp.get("/kontakt/danke")
def thanks() -> str:
    return render_template("contact/thanks.html")
