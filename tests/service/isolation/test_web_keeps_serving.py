"""The web app keeps serving while a script that crashes its evaluator runs: the crash ends an
evaluator process, never the web process, and other requests (ordinary cases too) go on.

On SQLite every service call holds the database's single write lock, which the health check's
connection also takes, so there the probe is a page that needs no database and no other case can
start meanwhile; on PostgreSQL the health check and ordinary cases run beside the crashing one."""
from __future__ import annotations

import threading
import time

from engine.runtime.sandbox import ScriptLimits
from engine.runtime.script_engine import BankflowScriptEngine
from engine.services import instances
from tests.service.isolation import diagrams as d
from webui import create_app

CRASH = "x = [1]\nfor i in range(1000000):\n    x = map(abs, x)\nn = len(list(x))"
SPIN = "spin = 0\nfor i in range(200000):\n    spin += 1\n" + CRASH  # a little longer before the crash


def test_the_web_app_answers_while_a_script_crashes_its_evaluator(ctx, is_postgres):
    ctx.script_engine = BankflowScriptEngine(ScriptLimits(cpu_seconds=6, memory_mb=256), ctx.clock, ctx.calendars,
                                             ctx.budget)
    d.deploy(ctx, ("iso.bpmn", d.script_process(SPIN)))
    d.deploy(ctx, ("ok.bpmn", d.script_process("total = 1 + 2").replace(b'id="iso"', b'id="ok"')))
    client = create_app({"TESTING": True, "ENGINE_CONTEXT": ctx, "SECRET_KEY": "test"}).test_client()
    outcome: dict = {}

    def crashing_case() -> None:
        outcome["case"] = instances.start(ctx, "iso")

    worker = threading.Thread(target=crashing_case)
    worker.start()
    probe, expected = ("/health", 200) if is_postgres else ("/no-such-page", 404)
    answered = ordinary = 0
    while worker.is_alive():
        started = time.monotonic()
        response = client.get(probe)
        assert response.status_code == expected
        assert time.monotonic() - started < 2, "a request waited for the crashing script"
        answered += 1
        if is_postgres and ordinary < 3:
            assert instances.start(ctx, "ok").status == "completed"
            ordinary += 1
        time.sleep(0.05)
    worker.join()
    assert answered >= 2 and (ordinary >= 1 or not is_postgres)
    case = instances.get_instance(ctx, outcome["case"].id)
    assert case.status == "incident" and "crashed the script runner" in case.incident_message
    assert client.get("/health").status_code == 200
