"""Who may start a case of a process (engine.policy.cases.may_start), on plain records."""
from __future__ import annotations

from dataclasses import dataclass

from engine.policy.cases import may_start
from engine.policy.roles import OPERATOR, ROLES
from engine.records.users import Actor


@dataclass(frozen=True)
class Process:
    starter_groups: tuple[str, ...] = ()
    starter_users: tuple[str, ...] = ()


def person(name: str, *groups: str, roles: tuple[str, ...] = ("staff",)) -> Actor:
    return Actor(name=name, roles=frozenset(roles), groups=frozenset(groups))


OLGA = person("olga", "credit_officers")
CARA = person("cara", "complaints")
MONA = person("mona", "credit_managers", roles=("manager",))
ADA = person("ada", roles=("admin",))
RESTRICTED = Process(starter_groups=("credit_officers",), starter_users=("cara",))


def test_a_process_naming_no_starters_may_be_started_by_anyone():
    assert all(may_start(actor, Process()) for actor in (OLGA, CARA, MONA, ADA))


def test_a_process_naming_starters_is_for_its_groups_members_and_its_users():
    assert may_start(OLGA, RESTRICTED)  # a member of a starter group
    assert may_start(CARA, RESTRICTED)  # a starter user
    assert not may_start(person("sam", "branch_staff"), RESTRICTED)


def test_managers_and_admins_are_starters_only_where_named():
    assert not may_start(MONA, RESTRICTED) and not may_start(ADA, RESTRICTED)
    assert may_start(MONA, Process(starter_groups=("credit_managers",)))
    assert may_start(ADA, Process(starter_users=("ada",)))


def test_the_local_operator_may_start_every_process():
    operator = Actor(name=OPERATOR, roles=frozenset(ROLES), groups=frozenset())
    assert may_start(operator, RESTRICTED) and may_start(operator, Process(starter_users=("nobody",)))
