"""The SQL behind a service call does not grow with a case's history (no N+1 queries), and completing a
task from its page costs one transaction that reads the actor once and the task and the case once each."""
from __future__ import annotations

from engine.services import deployments, instances, tasks
from tests.helpers.statements import counting, transactions
from tests.web.conftest import csrf_token
from webui import create_app


def test_claim_and_complete_cost_the_same_in_round_1_and_round_30(ctx, staff, fixture_path):
    deployments.deploy(ctx, deployments.read_sources([fixture_path("rework_loop.bpmn")]))
    case = instances.start(ctx, "rework_loop", {"rounds": 0}, user="ann")
    costs = []
    for _ in range(30):
        [task] = tasks.list_tasks(ctx, instance_id=case.id)
        with counting(ctx) as claim_sql:
            tasks.claim(ctx, task.id, "ann")
        with counting(ctx) as complete_sql:
            done = tasks.complete(ctx, task.id, "ann", {"again": True})
        costs.append((len(claim_sql), len(complete_sql)))
        assert done.next_task_id is not None and done.next_task_id != task.id  # the next round's task
    assert len(set(costs[1:])) == 1, costs  # round 1 may warm caches; then constant
    claim_cost, complete_cost = costs[-1]
    # claim: actor, task, guarded update, events. complete: actor, task, the instance,
    # the task's SLA checks dropped, guarded task update, activity closed and opened, the
    # next task, its candidate and SLA checks, guarded instance update, events, and the
    # case's tasks (where the user goes next).
    assert (claim_cost, complete_cost) == (4, 13), costs[-1]
    detail = instances.get_instance(ctx, case.id)
    # started, then per round the task created, claimed and completed, and round 31's task created
    assert detail.variables["rounds"] == 30 and len(detail.history) == 1 + 30 * 3 + 1


def test_completing_a_task_from_its_page_is_one_transaction(ctx, staff, fixture_path):
    """POST /tasks/<id>/complete and the redirect it answers with: the sign-in session is looked up (one
    statement), then one service call completes the task and says where the user goes next."""
    deployments.deploy(ctx, deployments.read_sources([fixture_path("rework_loop.bpmn")]))
    case = instances.start(ctx, "rework_loop", {"rounds": 0}, user="ann")
    client = create_app({"TESTING": True, "ENGINE_CONTEXT": ctx, "SECRET_KEY": "test"}).test_client()
    response = client.post("/login", data={"name": "ann", "password": "secret123", "csrf_token": csrf_token(client)})
    assert response.status_code == 302
    costs = []
    for _ in range(3):
        [task] = tasks.list_tasks(ctx, instance_id=case.id)
        tasks.claim(ctx, task.id, "ann")
        token = csrf_token(client, f"/tasks/{task.id}")
        with counting(ctx) as sql, transactions(ctx) as begun:
            response = client.post(f"/tasks/{task.id}/complete", data={"again": "true", "csrf_token": token})
        [following] = tasks.list_tasks(ctx, instance_id=case.id)
        assert response.status_code == 302 and response.location == f"/tasks/{following.id}"
        costs.append((len(begun), len(sql)))
    # Before (issue #21): 4 transactions, 20 statements: the session (1), the task page's detail only to
    # read the form (5), completing (12), the next task (2). Now the session, and completing (the 13 above).
    assert costs[-1] == (2, 14), costs
