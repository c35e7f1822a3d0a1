"""bankflow's workflow classes: SpiffWorkflow's, with task lookups that stay complete and fast
in deep task trees.

After every task completes, SpiffWorkflow updates the workflow's WAITING tasks (joins, timers)
by walking the task tree from its root, and that walk stops 1,000 levels down: in a loop of a
few hundred rounds the join gateway of the next round is never updated, the case stalls and was
then reported completed. Below LIBRARY_DEPTH tasks the library's own walk is used unchanged
(a tree can be no deeper than it has tasks); above, every task is scanned, in creation order,
which is complete and about a hundred times cheaper per task than the walk.
"""
from __future__ import annotations

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.util.subworkflow import BpmnSubWorkflow
from SpiffWorkflow.util.task import TaskState
from SpiffWorkflow.workflow import Workflow  # noqa: F401 - the base whose walk is replaced

from engine.runtime.waits import LIBRARY_DEPTH, walk


def _update_waiting_tasks(workflow: Workflow) -> None:
    if len(workflow.tasks) < LIBRARY_DEPTH:
        for task in walk(workflow, TaskState.WAITING, into_subprocesses=False):
            task.task_spec._update(task)
        return
    for task in [task for task in workflow.tasks.values() if task._state == TaskState.WAITING]:
        if task._state == TaskState.WAITING:
            task.task_spec._update(task)


class BankflowSubWorkflow(BpmnSubWorkflow):
    def update_waiting_tasks(self) -> None:
        _update_waiting_tasks(self)


class BankflowWorkflow(BpmnWorkflow):
    def update_waiting_tasks(self) -> None:
        _update_waiting_tasks(self)

    def create_subprocess(self, my_task, spec_name):
        subprocess = BankflowSubWorkflow(self.subprocess_specs[spec_name], parent_task_id=my_task.id,
                                         top_workflow=self)
        self.subprocesses[my_task.id] = subprocess
        return subprocess
