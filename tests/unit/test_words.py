"""The web layer's words for the engine's values (webui.words, webui.formatting), in English and Chinese:
values by type, SLA targets, the one date-time format, group names and notifications."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from flask import Flask, g
from flask_babel import Babel, force_locale

from engine.services.case_data import CaseDatum
from engine.records.users import GroupRecord
from webui.formatting import local_date, local_time
from webui import model_words
from webui.i18n import compile_catalogues
from webui.words import case_value, group_name, notification_text, sla_words


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    """Flask-Babel with the real catalogues (the app's and the library's) and the bank's time zone; no database."""
    compiled = tmp_path_factory.mktemp("translations")
    compile_catalogues(compiled)
    compile_catalogues(compiled, model_words.LIBRARY_TRANSLATIONS, model_words.DOMAIN)
    app = Flask(__name__)
    Babel(app, default_timezone="Asia/Shanghai", default_translation_directories=str(compiled))
    model_words.init_app(app, compiled)
    return app


@pytest.fixture
def said(app):
    """Run a function in a request in the given language."""

    def run(locale: str, function, *args):
        with app.test_request_context(), force_locale(locale):
            return function(*args)

    return run


def value(type_: str | None, stored, options=()) -> CaseDatum:
    return CaseDatum("x", "X", type_, stored, options)


@pytest.mark.parametrize("datum, english, chinese", [
    (value("long", 80000), "80,000", "80,000"),
    (value("long", 1234567), "1,234,567", "1,234,567"),
    (value("double", 3.85), "3.85", "3.85"),
    (value("decimal", "1234.50"), "1,234.5", "1,234.5"),
    (value("decimal", "0.12345"), "0.12345", "0.12345"),  # every digit kept, none rounded away
    (value(None, 25000), "25,000", "25,000"),
    (value("boolean", True), "Yes", "是"),
    (value("boolean", False), "No", "否"),
    (value(None, True), "Yes", "是"),
    (value("date", "2027-01-15"), "Jan 15, 2027", "2027年1月15日"),
    (value(None, "2027-01-15"), "Jan 15, 2027", "2027年1月15日"),
    (value("enum", "car", (("home", "Home"), ("car", "Car loan"))), "Car loan", "汽车贷款"),  # the library's word
    (value("enum", "car", (("car", "Family car"),)), "Family car", "Family car"),  # a designer's own, as authored
    (value("enum", "boat", (("home", "Home"),)), "boat", "boat"),
    (value("string", "Li Wei"), "Li Wei", "Li Wei"),
    (value("string", None), "–", "–"),
    (value(None, {"score": 710, "band": "甲"}), '{"score": 710, "band": "甲"}', '{"score": 710, "band": "甲"}'),
])
def test_values_are_formatted_by_type_and_language(said, datum, english, chinese):
    assert said("en", case_value, datum) == english
    assert said("zh_Hans", case_value, datum) == chinese


@pytest.mark.parametrize("target, calendar, english, chinese", [
    ("P2D", None, "2 business days", "2 个工作日"),
    ("P1D", "default", "1 business day", "1 个工作日"),
    ("P2D", "24x7", "2 days", "2 天"),
    ("PT4H", "24x7", "4 hours", "4 小时"),
    ("PT1H", "24x7", "1 hour", "1 小时"),
    ("PT4H", None, "4 business hours", "4 个工作小时"),
    ("P1W", None, "5 business days", "5 个工作日"),
    ("P2W", "24x7", "2 weeks", "2 周"),
    ("P1DT4H30M", "24x7", "1 day 4 hours 30 minutes", "1 天 4 小时 30 分钟"),
    ("PT90M", "24x7", "1 hour 30 minutes", "1 小时 30 分钟"),
    ("P1.5D", "24x7", "1.5 days", "1.5 天"),
    ("soon", None, "soon", "soon"),
    (None, None, "", ""),
])
def test_sla_targets_in_words(said, target, calendar, english, chinese):
    assert said("en", sla_words, target, calendar) == english
    assert said("zh_Hans", sla_words, target, calendar) == chinese


def test_one_date_time_format_to_the_minute_in_the_users_time_zone(said):
    instant = datetime(2026, 12, 7, 8, 23, 45, tzinfo=timezone.utc)  # 16:23:45 in Shanghai
    english = said("en", local_time, instant)
    assert english.replace("\u202f", " ") == "Dec 7, 2026, 4:23 PM"
    assert said("en", local_time, "2026-12-07T08:23:45Z") == english  # ISO text as the views give it
    assert said("zh_Hans", local_time, "2026-12-07T08:23:45Z") == "2026年12月7日 16:23"
    assert said("en", local_time, None) == ""
    assert said("en", local_date, "2026-12-07") == "Dec 7, 2026"
    assert said("zh_Hans", local_date, "2026-12-07") == "2026年12月7日"


@pytest.mark.parametrize("titles, english, chinese", [
    (GroupRecord(name="credit_officers", title="Credit Officers", title_zh="信贷员"), "Credit Officers", "信贷员"),
    (GroupRecord(name="credit_officers", title="Credit Officers", title_zh=None), "Credit Officers", "Credit Officers"),
    (GroupRecord(name="credit_officers", title=None, title_zh="信贷员"), "信贷员", "信贷员"),
    (GroupRecord(name="credit_officers", title=None, title_zh=None), "Credit officers", "Credit officers"),
    (None, "Credit officers", "Credit officers"),  # a group the page knows no titles of
])
def test_group_names_in_the_readers_language_with_fallbacks(said, titles, english, chinese):
    def named(group: str) -> str:
        g.group_titles = {titles.name: titles} if titles else {}
        return group_name(group)

    assert said("en", named, "credit_officers") == english
    assert said("zh_Hans", named, "credit_officers") == chinese


def test_a_breach_notification_is_said_in_the_readers_language_and_time_zone(said):
    task = {"message": "SLA breached: task 'Underwrite loan' (#7) was due 2026-12-07 08:00 UTC",
            "message_id": "sla_breached_task",
            "params": {"task": "Underwrite loan", "case": 3, "process": "Loan application",
                       "due_at": "2026-12-07T08:00:00Z"}}
    assert said("en", notification_text, task).replace("\u202f", " ") == \
        "SLA breached: the task “Underwrite loan” of case 3 was due Dec 7, 2026, 4:00 PM"
    assert said("zh_Hans", notification_text, task) == "服务时限超时：案件 3 的任务“贷款审查”应于 2026年12月7日 16:00 前完成"
    case = {"message": "…", "message_id": "sla_breached_case",
            "params": {"case": 3, "process": "Loan application", "due_at": "2026-12-07T08:00:00Z"}}
    assert said("zh_Hans", notification_text, case) == "服务时限超时：“贷款申请”的案件 3 应于 2026年12月7日 16:00 前完成"
    old = {"message": "SLA breached: case 3 of loan_application was due 2026-12-07 08:00 UTC", "message_id": None,
           "params": None}
    assert said("zh_Hans", notification_text, old) == old["message"]
