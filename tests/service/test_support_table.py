"""The README's table of supported BPMN constructs, checked row by row.

Every row of the table names a construct in tests/helpers/support_table.py; supported ones
must deploy and run to completion, refused ones must be refused at deploy. A row without a
sample, or a sample without a row, fails tests/unit/test_support_table_rows.py.
"""
from __future__ import annotations

import pytest

from engine.services import deployments, instances, tasks
from engine.errors import DeployError
from engine.services.due_jobs import run_due_jobs
from engine.services.worker import run_connectors
from tests.helpers.support_table import SAMPLES, readme_rows


@pytest.mark.parametrize("construct", sorted(SAMPLES))
def test_row_holds(ctx, staff, clock, construct):
    status = readme_rows()[construct]
    files, variables = SAMPLES[construct]
    ctx.connectors.register("echo", lambda v: {"echoed": True})  # answers the delegate `${echo}`
    if status.startswith("refused"):
        with pytest.raises(DeployError):
            deployments.deploy(ctx, files)
        return
    assert status.startswith("supported"), status
    deployments.deploy(ctx, files)
    case = instances.start(ctx, "p", variables)
    for waiting in tasks.list_tasks(ctx, instance_id=case.id):
        tasks.claim(ctx, waiting.id, "ann")
        tasks.complete(ctx, waiting.id, "ann", {"ok": True})
    run_connectors(ctx, ctx.connectors, "w")
    clock.advance(hours=2)
    run_due_jobs(ctx)
    assert instances.get_instance(ctx, case.id).status == "completed"
