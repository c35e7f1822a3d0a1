"""Simulator scenarios: what arrives, who works, how long work takes, what people enter.

A scenario is a TOML file (processes/scenarios/<process>.toml has the default one
of each model; this docstring is the format's reference):

    [scenario]
    process = "loan_application"     # the process key
    extends = "loan_application"     # optional: start from another scenario (a file or a model name)
    arrivals_per_day = 6             # new cases per working day (Poisson), spread over the working hours
    calendar = "default"             # staff hours and arrival days: a calendar name, "default" or "24x7"
    starter = "olga"                 # who starts the cases (default: the local operator)
    business_key = "LOAN-{case:05d}"

    [start]                          # start variables (value specs, below)
    [staff]                          # people per group: a number, or "unlimited" (customers: no queue, 24x7)
    underwriters = 1

    [tasks.underwriter_review]
    minutes = { lognormal = [90, 0.5] }    # service time in working minutes (or hours = ...)
    [tasks.underwriter_review.fields]      # form values (value specs); other fields get valid random values
    underwriter_decision = { choice = ["approve", "decline"], weights = [0.85, 0.15] }

Value specs: a plain value; `{choice = [...], weights = [...]}`; `{probability = p}`
(true with probability p); `{int = [a, b]}`; `{uniform = [a, b]}`; `{normal = [mean,
sd], min = a, max = b}`; `{pattern = "C-{case:05d}"}` (`case` is the run's case
number, `rand` a random six-digit number); `{same_as = "amount"}` (what was entered
or started with earlier in the same case); `{days_from_now = n}` (a date n days after
the virtual today, or `{days_from_now = [a, b]}`).

Durations: a number of minutes, or `{exponential = mean}`, `{lognormal = [median,
sigma]}`, `{uniform = [a, b]}`, `{triangular = [low, mode, high]}`, in minutes
(`minutes = ...`) or hours (`hours = ...`).

Pure: no database. Sampling draws from the `random.Random` it is given, in a fixed
order, so one seed gives one run.
"""
from __future__ import annotations

import math
import random
import tomllib
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from engine.errors import BankflowError

UNLIMITED = "unlimited"
DEFAULT_MINUTES = 30.0
SCENARIO_KEYS = {"process", "extends", "name", "arrivals_per_day", "calendar", "starter", "business_key",
                 "days", "description"}
TOP_KEYS = {"scenario", "start", "staff", "tasks"}
TASK_KEYS = {"minutes", "hours", "fields"}


class ScenarioError(BankflowError):
    """A scenario file is wrong: names the file and the key."""


@dataclass(frozen=True)
class TaskPlan:
    duration: Any  # a duration spec, in minutes
    fields: dict[str, Any]


@dataclass(frozen=True)
class Scenario:
    process: str
    source: str  # where it came from, for messages
    name: str = ""
    arrivals_per_day: float = 0.0
    calendar: str | None = None  # None: the default calendar
    starter: str | None = None
    business_key: str = "{process}-{case:05d}"
    days: int | None = None
    start: dict[str, Any] = field(default_factory=dict)
    staff: dict[str, int | str] = field(default_factory=dict)
    tasks: dict[str, TaskPlan] = field(default_factory=dict)

    def plan(self, element_id: str) -> TaskPlan:
        return self.tasks.get(element_id) or TaskPlan(DEFAULT_MINUTES, {})


# --- reading ---------------------------------------------------------------------------------

def load_scenario(path: Path, library: Path | None = None) -> Scenario:
    """Read a scenario file (following `extends`) and check it."""
    document = _load_document(Path(path), library, seen=())
    return parse_scenario(document, str(path))


def default_scenario_path(library: Path, process: str) -> Path:
    return library / "scenarios" / f"{process}.toml"


def _load_document(path: Path, library: Path | None, seen: tuple[Path, ...]) -> dict[str, Any]:
    path = path.resolve()
    if path in seen:
        raise ScenarioError(f"{path.name}: 'extends' goes round in a circle")
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ScenarioError(f"scenario file {path} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{path.name}: not valid TOML: {exc}") from None
    parent = (document.get("scenario") or {}).get("extends")
    if not parent:
        return document
    if not isinstance(parent, str):
        raise ScenarioError(f"{path.name}: scenario.extends must be a file name or a process key")
    candidates = [path.parent / parent, path.parent / f"{parent}.toml"]
    if library is not None:
        candidates.append(default_scenario_path(library, parent))
    base_path = next((c for c in candidates if c.is_file()), None)
    if base_path is None:
        raise ScenarioError(f"{path.name}: scenario.extends '{parent}' is neither a file next to it "
                            "nor a default scenario")
    base = _load_document(base_path, library, seen + (path,))
    document["scenario"] = {k: v for k, v in document["scenario"].items() if k != "extends"}
    return _merge(base, document)


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict) and not _is_spec(value):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


