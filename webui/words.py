"""Words instead of identifiers: group display names, SLA targets, case data and notifications in the
reader's language (Jinja filters `group_name`, `sla_words`, `case_value`, `notification_text`).

The engine hands over codes and typed values; how they read in English or Chinese is decided here.
"""
from __future__ import annotations

import json
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from babel.numbers import format_decimal
from flask import Flask, g
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import ngettext

from engine.services import sla_targets, users
from engine.services.case_data import CaseDatum
from webui.engine_access import current_engine
from webui.formatting import local_date, local_time
from webui.model_words import model_text

NUMBER_TYPES = ("long", "double", "decimal")
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def group_name(name: str | None) -> str:
    """A group as people call it in the reader's language: its title there, else its title in the other
    language, else the id made readable ("credit_officers" -> "Credit officers"). The titles are read
    once per request."""
    if not name:
        return ""
    if "group_titles" not in g:
        g.group_titles = users.group_titles(current_engine())
    titles = g.group_titles.get(name)
    chinese = str(get_locale()).startswith("zh")
    found = titles and ((titles.title_zh or titles.title) if chinese else (titles.title or titles.title_zh))
    return found or readable(name)


def readable(identifier: str) -> str:
    """An id as words: "credit_officers" -> "Credit officers"."""
    words = re.sub(r"[_\-]+", " ", identifier).strip()
    return words[:1].upper() + words[1:] if words else identifier


def sla_words(target: str | None, calendar: str | None = None) -> str:
    """An SLA target in words: P2D on a business calendar is "2 business days", on 24x7 "2 days";
    PT4H is "4 business hours" or "4 hours". '' for none; a target that is no duration as written."""
    parts = sla_targets.target_parts(target, calendar)
    if parts is None:
        return target or ""
    said = []
    if parts.weeks:
        said.append(ngettext("%(count)s week", "%(count)s weeks", _n(parts.weeks), count=_shown(parts.weeks)))
    if parts.days and parts.business:
        said.append(ngettext("%(count)s business day", "%(count)s business days", _n(parts.days),
                             count=_shown(parts.days)))
    elif parts.days:
        said.append(ngettext("%(count)s day", "%(count)s days", _n(parts.days), count=_shown(parts.days)))
    if parts.hours and parts.business:
        said.append(ngettext("%(count)s business hour", "%(count)s business hours", parts.hours,
                             count=_shown(parts.hours)))
    elif parts.hours:
        said.append(ngettext("%(count)s hour", "%(count)s hours", parts.hours, count=_shown(parts.hours)))
    if parts.minutes:
        said.append(ngettext("%(count)s minute", "%(count)s minutes", parts.minutes, count=_shown(parts.minutes)))
    if parts.seconds:
        said.append(ngettext("%(count)s second", "%(count)s seconds", parts.seconds, count=_shown(parts.seconds)))
    return " ".join(said) or target or ""


def _n(count: int | Decimal) -> int:
    """The number that picks the plural form: a fraction (1.5 days) takes the plural."""
    return int(count) if count == int(count) else 2


def _shown(number: int | float | Decimal) -> str:
    """A number with the locale's separators, every digit kept (Flask-Babel's would round to three)."""
    return format_decimal(number, locale=get_locale(), decimal_quantization=False)


def case_value(datum: CaseDatum) -> str:
    """A case variable's value for the reader: amounts with the locale's separators, yes/no, dates as
    dates, an option's name for an enum; other values as they are ('–' for none)."""
    value = datum.value
    if value is None or value == "":
        return "–"
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if datum.type == "enum":
        names = dict(datum.options)
        return (model_text(names[value]) or "") if value in names else str(value)
    if datum.type in NUMBER_TYPES or isinstance(value, (int, float)):
        return _number(value)
    if isinstance(value, str) and (datum.type == "date" or ISO_DATE.fullmatch(value)):
        return _date(value)
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _number(value: Any) -> str:
    try:
        return _shown(Decimal(value) if isinstance(value, str) else value)
    except InvalidOperation:
        return str(value)


def _date(text: str) -> str:
    try:
        return local_date(text)
    except ValueError:
        return text


def notification_text(notification: dict[str, Any]) -> str:
    """A notification in the reader's language and time zone; one stored before notifications kept
    their parameters (no `message_id`) as it was written."""
    params = notification.get("params") or {}
    if notification.get("message_id") == "sla_breached_task":
        return _("SLA breached: the task “%(task)s” of case %(case)s was due %(due)s",
                 task=model_text(params["task"]), case=params["case"], due=local_time(params["due_at"]))
    if notification.get("message_id") == "sla_breached_case":
        return _("SLA breached: case %(case)s of “%(process)s” was due %(due)s",
                 case=params["case"], process=model_text(params["process"]), due=local_time(params["due_at"]))
    return notification["message"]


def init_app(app: Flask) -> None:
    app.jinja_env.filters.update(group_name=group_name, sla_words=sla_words, case_value=case_value,
                                 notification_text=notification_text)
