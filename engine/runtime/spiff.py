"""The one module that touches SpiffWorkflow's internals.

bankflow drives SpiffWorkflow through its public API (the parser, `BpmnWorkflow`, `Task.run`,
`Task.complete`, `refresh_timers`, the serializer's converters) and needs a few things the library
does only through private names, or inside methods that cannot be reused as they are:
- put a failed task back to READY (`force_ready`) and let one task's spec look at it again
  (`update_task`);
- read and keep what a timer was set to, where the library's event machinery reads it
  (`timer_value`, `keep_timer_value`, `mark_fired`, `has_fired`);
- find tasks at any depth of the task tree: the library's iterator stops 1,000 levels down, which a
  loop reaches after a few hundred rounds (`walk`, `tasks_in`), so bankflow's workflow classes
  update their waiting tasks with it (`BankflowWorkflow`, which also makes its subprocesses of
  bankflow's class) and the step loop runs with it (`engine_round`, `do_engine_steps`).

Each function names the SpiffWorkflow behaviour it relies on, and `tests/unit/test_spiff_contract.py`
pins every one of them, so an upgrade of SpiffWorkflow shows at once what broke. Nothing else in
engine/ uses a private SpiffWorkflow name (that test module checks it). The hot loops read
`Task._state` and `Task._children` directly: the public `state` and `children` properties cost a
call (and a list) per task on walks made after every step.
"""
from __future__ import annotations

from typing import Any, Callable, Iterator

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.util.subworkflow import BpmnSubWorkflow
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

# --- one task -------------------------------------------------------------------------------------


def force_ready(task: Task) -> None:
    """Put a task that failed (ERROR) back to READY, its data and children as they are.

    The public `Task.state` setter refuses a move backwards (ERROR comes after READY), and the public
    `BpmnWorkflow.reset_from_task_id` would also drop the task's children and replace its data with
    its parent's. `Task._set_state` is the library's own forced move (its `reset_from_task_id` uses
    it the same way)."""
    task._set_state(TaskState.READY)


def update_task(task: Task) -> None:
    """Let a task's spec look at the task again, as the library does after any change that may
    concern it (`TaskSpec._update`): a join checks its inputs, a timer the clock, a task whose
    preparation failed is prepared again, a subprocess's task sees its subprocess ended. The library
    has no public call for one task (`refresh_timers` updates every timer)."""
    task.task_spec._update(task)


# --- timers ---------------------------------------------------------------------------------------
# The keys SpiffWorkflow's event definitions keep in a task's internal data: what the timer was set
# to (`event_value`: an ISO date for a one-off timer, a dict with `cycles`, `next` and `duration` for a
# cycle; shown by the definitions' `details`) and that the event happened (`event_fired`, read by
# `EventDefinition.has_fired`, which `CatchingEvent._update_hook` asks, and cleared by
# `EventDefinition.reset` when the event's task runs). They are saved with the workflow state.
EVENT_VALUE = "event_value"
EVENT_FIRED = "event_fired"


def timer_value(task: Task) -> Any:
    """What the task's timer was set to, or None before it was first asked (`event_value`)."""
    return task.internal_data.get(EVENT_VALUE)


def keep_timer_value(task: Task, value: Any) -> None:
    """Keep what the task's timer was set to, where the library's timer definitions keep it."""
    task.internal_data[EVENT_VALUE] = value


def mark_fired(task: Task) -> None:
    """Record that the task's event happened: its catching event then becomes READY when updated."""
    task.internal_data[EVENT_FIRED] = True


def has_fired(task: Task) -> bool:
    """True once the task's event happened (and until its task runs), as `EventDefinition.has_fired`."""
    return bool(task.internal_data.get(EVENT_FIRED, False))


# --- the task tree --------------------------------------------------------------------------------
# SpiffWorkflow's task iterator stops 1,000 levels below the root: a loop that ran a few hundred
# rounds has READY or WAITING tasks deeper than that, which `get_tasks` silently leaves out (and
# `is_completed` then wrongly says yes). Its walk also costs about 5 us a task, paid after every
# step, which makes a long loop quadratic. A tree can be no deeper than it has tasks, so for
# workflows of fewer than LIBRARY_DEPTH tasks (every ordinary case) the library's own ordered
# walk is used; bigger ones are scanned flat, in creation order: complete, and about a hundred
# times cheaper a task. (Only the relative order of tasks ready at the same moment, parallel
# branches, can differ from the library's.)
LIBRARY_DEPTH = 200


