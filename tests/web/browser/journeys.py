"""A generic journey driver: one case of a deployed model, from the start form to its end, done in the
browser by the people the model names.

It never knows a model: it reads what the deployed definitions say (who may start, the start and task
forms, the candidates, four-eyes), signs in as the demo users of processes/demo_users.toml, starts the
case through /start, and works every user task through the task pages as a right candidate, while a
real worker answers service tasks and timers. Values come from the library's simulator scenario where it
has one for a field, else from the field's type and constraints; enum and yes/no choices follow the
journey's *path*: path 0 takes the first option (yes), path 1 the last (no), path 2 the middle one (yes),
and a task met again in the same case takes the next option, so rework loops end. On the first form with a field that can be refused,
a wrong value is entered first: the message must appear beside the field with the input kept, then the
value is corrected.
"""
from __future__ import annotations

import random
import time
import tomllib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Callable

from sqlalchemy import select

from engine.analytics import scenario as scenarios
from engine.services import instances, tasks
from engine.services.context import EngineContext
from engine.services.unit_of_work import unit_of_work
from engine.store.tables import JOB
from engine.json_shapes import instance_detail

LIBRARY = Path(__file__).resolve().parents[3] / "processes"
SETTLE_SECONDS = 30  # how long a case may take to reach its next wait with the worker running
MAX_TASKS = 40  # a journey longer than this goes round in a loop


@dataclass(frozen=True)
class DemoUser:
    name: str
    password: str
    roles: tuple[str, ...]
    groups: tuple[str, ...]


def demo_users() -> dict[str, DemoUser]:
    spec = tomllib.loads((LIBRARY / "demo_users.toml").read_text(encoding="utf-8"))["users"]
    return {name: DemoUser(name, u["password"], tuple(u.get("roles", ())), tuple(u.get("groups", ())))
            for name, u in spec.items()}


@dataclass
class Outcome:
    """How a journey ended: the case's status, who did which task, and the timer it waits on, if any."""

    instance_id: int
    status: str
    steps: list[tuple[str, str]] = field(default_factory=list)  # (element id, user)
    waiting_timer: str | None = None
    refused_field: str | None = None
    four_eyes_shown: list[tuple[str, str]] = field(default_factory=list)  # (element id, user held back)


# --- choosing values --------------------------------------------------------------------------

def path_choice(form_field: dict[str, Any], path: int, visit: int) -> Any:
    """The enum option or yes/no answer of `path` at the `visit`-th time the task is met in the case."""
    options = ([o["id"] for o in form_field.get("options", [])] if form_field["type"] == "enum"
               else [True, False])
    return options[(path * (len(options) - 1) + visit) % len(options)]


def fixed_by_scenario(spec: Any) -> bool:
    """A plain value in the scenario is what the bank always enters; a distribution leaves the choice open."""
    return spec is not None and not isinstance(spec, dict)


def form_values(form: list[dict[str, Any]], plan: scenarios.TaskPlan, path: int, visit: int,
                rng: random.Random, case: scenarios.CaseContext) -> dict[str, Any]:
    values = scenarios.form_values(form, plan, rng, case)
    for form_field in form:
        if form_field.get("readonly") or form_field["type"] not in ("enum", "boolean"):
            continue
        if not fixed_by_scenario(plan.fields.get(form_field["id"])):
            values[form_field["id"]] = path_choice(form_field, path, visit)
    case.entered.update(values)
    return values


def refusable(form: list[dict[str, Any]], values: dict[str, Any]) -> tuple[str, str] | None:
    """A field of the form and a value the engine must refuse (below its min, above its max, or a required
    field left empty), or None."""
    for form_field in form:
        if form_field.get("readonly"):
            continue
        if form_field["type"] == "long" and form_field.get("min") not in (None, ""):
            return form_field["id"], str(int(float(form_field["min"])) - 1)
        if form_field["type"] == "long" and form_field.get("max") not in (None, ""):
            return form_field["id"], str(int(float(form_field["max"])) + 1)
    for form_field in form:
        if form_field.get("required") and form_field["type"] in ("string", "long", "double", "date") \
                and not form_field.get("readonly") and values.get(form_field["id"]) not in (None, ""):
            return form_field["id"], ""
    return None


