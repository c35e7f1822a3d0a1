"""Jinja filters: times in the user's time zone and language, and documentation as safe HTML.

Nothing from a BPMN file is rendered as raw HTML: documentation is Markdown,
rendered and then sanitised by nh3 (Ammonia) to a small set of tags.
"""
from __future__ import annotations

from datetime import datetime

import markdown
import nh3
from flask import Flask
from flask_babel import format_datetime, format_timedelta
from markupsafe import Markup

ALLOWED_TAGS = {"p", "br", "strong", "em", "ul", "ol", "li", "code", "pre", "blockquote", "h3", "h4", "a"}


def _parse(value: str | datetime | None) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def local_time(value: str | datetime | None, style: str = "medium") -> str:
    """An instant in the user's time zone ('' for none)."""
    when = _parse(value)
    return format_datetime(when, style) if when else ""


def time_left(value: str | datetime | None) -> str:
    """'in 3 hours' or '2 days ago' from now, in the user's language."""
    when = _parse(value)
    if when is None:
        return ""
    from webui.blueprints import engine

    return format_timedelta(when - engine().clock.now(), add_direction=True, granularity="minute")


def documentation(text: str | None) -> Markup:
    """A BPMN element's documentation as sanitised HTML (Markdown allowed, scripts and raw HTML not)."""
    if not text:
        return Markup("")
    html = markdown.markdown(text, extensions=["sane_lists"])
    return Markup(nh3.clean(html, tags=ALLOWED_TAGS, attributes={"a": {"href"}}, url_schemes={"https", "mailto"},
                            link_rel="noopener noreferrer"))


def init_app(app: Flask) -> None:
    app.jinja_env.filters.update(local_time=local_time, time_left=time_left, documentation=documentation)
