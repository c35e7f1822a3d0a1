"""The SQL behind a service call does not grow with a case's history (no N+1 queries)."""
from __future__ import annotations

from engine.services import deployments, instances, tasks
from tests.helpers.statements import counting


def test_claim_and_complete_cost_the_same_in_round_1_and_round_30(ctx, staff, fixture_path):
    deployments.deploy(ctx, deployments.read_sources([fixture_path("rework_loop.bpmn")]))
    case = instances.start(ctx, "rework_loop", {"rounds": 0}, user="ann")
    costs = []
    for _ in range(30):
        [task] = tasks.list_tasks(ctx, instance_id=case["id"])
        with counting(ctx) as claim_sql:
            tasks.claim(ctx, task["id"], "ann")
        with counting(ctx) as complete_sql:
            tasks.complete(ctx, task["id"], "ann", {"again": True})
        costs.append((len(claim_sql), len(complete_sql)))
    assert len(set(costs[1:])) == 1, costs  # round 1 may warm caches; then constant
    claim_cost, complete_cost = costs[-1]
    # claim: actor, task, guarded update, events. complete: actor, task, the instance,
    # the task's SLA checks dropped, guarded task update, activity closed and opened, the
    # next task, its candidate and SLA checks, guarded instance update, events.
    assert (claim_cost, complete_cost) == (4, 12), costs[-1]
    detail = instances.get_instance(ctx, case["id"])
    # started, then per round the task created, claimed and completed, and round 31's task created
    assert detail["variables"]["rounds"] == 30 and len(detail["history"]) == 1 + 30 * 3 + 1
