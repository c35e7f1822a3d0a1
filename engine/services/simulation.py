"""The what-if simulator: real cases through the real engine, on a virtual clock.

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
"""
from __future__ import annotations

import dataclasses
import secrets
import tempfile
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable

import random

from sqlalchemy import func, select

from engine.analytics import scenario as scenarios
from engine.analytics.simulation import (
    EventQueue,
    Person,
    WorkItem,
    WorkQueues,
    arrival_times,
    is_always_open,
    is_working,
    next_opening,
)
from engine.clock import ManualClock
from engine.connectors import default_registry
from engine.errors import N_, BankflowError, Conflict, InvalidData, NotFound, PermissionDenied
from engine.services import due_jobs, instances, metrics, tasks, users, worker
from engine.services.context import EngineContext
from engine.services.demo_data import LIBRARY, load_demo
from engine.services.unit_of_work import unit_of_work
from engine.sla.business_calendar import builtin_24x7, parse_calendars
from engine.store.tables import DEFINITION, JOB, TASK, USER

UTC = timezone.utc
WORKER_ID = "simulator"
SIM_PASSWORD_METHOD = "pbkdf2:sha256:1000"  # synthetic staff on a throw-away database
Progress = Callable[[float, dict[str, int]], None]


@dataclass
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
            "start": _iso(self.start), "end": _iso(self.end), "days": round((self.end - self.start).days),
            "seed": self.seed, "database": self.database, "counters": self.counters,
            "wall_seconds": round(self.wall_seconds, 3),
            "cases_per_second": round(self.counters["cases_started"] / self.wall_seconds, 2)
            if self.wall_seconds > 0 else None,
            "processes": self.processes,
        }


# --- public service functions ----------------------------------------------------------------

def default_scenarios(processes: list[str] | None = None, library: Path | None = None) -> list[scenarios.Scenario]:
    """The default scenario of each named process (all models of the library when none is named)."""
    library = Path(library) if library is not None else LIBRARY
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


def load_scenarios(paths: list[str | Path], library: Path | None = None) -> list[scenarios.Scenario]:
    library = Path(library) if library is not None else LIBRARY
    return [scenarios.load_scenario(Path(p), library) for p in paths]


def simulate(url: str | None, plan: list[scenarios.Scenario], days: int, seed: int = 1,
             start: datetime | None = None, progress: Progress | None = None, library: Path | None = None,
             keep: str | Path | None = None) -> dict[str, Any]:
    """Run `plan` for `days` on a fresh database and return the run's figures.

    The database is `url` if given (it must be new or hold only bankflow data you want
    the simulated history added to), else a temporary SQLite file, deleted afterwards
    unless `keep` names where to keep it.
    """
    with _database(url, keep) as database_url:
        ctx = EngineContext.from_url(database_url, clock=ManualClock(_start(start, days)))
        try:
            ctx.password_method = SIM_PASSWORD_METHOD
            ctx.mailer = None
            load_demo(ctx, library)
            return Simulation(ctx, plan, days, seed, progress).run().as_dict()
        finally:
            ctx.close()


def compare(plan_a: list[scenarios.Scenario], plan_b: list[scenarios.Scenario], days: int, seed: int = 1,
            start: datetime | None = None, progress: Progress | None = None,
            library: Path | None = None) -> dict[str, Any]:
    """Run two plans with the same seed and start, each on its own fresh database, and put their
    key figures side by side."""
    start = _start(start, days)
    a = simulate(None, plan_a, days, seed, start, progress, library)
    b = simulate(None, plan_b, days, seed, start, progress, library)
    return {"a": a, "b": b, "comparison": _compare_figures(a, b)}


def simulate_history(ctx: EngineContext, days: int = 14, seed: int = 1, library: Path | None = None,
                     progress: Progress | None = None, processes: list[str] | None = None) -> dict[str, Any]:
    """Fill `ctx`'s database with `days` of simulated history of the whole library, ending now.

    For `bankflow demo --history`: the library and the demo users are loaded first
    (a no-op when present). Uses the default scenarios at their arrival rates; about
    25 seconds for two weeks (some 400 cases) on SQLite.
    """
    end = ctx.clock.now()
    virtual = ManualClock(end - timedelta(days=days))
    sim_ctx = dataclasses.replace(ctx, clock=virtual, script_engine=None, mailer=None)
    load_demo(sim_ctx, library)
    report = Simulation(sim_ctx, default_scenarios(processes, library), days, seed, progress).run().as_dict()
    hand_back_simulated_work(sim_ctx)
    return report