# --- who acts ---------------------------------------------------------------------------------

def starter(ctx: EngineContext, key: str, people: dict[str, DemoUser], preferred: str | None) -> str:
    """A demo user who may start `key` (the scenario's starter when they may), staff before managers."""
    ordered = sorted(people.values(), key=lambda u: (u.name != preferred, "staff" not in u.roles, u.name))
    for person in ordered:
        if any(p.key == key for p in instances.startable(ctx, person.name)):
            return person.name
    raise AssertionError(f"no demo user may start {key}")


def candidates(task: dict[str, Any], people: dict[str, DemoUser]) -> list[str]:
    """The demo users the task is offered to, staff before managers and admins."""
    named = [u for u in people.values() if u.name in task["candidate_users"]
             or set(u.groups) & set(task["candidate_groups"])]
    return [u.name for u in sorted(named, key=lambda u: ("staff" not in u.roles, u.name))]


def performer(ctx: EngineContext, task: dict[str, Any], people: dict[str, DemoUser]) -> str:
    """Who works on the task: its assignee, else a candidate the task page lets claim it (four-eyes
    respected)."""
    if task["assignee"]:
        return task["assignee"]
    for name in candidates(task, people):
        if tasks.task_detail(ctx, task["id"], name).may_claim:
            return name
    raise AssertionError(f"nobody among the demo users may claim task {task['id']} ({task['element_id']}): "
                         f"candidates {task['candidate_groups'] + task['candidate_users']}")


def held_back(ctx: EngineContext, task: dict[str, Any], people: dict[str, DemoUser]) -> list[str]:
    """Candidates the four-eyes rule keeps from the task (they did a step it names)."""
    return [name for name in candidates(task, people) if tasks.task_detail(ctx, task["id"], name).four_eyes]


# --- waiting for the engine ---------------------------------------------------------------------

def _waits(ctx: EngineContext, instance_id: int) -> dict[str, list[str]]:
    """The case's open jobs by kind: element ids of its service jobs and timers."""
    with unit_of_work(ctx, read_only=True) as uow:
        rows = uow.session.execute(select(JOB.c.kind, JOB.c.element_id).where(JOB.c.instance_id == instance_id)).all()
    found: dict[str, list[str]] = {}
    for kind, element_id in rows:
        found.setdefault(kind, []).append(element_id)
    return found


def settle(ctx: EngineContext, instance_id: int) -> tuple[dict[str, Any], list[dict[str, Any]], list[str]]:
    """Wait until the case has a task for a person, has ended, or waits only on timers: (case, open tasks,
    timers). Fails when the case is in incident or the worker does not move it on in time."""
    deadline = time.monotonic() + SETTLE_SECONDS
    while True:
        case = instance_detail(instances.get_instance(ctx, instance_id))  # as `bankflow instance --json`
        assert case["status"] != "incident", f"case {instance_id} is in incident: {case['incident']}"
        waiting = [t for t in case["tasks"] if t["status"] in ("open", "claimed")]
        if case["status"] != "running" or waiting:
            return case, sorted(waiting, key=lambda t: t["id"]), []
        jobs = _waits(ctx, instance_id)
        if jobs.get("timer") and not jobs.get("external"):
            return case, [], sorted(jobs["timer"])
        assert time.monotonic() < deadline, (f"case {instance_id} did not move on within {SETTLE_SECONDS} s "
                                             f"(waiting jobs: {jobs})")
        time.sleep(0.2)


# --- the browser ---------------------------------------------------------------------------------

