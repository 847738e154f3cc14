"""Optional e-mail to the operator when a message arrives (smtplib, plain SMTP settings).

Off unless ``SMTP_HOST`` and ``CONTACT_NOTIFY_TO`` are set. The message is already stored when
this runs: a mail server that is down costs a warning in the log, never the message.
"""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any

from .messages import Message

#: Config key -> default; each may also come from the environment variable of the same name.
DEFAULTS: dict[str, Any] = {
    "SMTP_HOST": "",
    "SMTP_PORT": 25,
    "SMTP_STARTTLS": False,
    "SMTP_USERNAME": "",
    "SMTP_PASSWORD": "",
    "SMTP_TIMEOUT": 10,
    "CONTACT_NOTIFY_TO": "",
    "CONTACT_NOTIFY_FROM": "website@localhost",
}


def notification(config: dict[str, Any], message: Message) -> EmailMessage:
    mail = EmailMessage()
    mail["Subject"] = f"Kontaktformular: Nachricht #{message.id}"
    mail["From"] = config["CONTACT_NOTIFY_FROM"]
    mail["To"] = config["CONTACT_NOTIFY_TO"]
    mail["Date"] = formatdate(localtime=False)
    mail["Message-ID"] = make_msgid(domain="website.invalid")
    contact = "ja" if message.consent_to_contact else "nein"
    mail.set_content(
        f"Nachricht #{message.id} über das Kontaktformular\n\n"
        f"Name: {message.name}\nE-Mail: {message.email}\n"
        f"Einverstanden mit Kontaktaufnahme: {contact}\n\n{message.message}\n\n"
        f"-- \nflask --app wsgi contact answered {message.id}   (als beantwortet markieren)\n"
    )
    return mail


def send_notification(config: dict[str, Any], message: Message) -> bool:
    """Send the notification if configured; True when it was handed to the SMTP server."""
    if not (config.get("SMTP_HOST") and config.get("CONTACT_NOTIFY_TO")):
        return False
    mail = notification(config, message)
    with smtplib.SMTP(config["SMTP_HOST"], int(config["SMTP_PORT"]),
                      timeout=float(config["SMTP_TIMEOUT"])) as smtp:
        if config.get("SMTP_STARTTLS"):
            smtp.starttls()
        if config.get("SMTP_USERNAME"):
            smtp.login(config["SMTP_USERNAME"], config["SMTP_PASSWORD"])
        smtp.send_message(mail)
    return True
