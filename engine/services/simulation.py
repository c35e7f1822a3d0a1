"""The simulator: real cases through the real engine, on a virtual clock.

Cases of the process library arrive on working days, staff (as many per group as
the scenario says, working the calendar's hours) take the oldest task they may
take, work on it for a sampled service time and complete it with the values the
scenario says people enter, so gateways decide as they would. Service tasks are
answered by the demo connectors, and timers and SLA checks fire through the
worker's own due-job runner as virtual time passes: breaches, escalations and
withdrawals land in the history exactly as in production. Every step is an
ordinary service call (start, claim, complete, run_due_jobs, run_connectors) on an
`EngineContext` whose clock is a `ManualClock`.

One seed gives one run: all randomness comes from one `random.Random(seed)`, drawn
in event order, and events at the same instant keep the order they were queued in.

Here: a run on a database that holds the process library (`Simulation`), and the
simulated history of `bankflow demo --history` (`simulate_history`); what-if runs on
a fresh database of their own (`bankflow simulate`) are engine/services/what_if.py.
"""
from __future__ import annotations

import dataclasses
import random
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Callable

from engine.analytics import scenario as scenarios
from engine.analytics.queueing import (
    EventQueue,
    Person,
    WorkItem,
    WorkQueues,
    arrival_times,
    is_always_open,
    is_working,
    next_opening,
)
from engine.analytics.report import HUMAN_TYPES
from engine.clock import ManualClock
from engine.connectors import default_registry
from engine.errors import N_, BankflowError, Conflict, InvalidData, NotFound, PermissionDenied
from engine.services import due_jobs, instances, metrics, tasks, users, worker
from engine.services.context import EngineContext
from engine.services.execution import refresh_calendars
from engine.services.unit_of_work import unit_of_work
from engine.sla.business_calendar import ALWAYS_OPEN_NAME, Calendar, builtin_24x7
from engine.sla.calendar_cache import DEFAULT_NAME
from engine.statuses import ACTIVE_TASK_STATUSES
from engine.json_shapes import iso

WORKER_ID = "simulator"
Progress = Callable[[float, dict[str, int]], None]


@dataclass(frozen=True, kw_only=True)
class RunResult:
    """What one simulation run did, and the key figures of each simulated process."""

    start: datetime
    end: datetime
    seed: int
    counters: dict[str, int]
    wall_seconds: float
    processes: list[dict[str, Any]]
    database: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "start": iso(self.start), "end": iso(self.end), "days": round((self.end - self.start).days),
            "seed": self.seed, "database": self.database, "counters": self.counters,
            "wall_seconds": round(self.wall_seconds, 3),
            "cases_per_second": round(self.counters["cases_started"] / self.wall_seconds, 2)
            if self.wall_seconds > 0 else None,
            "processes": self.processes,
        }


# --- public service functions ----------------------------------------------------------------

def default_scenarios(processes: list[str] | None, library: Path) -> list[scenarios.Scenario]:
    """The default scenario of each named process of `library` (all its models when none is named)."""
    folder = library / "scenarios"
    if not processes:
        processes = sorted(p.stem for p in folder.glob("*.toml"))
    found = []
    for key in processes:
        path = scenarios.default_scenario_path(library, key)
        if not path.is_file():
            raise NotFound("process '%(key)s' has no default scenario (%(path)s does not exist)", key=key,
                           path=str(path))
        found.append(scenarios.load_scenario(path, library))
    return found


def load_scenarios(paths: list[str | Path], library: Path) -> list[scenarios.Scenario]:
    """The scenarios of these files (a scenario may extend a model's default one of `library`)."""
    return [scenarios.load_scenario(Path(p), library) for p in paths]


def simulate_history(ctx: EngineContext, library: Path, days: int = 14, seed: int = 1,
                     progress: Progress | None = None, processes: list[str] | None = None) -> dict[str, Any]:
    """Fill `ctx`'s database with `days` of simulated history of the models of `library`, ending now.

    For `bankflow demo --history`: the database holds the library and the demo users
    (engine.services.demo_data.load_demo loads them first). Uses the default scenarios
    at their arrival rates; about 25 seconds for two weeks (some 400 cases) on SQLite.
    """
    end = ctx.clock.now()
    virtual = ManualClock(end - timedelta(days=days))
    sim_ctx = dataclasses.replace(ctx, clock=virtual, script_engine=None, mailer=None)
    report = Simulation(sim_ctx, default_scenarios(processes, library), days, seed, progress).run().as_dict()
    hand_back_simulated_work(sim_ctx)
    return report