SPEC_KEYS = {"choice", "weights", "probability", "int", "uniform", "normal", "min", "max", "pattern", "same_as",
             "days_from_now", "exponential", "lognormal", "triangular"}


def _is_spec(value: dict[str, Any]) -> bool:
    return bool(value) and set(value) <= SPEC_KEYS


def parse_scenario(document: dict[str, Any], source: str) -> Scenario:
    where = source
    unknown = sorted(set(document) - TOP_KEYS)
    if unknown:
        raise ScenarioError(f"{where}: unknown table(s) {', '.join(unknown)}; allowed: {', '.join(sorted(TOP_KEYS))}")
    head = document.get("scenario")
    if not isinstance(head, dict) or not isinstance(head.get("process"), str):
        raise ScenarioError(f"{where}: needs a [scenario] table with process = \"<process key>\"")
    unknown = sorted(set(head) - SCENARIO_KEYS)
    if unknown:
        raise ScenarioError(f"{where}: unknown key(s) in [scenario]: {', '.join(unknown)}")
    rate = head.get("arrivals_per_day", 0)
    if not isinstance(rate, (int, float)) or isinstance(rate, bool) or rate < 0:
        raise ScenarioError(f"{where}: scenario.arrivals_per_day must be a number >= 0")
    days = head.get("days")
    if days is not None and (not isinstance(days, int) or days < 1):
        raise ScenarioError(f"{where}: scenario.days must be a whole number >= 1")
    staff = document.get("staff", {})
    for group, count in staff.items():
        if not (count == UNLIMITED or (isinstance(count, int) and not isinstance(count, bool) and count >= 0)):
            raise ScenarioError(f"{where}: staff.{group} must be a number of people >= 0 or \"unlimited\"")
    tasks = {}
    for element_id, table in (document.get("tasks") or {}).items():
        if not isinstance(table, dict) or set(table) - TASK_KEYS:
            raise ScenarioError(f"{where}: tasks.{element_id} may have {', '.join(sorted(TASK_KEYS))}")
        if "minutes" in table and "hours" in table:
            raise ScenarioError(f"{where}: tasks.{element_id}: give minutes or hours, not both")
        duration = table.get("minutes", DEFAULT_MINUTES)
        if "hours" in table:
            duration = _scaled(table["hours"], 60.0)
        check_duration(duration, f"{where}: tasks.{element_id}")
        fields = table.get("fields", {})
        for name, spec in fields.items():
            check_value(spec, f"{where}: tasks.{element_id}.fields.{name}")
        tasks[element_id] = TaskPlan(duration, dict(fields))
    for name, spec in (document.get("start") or {}).items():
        check_value(spec, f"{where}: start.{name}")
    return Scenario(
        process=head["process"], source=source, name=str(head.get("name") or head["process"]),
        arrivals_per_day=float(rate), calendar=head.get("calendar"), starter=head.get("starter"),
        business_key=str(head.get("business_key") or "{process}-{case:05d}"), days=days,
        start=dict(document.get("start") or {}), staff=dict(staff), tasks=tasks)


def _scaled(spec: Any, factor: float) -> Any:
    """A duration spec in hours turned into minutes."""
    if isinstance(spec, (int, float)) and not isinstance(spec, bool):
        return spec * factor
    if isinstance(spec, dict):
        scaled: dict[str, Any] = {}
        for key, value in spec.items():
            if key == "lognormal" and isinstance(value, list) and len(value) == 2:
                scaled[key] = [value[0] * factor, value[1]]  # the median scales, sigma does not
            elif isinstance(value, list):
                scaled[key] = [v * factor for v in value]
            elif isinstance(value, (int, float)):
                scaled[key] = value * factor
            else:
                scaled[key] = value
        return scaled
    return spec


def _numbers(value: Any, count: int) -> bool:
    return (isinstance(value, list) and len(value) == count
            and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value))


def check_duration(spec: Any, where: str) -> None:
    if isinstance(spec, (int, float)) and not isinstance(spec, bool) and spec >= 0:
        return
    if isinstance(spec, dict) and len(spec) == 1:
        (kind, value), = spec.items()
        if kind == "exponential" and isinstance(value, (int, float)) and value > 0:
            return
        if kind == "lognormal" and _numbers(value, 2) and value[0] > 0 and value[1] >= 0:
            return
        if kind == "uniform" and _numbers(value, 2) and 0 <= value[0] <= value[1]:
            return
        if kind == "triangular" and _numbers(value, 3) and 0 <= value[0] <= value[1] <= value[2]:
            return
    raise ScenarioError(f"{where}: a duration is minutes (a number) or one of {{exponential = mean}}, "
                        "{lognormal = [median, sigma]}, {uniform = [a, b]}, {triangular = [low, mode, high]}")


