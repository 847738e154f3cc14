"""The operator's legal texts (privacy policy, imprint): Markdown files with a ``Stand`` date."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import markdown
from markupsafe import Markup

MONTHS_DE = (
    "Januar", "Februar", "März", "April", "Mai", "Juni",
    "Juli", "August", "September", "Oktober", "November", "Dezember",
)


@dataclass(frozen=True)
class LegalText:
    title: str
    as_of: date | None
    html: Markup
    #: sha256 of the file as the operator wrote it: which version of the text was in force.
    content_hash: str = ""
    #: The language the file is written in (it may differ from the page's: see FALLBACKS).
    lang: str = "de"

    def as_of_text(self, lang: str) -> str:
        if self.as_of is None:
            return ""
        if lang == "de":
            return f"{self.as_of.day}. {MONTHS_DE[self.as_of.month - 1]} {self.as_of.year}"
        return self.as_of.strftime("%-d %B %Y")


_cache: dict[str, tuple[int, LegalText]] = {}

#: Whole legal documents are not translated message by message: a language without its own file
#: is shown the English one (with a note that the German version is binding), then the German.
FALLBACKS = ("en", "de")


def load_legal_text(directory: str, name: str, lang: str) -> LegalText:
    """``NAME.LANG.md`` from the operator's folder, else the English, else the German file;
    re-read when edited. The result says which language it is in (:attr:`LegalText.lang`), and
    its hash is the one a receipt records: the version the visitor was actually shown.

    The file starts with ``Title:`` and ``Stand: YYYY-MM-DD`` lines; an error names the file.
    """
    # One stat per candidate on plain strings: this runs for every recorded decision (the
    # receipt names the policy in force), so it stays a cache lookup unless the file changed.
    for candidate in (lang, *FALLBACKS):
        name_path = os.path.join(directory, f"{name}.{candidate}.md")
        try:
            mtime = os.stat(name_path).st_mtime_ns
            break
        except FileNotFoundError:
            continue
    else:
        raise FileNotFoundError(f"no {name}.{{{','.join((lang, *FALLBACKS))}}}.md in {directory}")
    cached = _cache.get(name_path)
    if cached and cached[0] == mtime:
        return cached[1]
    path = Path(name_path)
    converter = markdown.Markdown(extensions=["meta", "tables", "sane_lists"])
    source = path.read_bytes()
    html = converter.convert(source.decode("utf-8"))
    meta = converter.Meta  # type: ignore[attr-defined]
    title = " ".join(meta.get("title", [name.capitalize()]))
    raw_date = " ".join(meta.get("stand", [])).strip()
    try:
        as_of = date.fromisoformat(raw_date) if raw_date else None
    except ValueError:
        raise ValueError(f"{path}: 'Stand: {raw_date}' is not a date like 2026-11-25") from None
    text = LegalText(
        title, as_of, Markup(html), hashlib.sha256(source).hexdigest(), lang=candidate
    )
    _cache[name_path] = (mtime, text)
    return text
