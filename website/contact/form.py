"""The contact form: flask-wtf (CSRF), length limits, a honeypot, messages in every language."""

from __future__ import annotations

import re
import unicodedata

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, StringField, TextAreaField
from wtforms.validators import ValidationError

from website.i18n import N_, gettext_in

MAX_NAME = 100
MAX_EMAIL = 254
MAX_MESSAGE = 4000
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")

#: The form's messages (gettext message ids, translated in the form's language).
MESSAGES = {
    "required": N_("Please fill this in."),
    "too_long": N_("At most %(n)d characters."),
    "email": N_("That is not an e-mail address."),
    "control": N_("Contains characters that are not allowed."),
}


def _has_control(value: str, *, allow_newlines: bool) -> bool:
    allowed = {"\n", "\r", "\t"} if allow_newlines else set()
    return any(unicodedata.category(ch) in ("Cc", "Cf") and ch not in allowed
               and ch != "\u200d" for ch in value)


class ContactForm(FlaskForm):
    name = StringField()
    email = EmailField()
    message = TextAreaField()
    consent_to_contact = BooleanField()
    #: The honeypot: hidden from people (``hidden`` attribute), filled in by naive bots.
    website = StringField()

    def __init__(self, *args: object, lang: str = "de", **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.lang = lang

    def _say(self, key: str, **values: object) -> str:
        return gettext_in(self.lang, MESSAGES[key], **values)

    def _text(self, field: StringField, limit: int, *, newlines: bool = False) -> None:
        value = (field.data or "").strip()
        if not value:
            raise ValidationError(self._say("required"))
        if len(value) > limit:
            raise ValidationError(self._say("too_long", n=limit))
        if _has_control(value, allow_newlines=newlines):
            raise ValidationError(self._say("control"))
        field.data = value

    def validate_name(self, field: StringField) -> None:
        self._text(field, MAX_NAME)

    def validate_email(self, field: StringField) -> None:
        self._text(field, MAX_EMAIL)
        if not _EMAIL.fullmatch(field.data):
            raise ValidationError(self._say("email"))

    def validate_message(self, field: StringField) -> None:
        self._text(field, MAX_MESSAGE, newlines=True)

    @property
    def is_bot(self) -> bool:
        return bool((self.website.data or "").strip())