def fill(page, form_field: dict[str, Any], value: Any) -> None:
    """Enter `value` into the field's input as a person would."""
    name = form_field["id"]
    if form_field["type"] == "boolean":
        page.locator(f'input[name="{name}"][value="{"true" if value else "false"}"]').check()
    elif form_field["type"] == "enum":
        page.locator(f"#field-{name}").select_option(str(value))
    else:
        page.locator(f"#field-{name}").fill("" if value is None else str(value))


def follow(page, target) -> int:
    """Click a link or button and wait for the page it leads to; its HTTP status."""
    with page.expect_navigation(wait_until="networkidle") as navigation:
        target.click()
    return navigation.value.status if navigation.value else 0


def submit(page, form_selector: str) -> int:
    return follow(page, page.locator(f"{form_selector} button[type=submit]"))


def shown(page) -> str:
    """What the page says, for a failure message."""
    return page.locator("body").inner_text()[:600]


class Journey:
    """One case of `key` on `path`, walked in the browser; `browser_for(user)` gives a signed-in Visitor."""

    def __init__(self, ctx: EngineContext, key: str, path: int, browser_for: Callable[[str], Any],
                 people: dict[str, DemoUser]):
        self.ctx, self.key, self.path, self.browser_for, self.people = ctx, key, path, browser_for, people
        plan_file = scenarios.default_scenario_path(LIBRARY, key)
        self.scenario = scenarios.load_scenario(plan_file, LIBRARY) if plan_file.exists() else None
        self.rng = random.Random(f"{key}-{path}")
        self.case_values = scenarios.CaseContext(case=path + 1, today=date.today(), entered={})
        self.business_key = f"J-{key}-{path}-{int(time.time())}"
        self.refused_field: str | None = None
        self.four_eyes_shown: list[tuple[str, str]] = []  # (element id, user held back)

    def _plan(self, element_id: str | None) -> scenarios.TaskPlan:
        if self.scenario is None:
            return scenarios.TaskPlan(0, {})
        if element_id is None:
            return scenarios.TaskPlan(0, self.scenario.start)
        return self.scenario.plan(element_id)

    def _fill_form(self, visitor, form: list[dict[str, Any]], plan: scenarios.TaskPlan, visit: int,
                   form_selector: str) -> None:
        values = form_values(form, plan, self.path, visit, self.rng, self.case_values)
        editable = [f for f in form if not f.get("readonly")]
        for form_field in editable:
            fill(visitor.page, form_field, values[form_field["id"]])
        bad = None if self.refused_field else refusable(editable, values)
        if bad:
            name, wrong = bad
            fill(visitor.page, next(f for f in editable if f["id"] == name), wrong)
            status = submit(visitor.page, form_selector)
            assert status == 400, f"a wrong value of {name} was answered with HTTP {status}"
            problem = visitor.page.locator(f"#{name}-problem")
            assert problem.is_visible() and problem.inner_text().strip(), f"no message beside {name}"
            assert visitor.page.locator(f"#field-{name}").input_value() == wrong, f"{name}: the input was lost"
            kept = [f for f in editable if f["id"] != name and f["type"] not in ("boolean", "enum")]
            for other in kept:
                assert visitor.page.locator(f"#field-{other['id']}").input_value() == str(values[other["id"]]), \
                    f"{other['id']}: the input was not kept after a refused value"
            visitor.shot(f"{self.key}-refused-{name}")
            fill(visitor.page, next(f for f in editable if f["id"] == name), values[name])
            self.refused_field = name

    def _check_shown(self, page, task: dict[str, Any]) -> None:
        """A read-only text field shows what was entered for it earlier in the case (the context a
        reviewer decides on)."""
        for form_field in task["form"]:
            entered = self.case_values.entered.get(form_field["id"])
            if form_field.get("readonly") and form_field["type"] in ("string", "long") and entered is not None:
                shown_value = page.locator(f"#field-{form_field['id']}").input_value()
                assert shown_value == str(entered), (f"{task['element_id']} shows {form_field['id']} as "
                                                     f"{shown_value!r}, but {entered!r} was entered earlier")

    def start(self) -> int:
        user = starter(self.ctx, self.key, self.people, self.scenario.starter if self.scenario else None)
        visitor = self.browser_for(user)
        process = next(p for p in instances.startable(self.ctx, user) if p.key == self.key)
        visitor.go("/start", f"{self.key}-start-list")
        follow(visitor.page, visitor.page.locator(f'a[href="/start/{self.key}"]'))
        visitor.page.locator("#business-key").fill(self.business_key)
        self._fill_form(visitor, process.form, self._plan(None), 0, "form.task-form")
        visitor.shot(f"{self.key}-start-form")
        status = submit(visitor.page, "form.task-form")
        assert status < 400, f"starting {self.key} answered HTTP {status}: {shown(visitor.page)}"
        found = instances.search(self.ctx, business_key=self.business_key).cases
        assert len(found) == 1, found
        return found[0].id

    def check_four_eyes(self, task: dict[str, Any]) -> None:
        """A candidate the four-eyes rule holds back sees why on the task page, and no way to claim it."""
        for name in held_back(self.ctx, task, self.people):
            visitor = self.browser_for(name)
            visitor.go(f"/tasks/{task['id']}", f"{self.key}-{task['element_id']}-four-eyes-{name}")
            assert visitor.page.locator(".warning[role=note]").count() == 1, f"{name} is not told about four-eyes"
            assert visitor.page.locator('form[action$="/claim"] button').count() == 0, f"{name} may claim {task}"
            self.four_eyes_shown.append((task["element_id"], name))

    def work(self, task: dict[str, Any], visit: int, steps: list[tuple[str, str]]) -> None:
        self.check_four_eyes(task)
        user = performer(self.ctx, task, self.people)
        visitor = self.browser_for(user)
        page = visitor.page
        if not page.url.endswith(f"/tasks/{task['id']}"):
            view = "mine" if task["assignee"] == user else "group"
            visitor.go(f"/tasks?view={view}", f"{self.key}-inbox-{user}")
            link = page.locator(f'a[href="/tasks/{task["id"]}"]')
            assert link.count() > 0, f"{user}'s inbox ({view}) does not list task {task['id']} ({task['element_id']})"
            status = follow(page, link.first)
            assert status == 200, f"task {task['id']} answered HTTP {status} to {user}: {shown(page)}"
        claim = page.locator('form[action$="/claim"] button[type=submit]')
        if claim.count():
            assert page.locator("fieldset.read-only").count() == 1, "the form is not shown before claiming"
            submit(page, 'form[action$="/claim"]')
        complete = 'form[action$="/complete"]'
        assert page.locator(complete).count() == 1, \
            f"{user} cannot work on {task['element_id']}: {shown(page)}"
        self._check_shown(page, task)
        self._fill_form(visitor, task["form"], self._plan(task["element_id"]), visit, complete)
        visitor.shot(f"{self.key}-{task['element_id']}-{user}")
        status = submit(page, complete)
        problems = page.locator(".problem, .error")
        assert status < 400, (f"completing {task['element_id']} as {user} answered HTTP {status}: "
                              f"{problems.all_inner_texts() if problems.count() else page.inner_text('main')[:400]}")
        steps.append((task["element_id"], user))

    def run(self) -> Outcome:
        instance_id = self.start()
        steps: list[tuple[str, str]] = []
        visits: dict[str, int] = {}
        while True:
            case, waiting, timers = settle(self.ctx, instance_id)
            if not waiting:
                break
            assert len(steps) < MAX_TASKS, f"{self.key} path {self.path} goes round in a loop: {steps}"
            task = waiting[0]
            self.work(task, visits.get(task["element_id"], 0), steps)
            visits[task["element_id"]] = visits.get(task["element_id"], 0) + 1
        return Outcome(instance_id, case["status"], steps, timers[0] if timers else None, self.refused_field,
                       self.four_eyes_shown)

