"""Scenario files: checked with messages naming file and key, `extends`, and sampling."""
from __future__ import annotations

import random
from datetime import date
from pathlib import Path

import pytest

from engine.analytics import scenario as sc
from engine.bpmn import forms

LIBRARY = Path(__file__).resolve().parents[3] / "processes"


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_scenario_extends_another_and_overrides_what_it_names(tmp_path):
    write(tmp_path, "base.toml", '[scenario]\nprocess = "p"\narrivals_per_day = 4\n[staff]\na = 1\nb = 2\n'
          '[tasks.t]\nminutes = 10\n[tasks.t.fields]\nx = { choice = [1, 2] }\ny = 3\n')
    child = write(tmp_path, "child.toml", '[scenario]\nprocess = "p"\nextends = "base"\n[staff]\nb = 5\n'
                  '[tasks.t.fields]\nx = 7\n')
    loaded = sc.load_scenario(child)
    assert loaded.arrivals_per_day == 4 and loaded.staff == {"a": 1, "b": 5}
    assert loaded.tasks["t"].fields == {"x": 7, "y": 3} and loaded.tasks["t"].duration == 10


@pytest.mark.parametrize("text, message", [
    ('[scenario]\nname = "x"\n', "needs a \\[scenario\\] table with process"),
    ('[scenario]\nprocess = "p"\nspeed = 1\n', "unknown key\\(s\\) in \\[scenario\\]: speed"),
    ('[scenario]\nprocess = "p"\n[staff]\na = -1\n', "staff.a must be"),
    ('[scenario]\nprocess = "p"\n[tasks.t]\nhours = 1\nminutes = 2\n', "minutes or hours, not both"),
    ('[scenario]\nprocess = "p"\n[tasks.t.fields]\nx = { choice = [1, 2], weights = [1] }\n', "tasks.t.fields.x"),
    ('[scenario]\nprocess = "p"\n[start]\nx = { int = [5, 1] }\n', "start.x: int"),
    ('[scenario]\nprocess = "p"\nextends = "missing"\n', "extends 'missing'"),
    ('[scenario\n', "not valid TOML"),
])
def test_mistakes_are_refused_with_the_file_and_the_key(tmp_path, text, message):
    with pytest.raises(sc.ScenarioError, match=message):
        sc.load_scenario(write(tmp_path, "s.toml", text))


def test_extends_in_a_circle_is_refused(tmp_path):
    write(tmp_path, "a.toml", '[scenario]\nprocess = "p"\nextends = "b"\n')
    write(tmp_path, "b.toml", '[scenario]\nprocess = "p"\nextends = "a"\n')
    with pytest.raises(sc.ScenarioError, match="circle"):
        sc.load_scenario(tmp_path / "a.toml")


def test_value_specs_sample_what_they_say():
    rng = random.Random(1)
    case = sc.CaseContext(7, date(2026, 3, 2), {"amount": 5000})
    assert sc.sample_value({"pattern": "C-{case:04d}"}, rng, case) == "C-0007"
    assert sc.sample_value({"same_as": "amount"}, rng, case) == 5000
    assert sc.sample_value({"days_from_now": 30}, rng, case) == "2026-04-01"
    assert sc.sample_value({"choice": ["a", "b"], "weights": [0, 1]}, rng, case) == "b"
    assert all(1 <= sc.sample_value({"int": [1, 3]}, rng, case) <= 3 for _ in range(50))
    assert sc.sample_value({"normal": [10, 100], "min": 0, "max": 12}, rng, case) <= 12
    share = sum(sc.sample_value({"probability": 0.8}, rng, case) for _ in range(2000)) / 2000
    assert 0.75 < share < 0.85
    minutes = [sc.sample_minutes({"lognormal": [60, 0.5]}, rng) for _ in range(2000)]
    assert 55 < sorted(minutes)[1000] < 65
    assert sc.sample_minutes(12, rng) == 12.0


def test_generated_form_values_pass_the_engine_form_check():
    form = [
        {"id": "name", "type": "string", "minlength": "30", "maxlength": "40", "required": True},
        {"id": "amount", "type": "long", "min": "1000", "max": "2000", "required": True},
        {"id": "rate", "type": "double", "min": "0", "max": "24"},
        {"id": "ok", "type": "boolean", "required": True},
        {"id": "when", "type": "date"},
        {"id": "kind", "type": "enum", "options": [{"id": "a", "name": "A"}, {"id": "b", "name": "B"}]},
        {"id": "shown", "type": "string", "readonly": True},
    ]
    rng = random.Random(3)
    plan = sc.TaskPlan(10, {"kind": "b"})
    for number in range(30):
        values = sc.form_values(form, plan, rng, sc.CaseContext(number, date(2026, 3, 2), {}))
        assert "shown" not in values and values["kind"] == "b"
        forms.validate(form, values)


def test_the_default_scenarios_of_the_library_are_valid():
    paths = sorted((LIBRARY / "scenarios").glob("*.toml"))
    assert {p.stem for p in paths} == {p.stem for p in LIBRARY.glob("*.bpmn")}
    for path in paths:
        loaded = sc.load_scenario(path, LIBRARY)
        assert loaded.process == path.stem and loaded.arrivals_per_day > 0
