"""The two benchmark workloads: their BPMN files, inputs and the people who work the human steps.

Inputs are drawn from a seeded generator before any timing starts, so every
backend (and bare SpiffWorkflow) runs the same cases and generation costs nothing
in the measured loops.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

WORKLOADS = Path(__file__).parent / "workloads"
STRAIGHT_FILE = WORKLOADS / "straight_through.bpmn"
HUMAN_FILE = WORKLOADS / "human_review.bpmn"
STRAIGHT_KEY = "bench_straight_through"
HUMAN_KEY = "bench_human_review"

SEGMENTS = ("retail", "premier", "private")
PRODUCTS = ("current", "savings")


class BenchFailure(RuntimeError):
    """A workload did not end as it must; its figures would be meaningless."""


@dataclass(frozen=True)
class Person:
    """A bench user and the candidate group that lets them work one human step."""

    name: str
    group: str


STARTER = Person("fiona", "front_office")
PEOPLE = (STARTER, Person("carl", "compliance"), Person("bruno", "branch_managers"))


@dataclass(frozen=True)
class HumanStep:
    """One user task of the human workload: who works it and what they submit."""

    element_id: str
    person: Person
    data: dict[str, Any]


@dataclass(frozen=True)
class HumanCase:
    """One instance of the human workload: start variables and the three submissions in order."""

    variables: dict[str, Any]
    steps: tuple[HumanStep, ...]


def straight_inputs(count: int, rng: random.Random) -> list[dict[str, Any]]:
    """Loan applications spread so that the gateway takes all three branches."""
    return [
        {
            "amount": rng.randrange(1_000, 60_000, 250),
            "monthly_income": rng.randrange(1_500, 9_000, 50),
            "missed_payments": rng.choice((0, 0, 0, 1, 2, 3)),
            "tenure_years": rng.randrange(0, 20),
            "score": rng.randrange(520, 820),
            "segment": rng.choice(SEGMENTS),
            "term_months": rng.choice((24, 36, 60, 84)),
        }
        for _ in range(count)
    ]


def human_cases(count: int, rng: random.Random) -> list[HumanCase]:
    """Account-opening requests with a valid submission for each of the three forms."""
    front, compliance, manager = PEOPLE
    return [
        HumanCase(
            variables={"customer_id": f"C-{rng.randrange(10**6):06d}", "channel": rng.choice(("branch", "web"))},
            steps=(
                HumanStep("capture", front, {"opening_deposit": rng.randrange(0, 5_000),
                                             "product": rng.choice(PRODUCTS)}),
                HumanStep("kyc_check", compliance, {"documents_ok": True, "kyc_note": "passport and utility bill"}),
                HumanStep("approve", manager, {"approved": rng.random() < 0.9,
                                               "overdraft_limit": rng.randrange(0, 5_001, 500)}),
            ),
        )
        for _ in range(count)
    ]