def hand_back_simulated_work(ctx: EngineContext) -> None:
    """The made-up staff leave with the simulation: the tasks they still hold go back to their groups
    (recorded as given back), so the bank's own people find them and nobody made up holds any."""
    with unit_of_work(ctx, read_only=True) as session:
        held = session.execute(select(TASK.c.id, TASK.c.assignee)
                               .select_from(TASK.join(USER, USER.c.name == TASK.c.assignee))
                               .where(TASK.c.status == "claimed", USER.c.simulated.is_(True))
                               .order_by(TASK.c.id)).all()
    for task_id, assignee in held:
        tasks.unclaim(ctx, task_id, assignee)


# --- the run ---------------------------------------------------------------------------------

class ScenarioProblem(BankflowError):
    """A scenario makes the engine refuse something (a form value, a start variable)."""


class Simulation:
    """One run: an event loop over arrivals, work finishing, staff shifts and due jobs."""

    def __init__(self, ctx: EngineContext, plan: list[scenarios.Scenario], days: int, seed: int,
                 progress: Progress | None = None):
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
        calendars, default = self._calendars()
        self._staff(calendars, default)
        for index, item in enumerate(self.plan):
            calendar = self._calendar(calendars, default, item.calendar)
            for when in arrival_times(calendar, item.arrivals_per_day, self.start, self.end, self.rng):
                self.events.push(when, "arrive", index)
        with unit_of_work(self.ctx, read_only=True) as session:
            self.last_task_id = session.scalar(select(func.coalesce(func.max(TASK.c.id), 0)))

    def _calendars(self) -> tuple[dict[str, Any], Any]:
        with unit_of_work(self.ctx, read_only=True) as session:
            rows = session.execute(select(metrics.CALENDAR_TABLE.c.name, metrics.CALENDAR_TABLE.c.source,
                                          metrics.CALENDAR_TABLE.c.is_default)).all()
        calendars = {row.name: parse_calendars(row.source, row.name)[row.name] for row in rows}
        default_name = next((row.name for row in rows if row.is_default), None)
        return calendars, calendars.get(default_name) if default_name else builtin_24x7()

    @staticmethod
    def _calendar(calendars: dict[str, Any], default: Any, name: str | None) -> Any:
        if name == "24x7":
            return builtin_24x7()
        if name in (None, "", "default"):
            return default
        if name not in calendars:
            raise NotFound("calendar '%(name)s' is not loaded (bankflow calendars list)", name=name)
        return calendars[name]

    def _groups_needed(self) -> set[str]:
        with unit_of_work(self.ctx, read_only=True) as session:
            rows = session.scalars(select(DEFINITION.c.elements).where(
                DEFINITION.c.key.in_([s.process for s in self.plan]))).all()
        groups: set[str] = set()
        for elements in rows:
            for meta in (elements or {}).values():
                if meta.get("type") in ("userTask", "manualTask"):
                    groups.update(meta.get("candidate_groups") or [])
                    if meta.get("lane") and not meta.get("candidate_groups"):
                        groups.add(meta["lane"])
        return groups

    def _staff(self, calendars: dict[str, Any], default: Any) -> None:
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
            for group in user["groups"]:
                members.setdefault(group, []).append(user["name"])
        for group in sorted(self._groups_needed() | set(wanted)):
            existing = sorted(members.get(group, []))
            count = wanted.get(group, max(1, len(existing)))
            unlimited = count == scenarios.UNLIMITED
            calendar = builtin_24x7() if unlimited else self._calendar(calendars, default,
                                                                       calendar_names.get(group))
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
        return RunResult(self.start, self.end, self.seed, dict(self.counters), wall, figures,
                         self.ctx.db.url.render_as_string(hide_password=True))

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
        with unit_of_work(self.ctx, read_only=True) as session:
            external = session.scalar(select(func.count()).select_from(JOB).where(
                JOB.c.kind == "external", JOB.c.topic.in_(self.topics),
                (JOB.c.locked_until.is_(None)) | (JOB.c.locked_until < now)))
            self.next_job = session.scalar(select(func.min(JOB.c.due_at)).where(
                JOB.c.kind != "external", JOB.c.due_at > now))
            rows = session.execute(
                select(TASK.c.id, TASK.c.instance_id, TASK.c.element_id, TASK.c.priority, TASK.c.created_at,
                       TASK.c.candidate_groups, TASK.c.candidate_users, TASK.c.assignee, TASK.c.status,
                       TASK.c.form)
                .where(TASK.c.id > self.last_task_id).order_by(TASK.c.id)).all()
        if getattr(self, "_failed_jobs", 0):  # failed jobs are due again: retry a little later
            retry = now + timedelta(minutes=15)
            self.next_job = min(self.next_job, retry) if self.next_job else retry
            self._failed_jobs = 0
        for row in rows:
            self.last_task_id = row.id
            if row.status not in ("open", "claimed") or row.instance_id not in self.cases:
                continue  # not one of this run's cases (e.g. history that was there before)
            item = WorkItem(row.id, row.instance_id, row.element_id, row.priority or 50, row.created_at,
                            tuple(row.candidate_groups or ()), tuple(row.candidate_users or ()), row.assignee,
                            list(row.form or []))
            if item.assignee and item.assignee not in self.people:
                # A case names its own worker (a customer): they answer without queueing, around the clock.
                self.people[item.assignee] = Person(item.assignee, frozenset(), builtin_24x7(), unlimited=True)
            self.queues.add(item)
        return bool(external)

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
        self.cases[started["id"]] = case
        self.case_plan[started["id"]] = item
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


