"""The shipped process library's own words (names, labels, option names, documentation) in the reader's language.

The BPMN stays as modelled; its texts are looked up in the `processes` gettext domain
(processes/translations, compiled at app start beside the app's catalogue). A text the
catalogue does not know, such as a designer's own upload, is shown as authored.
"""
from __future__ import annotations

from pathlib import Path

from flask import Flask, current_app
from flask_babel import Domain

LIBRARY_TRANSLATIONS = Path(__file__).resolve().parents[1] / "processes" / "translations"
DOMAIN = "processes"


def model_text(text: str | None) -> str | None:
    """`text` from a model in the reader's language; unchanged when the catalogue has no entry."""
    if not text:
        return text
    domain: Domain = current_app.extensions["model_words"]
    return domain.gettext(text)


def init_app(app: Flask, compiled: Path) -> None:
    app.extensions["model_words"] = Domain(translation_directories=str(compiled), domain=DOMAIN)
    app.jinja_env.filters["model_text"] = model_text
