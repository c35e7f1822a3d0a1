"""The development server's request handler (`bankflow serve`): Werkzeug's, without its version banner.

Werkzeug answers every request with `Server: Werkzeug/x.y Python/x.y`, telling an attacker which
versions to look up; here the header only says `bankflow`. (gunicorn, for production, sends
`Server: gunicorn` without a version.)
"""
from __future__ import annotations

from werkzeug.serving import WSGIRequestHandler

SERVER_NAME = "bankflow"


class BannerlessRequestHandler(WSGIRequestHandler):
    server_version = SERVER_NAME  # also the WSGI environ's SERVER_SOFTWARE
    sys_version = ""

    def version_string(self) -> str:
        return SERVER_NAME