def check_value(spec: Any, where: str) -> None:
    if not isinstance(spec, dict):
        return  # a constant
    kinds = set(spec) - {"weights", "min", "max"}
    if len(kinds) != 1 or set(spec) - SPEC_KEYS:
        raise ScenarioError(f"{where}: a value spec has exactly one of choice, probability, int, uniform, "
                            "normal, pattern, same_as, days_from_now")
    kind = kinds.pop()
    value = spec[kind]
    ok = {
        "choice": isinstance(value, list) and value and (
            "weights" not in spec or (_numbers(spec["weights"], len(value)) and sum(spec["weights"]) > 0)),
        "probability": isinstance(value, (int, float)) and 0 <= value <= 1,
        "int": _numbers(value, 2) and value[0] <= value[1],
        "uniform": _numbers(value, 2) and value[0] <= value[1],
        "normal": _numbers(value, 2) and value[1] >= 0,
        "pattern": isinstance(value, str),
        "same_as": isinstance(value, str),
        "days_from_now": (isinstance(value, int) and not isinstance(value, bool)) or _numbers(value, 2),
    }.get(kind, False)
    if not ok:
        raise ScenarioError(f"{where}: {kind} = {value!r} is not a valid value spec")


# --- sampling --------------------------------------------------------------------------------

@dataclass
class CaseContext:
    """What a value spec may refer to: the case number, the virtual date, values entered so far."""

    case: int
    today: date
    entered: dict[str, Any]


def sample_minutes(spec: Any, rng: random.Random) -> float:
    if not isinstance(spec, dict):
        return float(spec)
    (kind, value), = spec.items()
    if kind == "exponential":
        return rng.expovariate(1.0 / value)
    if kind == "lognormal":
        return rng.lognormvariate(math.log(value[0]), value[1])
    if kind == "uniform":
        return rng.uniform(value[0], value[1])
    return rng.triangular(value[0], value[2], value[1])


def sample_value(spec: Any, rng: random.Random, case: CaseContext) -> Any:
    if not isinstance(spec, dict):
        return spec
    if "choice" in spec:
        return rng.choices(spec["choice"], weights=spec.get("weights"))[0]
    if "probability" in spec:
        return rng.random() < spec["probability"]
    if "int" in spec:
        return rng.randint(int(spec["int"][0]), int(spec["int"][1]))
    if "uniform" in spec:
        return round(rng.uniform(*spec["uniform"]), 2)
    if "normal" in spec:
        value = rng.gauss(*spec["normal"])
        if "min" in spec:
            value = max(value, spec["min"])
        if "max" in spec:
            value = min(value, spec["max"])
        return round(value, 2)
    if "pattern" in spec:
        return spec["pattern"].format(case=case.case, rand=rng.randint(100000, 999999))
    if "same_as" in spec:
        return case.entered.get(spec["same_as"])
    days = spec["days_from_now"]
    offset = days if isinstance(days, int) else rng.randint(int(days[0]), int(days[1]))
    return (case.today + timedelta(days=offset)).isoformat()


def form_values(form: list[dict[str, Any]], plan: TaskPlan, rng: random.Random, case: CaseContext) -> dict[str, Any]:
    """Values for every editable field of `form`: the scenario's where it has one, else valid random ones."""
    values: dict[str, Any] = {}
    for spec_field in form:
        if spec_field.get("readonly"):
            continue
        name = spec_field["id"]
        if name in plan.fields:
            value = sample_value(plan.fields[name], rng, case)
            if value is None:
                value = random_field_value(spec_field, rng, case)
        else:
            value = random_field_value(spec_field, rng, case)
        values[name] = value
    return values


def random_field_value(spec_field: dict[str, Any], rng: random.Random, case: CaseContext) -> Any:
    """A value the form accepts (type, options, min/max, lengths)."""
    kind = spec_field.get("type")
    if kind == "enum":
        options = [o["id"] for o in spec_field.get("options", [])]
        return rng.choice(options) if options else None
    if kind == "boolean":
        return rng.random() < 0.5
    if kind in ("long", "double", "decimal"):
        low = float(spec_field["min"]) if spec_field.get("min") is not None else 0.0
        high = float(spec_field["max"]) if spec_field.get("max") is not None else max(low, 0.0) + 100.0
        if kind == "long":
            return rng.randint(math.ceil(low), math.floor(high))
        return round(rng.uniform(low, high), 2)
    if kind == "date":
        return (case.today + timedelta(days=rng.randint(1, 60))).isoformat()
    text = f"simulated {spec_field.get('label') or spec_field['id']} {case.case}-{rng.randint(1000, 9999)}"
    shortest = int(spec_field.get("minlength") or 0)
    longest = int(spec_field.get("maxlength") or 200)
    if len(text) < shortest:
        text += "." * (shortest - len(text))
    return text[:longest]