def walk(workflow: Any, state: int, into_subprocesses: bool = True) -> Iterator[Task]:
    """The tasks of `workflow` in `state`, lazily and in exactly the order of SpiffWorkflow's
    depth-first iterator (`BpmnTaskIterator`, or `TaskIterator` without `into_subprocesses`),
    for a state filter of definite states, at a fraction of its cost per task. Like the library
    it expands a task's children when it reaches the task, before yielding it."""
    min_state = TaskState.MAYBE if state & TaskState.PREDICTED_MASK else (
        TaskState.FUTURE if state & TaskState.DEFINITE_MASK else TaskState.COMPLETED)
    subprocesses = workflow.top_workflow.subprocesses if into_subprocesses else {}
    pending = [workflow.task_tree]
    while pending:
        task = pending.pop()
        sub = subprocesses.get(task.id) if subprocesses else None
        if (task._children or sub is not None) and (task._state >= min_state or sub is not None):
            tasks = task.workflow.tasks
            following = [tasks.get(child) for child in reversed(task._children)]
            if sub is not None:
                following.append(sub.task_tree)
            pending.extend(following)
        if task._state & state:
            yield task


def _all_tasks(workflow: Any) -> list[Task]:
    """Every task of `workflow` and of the subprocesses under it, in creation order."""
    found = list(workflow.tasks.values())
    top = workflow.top_workflow
    for sub in top.subprocesses.values():
        parent = sub
        while parent is not None and parent is not workflow and parent is not top:
            parent = parent.parent_workflow
        if sub is not workflow and (parent is workflow or workflow is top):
            found.extend(sub.tasks.values())
    return found


def within_library_depth(workflow: Any) -> bool:
    """True when the library's own walks see every task of the workflow and its subprocesses."""
    count = len(workflow.tasks) + sum(len(sub.tasks) for sub in workflow.top_workflow.subprocesses.values())
    return count < LIBRARY_DEPTH


def tasks_in(workflow: Any, state: int, manual: bool | None = None) -> list[Task]:
    """The tasks of `workflow` in `state` (a TaskState mask), however deep the task tree is."""
    if within_library_depth(workflow):
        found = list(walk(workflow, state))
    else:
        found = [task for task in _all_tasks(workflow) if task._state & state]
    return found if manual is None else [task for task in found if task.task_spec.manual == manual]


# --- bankflow's workflow classes ------------------------------------------------------------------


def _update_waiting_tasks(workflow: Any) -> None:
    """`Workflow.update_waiting_tasks` (called after every task completes), finding the WAITING
    tasks at any depth: the library's walk stops 1,000 levels down, so in a loop of a few hundred
    rounds the join gateway of the next round was never updated, and the case stalled."""
    if len(workflow.tasks) < LIBRARY_DEPTH:
        for task in walk(workflow, TaskState.WAITING, into_subprocesses=False):
            update_task(task)
        return
    for task in [task for task in workflow.tasks.values() if task._state == TaskState.WAITING]:
        if task._state == TaskState.WAITING:  # an earlier update may have moved it on
            update_task(task)


class BankflowSubWorkflow(BpmnSubWorkflow):
    """A subprocess (call activity, embedded subprocess) that updates its waiting tasks at any depth."""

    def update_waiting_tasks(self) -> None:
        _update_waiting_tasks(self)


class BankflowWorkflow(BpmnWorkflow):
    """A process that updates its waiting tasks at any depth and makes its subprocesses of
    bankflow's class."""

    def update_waiting_tasks(self) -> None:
        _update_waiting_tasks(self)

    def create_subprocess(self, my_task: Task, spec_name: str) -> BankflowSubWorkflow:
        """`BpmnWorkflow.create_subprocess` with bankflow's subprocess class: the library calls it
        when a call activity or subprocess starts, and names its own class inside it."""
        subprocess = BankflowSubWorkflow(self.subprocess_specs[spec_name], parent_task_id=my_task.id,
                                         top_workflow=self)
        self.subprocesses[my_task.id] = subprocess
        return subprocess


# --- the step loop --------------------------------------------------------------------------------


def engine_round(workflow: BpmnWorkflow, run: Callable[[Task], None]) -> bool:
    """One pass of SpiffWorkflow's `BpmnWorkflow._do_engine_steps` with `run` in place of `Task.run`:
    the READY engine tasks of the active subprocesses, deepest first, each until none is left, then
    the subprocess's task updated (it completes when its subprocess did); then those of the process
    itself. READY tasks are found at any depth (`tasks_in`), and a task that an earlier one moved on
    is skipped. True when it ran something or started a subprocess."""

    def run_ready(current: Any) -> int:
        count = 0
        for task in tasks_in(current, TaskState.READY):
            if task.task_spec.manual or not task.has_state(TaskState.READY):
                continue
            run(task)
            count += 1
        return count

    active = workflow.get_active_subprocesses()
    for subprocess in sorted(active, key=lambda sub: sub.depth, reverse=True):
        while run_ready(subprocess) > 0:
            pass
        if subprocess.parent_task_id is not None:
            update_task(workflow.get_task_from_id(subprocess.parent_task_id))
    count = run_ready(workflow)
    return count > 0 or len(workflow.get_active_subprocesses()) > len(active)


def do_engine_steps(workflow: BpmnWorkflow, run: Callable[[Task], None]) -> None:
    """SpiffWorkflow's `BpmnWorkflow.do_engine_steps` with `run` in place of `Task.run`: rounds until
    only manual tasks and waits are left, then the timers look at the time."""
    while engine_round(workflow, run):
        pass
    workflow.refresh_timers()
