"""Two OS processes acting on one case at the same moment never lose an update."""
from __future__ import annotations

import pytest

from engine.services import deployments, instances, tasks, users
from engine.services.context import EngineContext
from engine.errors import BankflowError
from tests.helpers.multiproc import run_together



def _complete_in_child(barrier, results, url: str, task_id: int, user: str, data: dict) -> None:
    ctx = EngineContext.from_url(url)
    try:
        barrier.wait(timeout=30)
        outcome = tasks.complete(ctx, task_id, user, data)
        results.put(("ok", outcome.instance.status))
    except BankflowError as exc:
        results.put((type(exc).__name__, str(exc)))
    finally:
        ctx.close()


def race(url: str, jobs: list[tuple[int, str, dict]]) -> list[tuple[str, str]]:
    return sorted(run_together(_complete_in_child, [(url, *job) for job in jobs], timeout=120))


@pytest.fixture
def reviewers(ctx, fixture_path):
    for name in ("rita", "rob"):
        users.add_user(ctx, name, "secret123", groups=["reviewers"])
    deployments.deploy(ctx, deployments.read_sources([fixture_path("parallel_review.bpmn")]))
    return ctx


def test_same_task_completed_by_two_processes(reviewers, database_url):
    ctx = reviewers
    case = instances.start(ctx, "parallel_review", user="rita")
    legal = next(t for t in tasks.list_tasks(ctx, instance_id=case.id) if t.element_id == "legal")
    tasks.claim(ctx, legal.id, "rita")

    outcomes = race(database_url, [(legal.id, "rita", {"legal_ok": True}),
                                   (legal.id, "rita", {"legal_ok": False})])

    assert [o[0] for o in outcomes] == ["Conflict", "ok"]
    assert "already completed by rita" in outcomes[0][1]
    detail = instances.get_instance(ctx, case.id)
    assert [e.type for e in detail.history].count("task_completed") == 1
    statuses = {t.element_id: t.status for t in detail.tasks}
    assert statuses == {"legal": "completed", "risk": "open"}
    assert detail.status == "running"


def test_two_tasks_of_one_case_completed_at_once(reviewers, database_url):
    ctx = reviewers
    case = instances.start(ctx, "parallel_review", user="rita")
    by_element = {t.element_id: t for t in tasks.list_tasks(ctx, instance_id=case.id)}
    tasks.claim(ctx, by_element["legal"].id, "rita")
    tasks.claim(ctx, by_element["risk"].id, "rob")

    outcomes = race(database_url, [(by_element["legal"].id, "rita", {"legal_ok": True}),
                                   (by_element["risk"].id, "rob", {"risk_ok": True})])

    # Both workflows were restored from the same state; saving both would lose one
    # completion. Either one wins and the other is told, or the database serialised them.
    kinds = [o[0] for o in outcomes]
    assert kinds in (["Conflict", "ok"], ["ok", "ok"])
    detail = instances.get_instance(ctx, case.id)
    completed = {t.element_id for t in detail.tasks if t.status == "completed"}
    if kinds == ["Conflict", "ok"]:
        assert "changed by someone else" in outcomes[0][1]
        assert len(completed) == 1 and detail.status == "running"
        loser = ({"legal", "risk"} - completed).pop()
        who = "rita" if loser == "legal" else "rob"
        retried = tasks.complete(ctx, by_element[loser].id, who, {f"{loser}_ok": True})
        assert retried.instance.status == "completed"
    else:
        assert completed == {"legal", "risk"} and detail.status == "completed"
    final = instances.get_instance(ctx, case.id)
    assert final.status == "completed"
    assert final.variables["legal_ok"] is True and final.variables["risk_ok"] is True
