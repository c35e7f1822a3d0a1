"""Jinja filters: times in the user's time zone and language (and as ISO 8601 for `<time datetime>`),
and documentation as safe HTML.

Nothing from a BPMN file is rendered as raw HTML: documentation is Markdown,
rendered and then sanitised by nh3 (Ammonia) to a small set of tags.
"""
from __future__ import annotations

from datetime import date, datetime

import markdown
import nh3
from flask import Flask
from flask_babel import format_date, format_time, format_timedelta, get_locale
from markupsafe import Markup

from engine.policy import roles
from engine.json_shapes import iso
from webui.engine_access import current_engine
from webui.model_words import model_text

ALLOWED_TAGS = {"p", "br", "strong", "em", "ul", "ol", "li", "code", "pre", "blockquote", "h3", "h4", "a"}


def _parse(value: str | datetime | None) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def local_time(value: str | datetime | None) -> str:
    """An instant in the user's time zone and language, one format on every page: the date and the
    time to the minute ("Dec 7, 2026, 4:23 PM", "2026年12月7日 16:23"); '' for none."""
    when = _parse(value)
    if when is None:
        return ""
    pattern = get_locale().datetime_formats["medium"]  # how the language joins a date and a time
    return pattern.replace("{0}", format_time(when, "short")).replace("{1}", format_date(when, "medium"))


def local_date(value: str | date | None) -> str:
    """A date alone, as the language writes it ("Dec 7, 2026", "2026年12月7日"); '' for none."""
    if not value:
        return ""
    return format_date(date.fromisoformat(value) if isinstance(value, str) else value, "medium")


def time_left(value: str | datetime | None) -> str:
    """'in 3 hours' or '2 days ago' from now, in the user's language."""
    when = _parse(value)
    if when is None:
        return ""
    return format_timedelta(when - current_engine().clock.now(), add_direction=True, granularity="minute")


def documentation(text: str | None) -> Markup:
    """A BPMN element's documentation, in the reader's language where the library catalogue has it, as
    sanitised HTML (Markdown allowed, scripts and raw HTML not)."""
    if not text:
        return Markup("")
    html = markdown.markdown(model_text(text), extensions=["sane_lists"])
    return Markup(nh3.clean(html, tags=ALLOWED_TAGS, attributes={"a": {"href"}}, url_schemes={"https", "mailto"},
                            link_rel="noopener noreferrer"))


def init_app(app: Flask) -> None:
    app.jinja_env.filters.update(local_time=local_time, time_left=time_left, documentation=documentation, iso=iso)
    app.jinja_env.globals.update(roles=roles)  # the role sets pages check (`current_user.has_role(*roles.X)`)
