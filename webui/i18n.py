"""Chinese and English through Flask-Babel: the user's profile, else the browser's Accept-Language.

The catalogues are kept as .po text in webui/translations and compiled to .mo
when the app starts (nothing binary in the repository).
"""
from __future__ import annotations

import os
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask, current_app, request, session
from flask_babel import Babel, get_locale
from flask_login import current_user

from webui import model_words

LANGUAGES = {"en": "English", "zh_Hans": "简体中文"}
TRANSLATIONS = Path(__file__).parent / "translations"


def select_locale() -> str:
    chosen = session.get("locale")
    if chosen in LANGUAGES:
        return chosen
    if current_user.is_authenticated and current_user.locale in LANGUAGES:
        return current_user.locale
    best = request.accept_languages.best_match(["en", "zh", "zh-CN", "zh-Hans", "zh-TW"], default="en")
    return "zh_Hans" if best.startswith("zh") else "en"


def select_timezone() -> str:
    if current_user.is_authenticated and current_user.timezone:
        return current_user.timezone
    return current_app.config["DEFAULT_TIMEZONE"]


def compile_catalogues(target: Path, source: Path = TRANSLATIONS, domain: str = "messages") -> None:
    """Write a .mo under `target` for each `domain` .po under `source` that is newer than its .mo."""
    for po in source.glob(f"*/LC_MESSAGES/{domain}.po"):
        mo = target / po.relative_to(source).with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        mo.parent.mkdir(parents=True, exist_ok=True)
        with po.open("rb") as stream:
            catalog = read_po(stream)
        temporary = mo.with_suffix(f".{os.getpid()}.tmp")
        with temporary.open("wb") as out:
            write_mo(out, catalog)
        temporary.replace(mo)  # several web processes may compile at once


def init_app(app: Flask) -> None:
    compiled = Path(app.instance_path) / "translations"
    compile_catalogues(compiled)
    compile_catalogues(compiled, model_words.LIBRARY_TRANSLATIONS, model_words.DOMAIN)
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(compiled)
    Babel(app, locale_selector=select_locale, timezone_selector=select_timezone)
    model_words.init_app(app, compiled)
    app.jinja_env.globals.update(LANGUAGES=LANGUAGES, get_locale=get_locale)