def hand_back_simulated_work(ctx: EngineContext) -> None:
    """The made-up staff leave with the simulation: the tasks they still hold go back to their groups
    (recorded as given back), so the bank's own people find them and nobody made up holds any."""
    with unit_of_work(ctx, read_only=True) as uow:
        held = uow.simulator.held_by_simulated_staff()
    for task in held:
        tasks.unclaim(ctx, task.task_id, task.assignee)


# --- the run ---------------------------------------------------------------------------------

class ScenarioProblem(BankflowError):
    """A scenario makes the engine refuse something (a form value, a start variable)."""


class Simulation:
    """One run: an event loop over arrivals, work finishing, staff shifts and due jobs."""

    def __init__(self, ctx: EngineContext, plan: list[scenarios.Scenario], days: int, seed: int,
                 progress: Progress | None = None) -> None:
        if not isinstance(ctx.clock, ManualClock):
            raise ValueError("the simulator needs an EngineContext with a ManualClock")
        if days < 1:
            raise InvalidData([], summary=N_("days must be at least 1"))
        self.ctx = ctx
        self.clock: ManualClock = ctx.clock
        self.plan = plan
        self.start = self.clock.now()
        self.end = self.start + timedelta(days=days)
        self.seed = seed
        self.rng = random.Random(seed)
        self.progress = progress
        self.events = EventQueue()
        self.queues = WorkQueues()
        self.people: dict[str, Person] = {}
        self.cases: dict[int, scenarios.CaseContext] = {}
        self.case_plan: dict[int, scenarios.Scenario] = {}
        self.by_process = {s.process: s for s in plan}
        self.registry = default_registry()
        self.topics = list(self.registry.topics())
        self.last_task_id = 0
        self.next_job: datetime | None = None
        self.counters = {"cases_started": 0, "tasks_completed": 0, "tasks_dropped": 0, "timer_jobs": 0,
                         "service_jobs": 0, "start_refused": 0}
        self._case_numbers: dict[str, int] = {}

    # set-up
    def _prepare(self) -> None:
        with unit_of_work(self.ctx, read_only=True) as uow:
            refresh_calendars(self.ctx, uow, force=True)  # the calendars as they are now, for the whole run
            self.last_task_id = uow.simulator.last_task_id()
        self._staff()
        for index, item in enumerate(self.plan):
            calendar = self._calendar(item.calendar)
            for when in arrival_times(calendar, item.arrivals_per_day, self.start, self.end, self.rng):
                self.events.push(when, "arrive", index)

    def _calendar(self, name: str | None) -> Calendar:
        """A scenario's calendar (`ctx.calendars`); one that is not loaded is a mistake in the scenario."""
        if name not in (None, "", DEFAULT_NAME, ALWAYS_OPEN_NAME) and name not in self.ctx.calendars.names():
            raise NotFound("calendar '%(name)s' is not loaded (bankflow calendars list)", name=name)
        return self.ctx.calendars.get(name)

    def _groups_needed(self) -> set[str]:
        with unit_of_work(self.ctx, read_only=True) as uow:
            rows = uow.simulator.elements_of([s.process for s in self.plan])
        groups: set[str] = set()
        for elements in rows:
            for meta in elements.values():
                if meta.get("type") in HUMAN_TYPES:
                    groups.update(meta.get("candidate_groups") or [])
                    if meta.get("lane") and not meta.get("candidate_groups"):
                        groups.add(meta["lane"])
        return groups

    def _staff(self) -> None:
        """People per group: the scenario's count (its demo users first, then synthetic staff, made as
        simulated users: they work the simulation but are not listed and never sign in)."""
        wanted: dict[str, int | str] = {}
        calendar_names: dict[str, str | None] = {}
        for item in self.plan:
            for group, count in item.staff.items():
                previous = wanted.get(group)
                if count == scenarios.UNLIMITED or previous == scenarios.UNLIMITED:
                    wanted[group] = scenarios.UNLIMITED
                else:
                    wanted[group] = max(int(count), int(previous or 0))
            for group in self._groups_for(item):
                calendar_names.setdefault(group, item.calendar)
        members: dict[str, list[str]] = {}
        for user in users.list_users(self.ctx, include_simulated=True):
            for group in user.groups:
                members.setdefault(group, []).append(user.name)
        for group in sorted(self._groups_needed() | set(wanted)):
            existing = sorted(members.get(group, []))
            count = wanted.get(group, max(1, len(existing)))
            unlimited = count == scenarios.UNLIMITED
            calendar = builtin_24x7() if unlimited else self._calendar(calendar_names.get(group))
            names = existing if unlimited else existing[:int(count)]
            while not unlimited and len(names) < int(count):
                name = f"sim_{group}_{len(names) + 1}"
                if name not in {u for v in members.values() for u in v}:
                    users.add_user(self.ctx, name, secrets.token_urlsafe(16), groups=[group], simulated=True)
                names.append(name)
            if unlimited and not names:
                name = f"sim_{group}"
                users.add_user(self.ctx, name, secrets.token_urlsafe(16), groups=[group], simulated=True)
                names = [name]
            for name in names:
                person = self.people.get(name)
                if person is None:
                    self.people[name] = Person(name, frozenset([group]), calendar, unlimited)
                else:  # in several simulated groups: one person, one calendar
                    person.groups = person.groups | {group}
                    person.unlimited = person.unlimited or unlimited

    def _groups_for(self, item: scenarios.Scenario) -> set[str]:
        return set(item.staff)

    # the loop
    def run(self) -> RunResult:
        began = time.perf_counter()
        self._prepare()
        self._housekeeping()
        day = 0
        while True:
            candidates = [t for t in (self.events.next_time(), self.next_job) if t is not None]
            moment = min(candidates) if candidates else self.end
            if moment >= self.end:
                break
            if moment > self.clock.now():
                self.clock.set(moment)
            if self.next_job is not None and self.next_job <= moment:
                self._run_due_jobs()
            for kind, payload in self.events.pop_due(moment):
                getattr(self, f"_on_{kind}")(payload)
            self._housekeeping()
            passed = int((self.clock.now() - self.start).total_seconds() // 86400)
            if self.progress and passed > day:
                day = passed
                self.progress(day, dict(self.counters))
        self.clock.set(self.end)
        self._run_due_jobs()
        if self.progress:
            self.progress((self.end - self.start).total_seconds() / 86400, dict(self.counters))
        wall = time.perf_counter() - began
        figures = [self._figures(item) for item in self.plan]
        return RunResult(start=self.start, end=self.end, seed=self.seed, counters=dict(self.counters),
                         wall_seconds=wall, processes=figures,
                         database=self.ctx.database.url)

    def _housekeeping(self) -> None:
        """After the events of one instant: answer service tasks, pick up new tasks, hand out work."""
        if self._look():
            answered = worker.run_connectors(self.ctx, self.registry, WORKER_ID)
            self.counters["service_jobs"] += answered["completed"]
            self._look()
        self._dispatch()

    def _run_due_jobs(self) -> None:
        counts = due_jobs.run_due_jobs(self.ctx, WORKER_ID)
        self.counters["timer_jobs"] += counts["timers"] + counts["starts"] + counts["sla_checks"]
        self._failed_jobs = counts["errors"]

    def _look(self) -> bool:
        """One read: new tasks, the next due job, and whether service tasks wait for a connector."""
        now = self.clock.now()
        with unit_of_work(self.ctx, read_only=True) as uow:
            seen = uow.simulator.work_in_sight(now, self.topics, self.last_task_id)
        self.next_job = seen.next_job_due
        if getattr(self, "_failed_jobs", 0):  # failed jobs are due again: retry a little later
            retry = now + timedelta(minutes=15)
            self.next_job = min(self.next_job, retry) if self.next_job else retry
            self._failed_jobs = 0
        for row in seen.new_tasks:
            self.last_task_id = row.id
            if row.status not in ACTIVE_TASK_STATUSES or row.instance_id not in self.cases:
                continue  # not one of this run's cases (e.g. history that was there before)
            item = WorkItem(row.id, row.instance_id, row.element_id, row.priority or 50, row.created_at,
                            row.candidate_groups, row.candidate_users, row.assignee, row.form)
            if item.assignee and item.assignee not in self.people:
                # A case names its own worker (a customer): they answer without queueing, around the clock.
                self.people[item.assignee] = Person(item.assignee, frozenset(), builtin_24x7(), unlimited=True)
            self.queues.add(item)
        return bool(seen.external_jobs)

    def _dispatch(self) -> None:
        now = self.clock.now()
        for name in sorted(self.people):
            person = self.people[name]
            while person.unlimited or person.busy_with is None:
                if not person.unlimited and not is_working(person.calendar, now):
                    if not person.waking:
                        person.waking = True
                        self.events.push(next_opening(person.calendar, now), "wake", name)
                    break
                item = self.queues.next_for(person)
                if item is None:
                    break
                if self._take(person, item):
                    if not person.unlimited:
                        break

    def _take(self, person: Person, item: WorkItem) -> bool:
        """Claim `item` for `person` and queue the end of the work; False if they may not take it."""
        if item.assignee != person.name:
            try:
                tasks.claim(self.ctx, item.id, person.name)
            except PermissionDenied:
                item.refused.add(person.name)
                return False
            except (Conflict, NotFound):
                self.queues.remove(item.id)
                self.counters["tasks_dropped"] += 1
                return False
        self.queues.remove(item.id)
        plan = self.case_plan[item.instance_id].plan(item.element_id)
        minutes = scenarios.sample_minutes(plan.duration, self.rng)
        now = self.clock.now()
        duration = timedelta(seconds=round(minutes * 60))
        done = now + duration if person.unlimited or is_always_open(person.calendar) else \
            person.calendar.add(now, duration)
        if not person.unlimited:
            person.busy_with = item.id
        self.events.push(done, "finish", (person.name, item))
        return True

    # events
    def _on_arrive(self, index: int) -> None:
        item = self.plan[index]
        number = self._case_numbers[item.process] = self._case_numbers.get(item.process, 0) + 1
        case = scenarios.CaseContext(number, self.clock.now().date(), {})
        variables = {name: scenarios.sample_value(spec, self.rng, case) for name, spec in item.start.items()}
        case.entered.update(variables)
        business_key = item.business_key.format(process=item.process, case=number)
        try:
            started = instances.start(self.ctx, item.process, variables, business_key=business_key,
                                      user=item.starter)
        except (InvalidData, PermissionDenied) as exc:
            raise ScenarioProblem(f"{item.source}: starting {item.process} was refused: "
                                  f"{'; '.join(exc.problems())}") from None
        self.cases[started.id] = case
        self.case_plan[started.id] = item
        self.counters["cases_started"] += 1

    def _on_finish(self, payload: tuple[str, WorkItem]) -> None:
        name, item = payload
        person = self.people[name]
        if person.busy_with == item.id:
            person.busy_with = None
        case = self.cases[item.instance_id]
        case.today = self.clock.now().date()
        plan = self.case_plan[item.instance_id].plan(item.element_id)
        values = scenarios.form_values(item.form, plan, self.rng, case)
        try:
            tasks.complete(self.ctx, item.id, name, values)
        except InvalidData as exc:
            raise ScenarioProblem(f"{self.case_plan[item.instance_id].source}: {item.element_id}: the form "
                                  f"refused the simulated values: {'; '.join(exc.problems())}") from None
        except (Conflict, PermissionDenied, NotFound):
            self.counters["tasks_dropped"] += 1  # cancelled by a timer meanwhile, or the case is in incident
            return
        case.entered.update(values)
        person.completed += 1
        self.counters["tasks_completed"] += 1

    def _on_wake(self, name: str) -> None:
        self.people[name].waking = False

    # figures
    def _figures(self, item: scenarios.Scenario) -> dict[str, Any]:
        found = metrics.process_metrics(self.ctx, item.process, since=self.start, until=self.end)
        return {"process": item.process, "scenario": item.name, "source": item.source,
                **key_figures(found)}


def key_figures(found: dict[str, Any]) -> dict[str, Any]:
    """The headline numbers of a metrics document (the simulator's summary and --compare)."""
    cycle = found["instances"]["cycle_time"]
    top = next((a for a in found["activities"] if a["element_id"] == (found["bottlenecks"] or [None])[0]), None)
    return {
        "started": found["instances"]["started"],
        "completed": found["instances"]["completed"],
        "open": found["instances"]["open"],
        "cycle_time_median_days": _days(cycle["median"]),
        "cycle_time_p90_days": _days(cycle["p90"]),
        "cycle_time_median": cycle["median"],
        "cycle_time_p90": cycle["p90"],
        "sla_breaches": found["instances"]["sla_breaches"] + sum(a["sla_breaches"] for a in found["activities"]),
        "bottleneck": top and {"element_id": top["element_id"], "name": top["name"], "share": top["share"],
                               "verdict": top["verdict"], "wait_share": top["wait_share"]},
        "metrics": found,
    }




def _days(value: float | None) -> float | None:
    return None if value is None else round(value / 86400.0, 2)
