"""Camunda 7 (JUEL) and Camunda 8 (FEEL) conditions route exactly like their Python twins."""
from __future__ import annotations

import pytest

from engine.services import deployments, instances, tasks
from engine.bpmn.intake import SourceFile
from engine.errors import DeployError

PYTHON_CONDITION = b"amount &gt; 10000 or risk == 'high'"
TWINS = {
    "juel": b"${amount &gt; 10000 || risk == 'high'}",
    "juel_words": b"#{amount gt 10000 or risk eq 'high'}",
    "feel": b'=amount &gt; 10000 or risk = "high"',
}


def variant(fixture_path, condition: bytes, key: str) -> SourceFile:
    content = fixture_path("two_lane_review.bpmn").read_bytes()
    assert PYTHON_CONDITION in content
    content = content.replace(PYTHON_CONDITION, condition).replace(b'id="loan_review"', f'id="{key}"'.encode())
    return SourceFile(f"{key}.bpmn", content)


def route(ctx, key: str, amount: int, score: int) -> str:
    case = instances.start(ctx, key, user="olga")
    [capture] = tasks.list_tasks(ctx, instance_id=case.id)
    tasks.claim(ctx, capture.id, "olga")
    tasks.complete(ctx, capture.id, "olga", {"amount": amount, "score": score})
    waiting = tasks.list_tasks(ctx, instance_id=case.id)
    return waiting[0].element_id if waiting else "auto"


@pytest.mark.parametrize("dialect", sorted(TWINS))
def test_dialect_routes_like_python(ctx, staff, fixture_path, dialect):
    deployments.deploy(ctx, [variant(fixture_path, PYTHON_CONDITION, "python_twin"),
                             variant(fixture_path, TWINS[dialect], f"{dialect}_twin")])
    for amount in (9000, 10000, 10001, 60000):
        for score in (600, 649, 650, 700):
            expected = route(ctx, "python_twin", amount, score)
            assert route(ctx, f"{dialect}_twin", amount, score) == expected, (amount, score)
            assert expected == ("approve" if amount > 10000 or score < 650 else "auto")


def test_untranslatable_condition_is_a_deploy_error_naming_the_flow(ctx, fixture_path):
    with pytest.raises(DeployError) as caught:
        deployments.deploy(ctx, [variant(fixture_path, b"${execution.getVariable('amount') &gt; 5}", "bad")])
    [problem] = caught.value.deploy_problems
    assert problem.file == "bad.bpmn" and problem.element == "f_manual" and problem.line
    assert "execution.getVariable" in problem.message
