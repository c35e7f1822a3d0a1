"""The Flask app factory and its health page (the app and client fixtures are in conftest.py)."""
from __future__ import annotations

from webui import create_app


def test_health_reports_the_database(client, is_postgres):
    response = client.get("/health")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok",
                                   "dialect": "postgresql" if is_postgres else "sqlite",
                                   "worker": {"status": "idle", "last_pass_at": None}}


def test_health_says_when_the_database_is_unreachable():
    app = create_app({"TESTING": True, "DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/none",
                      "SECRET_KEY": "test"})
    response = app.test_client().get("/health")
    assert response.status_code == 503
    assert response.get_json()["status"] == "degraded"
    assert response.get_json()["worker"] == {"status": "unknown", "last_pass_at": None}


def test_unknown_pages_are_404(client):
    assert client.get("/nope").status_code == 404
