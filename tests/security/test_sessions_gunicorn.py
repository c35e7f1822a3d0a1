"""Class 1 under gunicorn with two workers: a cookie copied before sign-out is refused afterwards by
every worker, not only by the process that signed the user out."""
from __future__ import annotations

import copy
import http.cookiejar
import re
import urllib.error
import urllib.parse
import urllib.request

from tests.web.browser.conftest import gunicorn
from tests.web.conftest import PASSWORD

REQUESTS = 16  # several requests per browser, so both workers answer some (sync workers, no keep-alive)


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Browser:
    """urllib with a cookie jar; redirects are not followed, so an answer says where it leads."""

    def __init__(self, base: str, jar: http.cookiejar.CookieJar | None = None):
        self.base, self.jar = base, jar if jar is not None else http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), NoRedirect)

    def request(self, path: str, form: dict[str, str] | None = None) -> tuple[int, str, str]:
        """(status, Location, body)."""
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        try:
            with self.opener.open(self.base + path, data=data, timeout=10) as answer:
                return answer.status, answer.headers.get("Location", ""), answer.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.headers.get("Location", ""), error.read().decode()

    def csrf(self, path: str) -> str:
        return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', self.request(path)[2]).group(1)


def test_a_copied_cookie_is_refused_by_every_worker_after_sign_out(bank, database_url, tmp_path):
    with gunicorn(database_url, tmp_path) as base:
        victim = Browser(base)
        status, location, _ = victim.request("/login", {"name": "olga", "password": PASSWORD,
                                                        "csrf_token": victim.csrf("/login")})
        assert status == 302 and location.endswith("/tasks")
        stolen = http.cookiejar.CookieJar()
        for cookie in victim.jar:
            stolen.set_cookie(copy.copy(cookie))
        attacker = Browser(base, stolen)
        assert all(attacker.request("/tasks")[0] == 200 for _ in range(REQUESTS))  # the copy works until...

        status, location, _ = victim.request("/logout", {"csrf_token": victim.csrf("/tasks")})
        assert status == 302 and "/login" in location

        for _ in range(REQUESTS):
            status, location, _ = attacker.request("/tasks")
            assert status == 302 and "/login" in location
