"""Class 10: the profile form refuses bad input with the message beside the field, the input kept, in
the user's language, and saves nothing (it used to answer 200 and silently drop it)."""
from __future__ import annotations

from engine.services import users
from tests.web.conftest import csrf_token


def save(client, locale: str, timezone: str, language: str = "en"):
    return client.post("/profile", data={"locale": locale, "timezone": timezone,
                                         "csrf_token": csrf_token(client, "/profile")},
                       headers={"Accept-Language": language})


def test_an_unknown_language_is_refused_beside_its_field(bank, client, sign_in):
    sign_in("olga")
    response = save(client, "klingon", "Europe/London")
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert '<p class="problem" id="locale-problem">must be one of en, zh_Hans</p>' in page
    assert 'value="Europe/London"' in page
    assert users.get_user(bank, "olga").timezone is None  # nothing saved


def test_a_very_long_time_zone_is_refused_with_the_input_kept(bank, client, sign_in):
    sign_in("olga")
    long_name = "Asia/" + "x" * 5000
    response = save(client, "", long_name, language="zh-CN")
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert '<p class="problem" id="timezone-problem">最多 60 个字符</p>' in page
    assert f'value="{long_name}"' in page and 'aria-invalid="true"' in page
    assert users.get_user(bank, "olga").timezone is None


def test_a_time_zone_that_does_not_exist_is_refused_in_the_users_language(bank, client, sign_in):
    sign_in("olga")
    response = save(client, "", "Mars/Olympus_Mons")
    assert response.status_code == 400
    assert "is not a time zone name such as Asia/Shanghai" in response.get_data(as_text=True)
    response = save(client, "", "Mars/Olympus_Mons", language="zh-CN")
    assert "不是时区名称" in response.get_data(as_text=True)
    assert users.get_user(bank, "olga").timezone is None


def test_good_values_are_still_saved(bank, client, sign_in):
    sign_in("olga")
    response = save(client, "zh_Hans", " Europe/London ")
    assert response.status_code == 302
    saved = users.get_user(bank, "olga")
    assert (saved.locale, saved.timezone) == ("zh_Hans", "Europe/London")