FIGURES = (("started", "cases started"), ("completed", "cases completed"), ("open", "cases still open"),
           ("cycle_time_median", "median cycle time"), ("cycle_time_p90", "p90 cycle time"),
           ("sla_breaches", "SLA breaches"))


def _compare_figures(a: dict[str, Any], b: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    b_by_process = {p["process"]: p for p in b["processes"]}
    for left in a["processes"]:
        right = b_by_process.get(left["process"])
        if right is None:
            continue
        for key, label in FIGURES:
            rows.append({"process": left["process"], "figure": label, "a": left[key], "b": right[key]})
        rows.append({"process": left["process"], "figure": "top bottleneck",
                     "a": _bottleneck_text(left["bottleneck"]), "b": _bottleneck_text(right["bottleneck"])})
    return rows


def _bottleneck_text(bottleneck: dict[str, Any] | None) -> str | None:
    if not bottleneck:
        return None
    return f"{bottleneck['element_id']} ({bottleneck['share']:.0%}, {bottleneck['verdict']})"


def _days(value: float | None) -> float | None:
    return None if value is None else round(value / 86400.0, 2)


def _iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def _start(start: datetime | None, days: int) -> datetime:
    """The virtual start: `start`, else midnight UTC `days` days before today."""
    if start is not None:
        return start.astimezone(UTC)
    today = date.today()
    return datetime.combine(today - timedelta(days=days), datetime.min.time(), UTC)


class _database:
    """The run's database URL: `url`, or a temporary SQLite file (kept at `keep` if given)."""

    def __init__(self, url: str | None, keep: str | Path | None):
        self.url, self.keep = url, Path(keep) if keep else None
        self._folder: tempfile.TemporaryDirectory | None = None

    def __enter__(self) -> str:
        if self.url:
            return self.url
        if self.keep is not None:
            if self.keep.exists():
                raise Conflict("%(path)s already exists; the simulation writes a new database", path=str(self.keep))
            return f"sqlite:///{self.keep.resolve()}"
        self._folder = tempfile.TemporaryDirectory(prefix="bankflow-sim-")
        return f"sqlite:///{Path(self._folder.name) / 'simulation.sqlite'}"

    def __exit__(self, *exc: Any) -> None:
        if self._folder is not None:
            self._folder.cleanup()
